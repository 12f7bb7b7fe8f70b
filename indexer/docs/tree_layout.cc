#include "indexer/docs/tree_layout.h"

#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pgxn::indexer {

bool IsReleaseMeta(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  return parts.size() == 4 && parts[0] == "dist" && parts[3] == "META.json";
}

std::string ReleaseDirOf(absl::string_view meta_path) {
  return std::string(meta_path.substr(0, meta_path.size() - std::strlen("META.json")));
}

std::string ReleaseDir(absl::string_view dist, absl::string_view version) {
  return absl::StrCat("dist/", absl::AsciiStrToLower(dist), "/", absl::AsciiStrToLower(version),
                      "/");
}

std::string ZipPath(const std::string& dir, const nlohmann::json& meta) {
  return absl::StrCat(dir, absl::AsciiStrToLower(JsonString(meta, "name")), "-",
                      absl::AsciiStrToLower(JsonString(meta, "version")), ".zip");
}

std::string NameIn(absl::string_view path, absl::string_view dir) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.size() != 2 || parts[0] != dir || !absl::EndsWith(parts[1], ".json")) return "";
  return std::string(parts[1].substr(0, parts[1].size() - 5));
}

std::string JsonString(const nlohmann::json& doc, const char* key) {
  if (!doc.is_object()) return "";
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace pgxn::indexer
