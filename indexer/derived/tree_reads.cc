#include "indexer/derived/tree_reads.h"

#include "absl/strings/str_cat.h"
#include "indexer/derived/version_order.h"
#include "indexer/docs/tree_layout.h"

namespace pgxn::indexer {

using Json = nlohmann::json;

std::string ReadTreeText(const replica::Store& store, absl::string_view path) {
  absl::StatusOr<replica::StoredFile> file = store.GetFile(path);
  if (!file.ok()) return "";
  absl::StatusOr<std::string> content = store.GetBlob(file->sha256, file->size);
  return content.ok() ? *std::move(content) : "";
}

Json ReadTreeJson(const replica::Store& store, absl::string_view path) {
  absl::StatusOr<replica::StoredFile> file = store.GetFile(path);
  if (!file.ok()) return Json(Json::value_t::discarded);
  absl::StatusOr<std::string> content = store.GetBlob(file->sha256, file->size);
  if (!content.ok()) return Json(Json::value_t::discarded);
  return Json::parse(*content, nullptr, /*allow_exceptions=*/false);
}

std::string NewestVersion(const Json& dist_file) {
  std::string version, date;
  auto releases = dist_file.is_object() ? dist_file.find("releases") : dist_file.end();
  if (!dist_file.is_object() || releases == dist_file.end() || !releases->is_object()) return "";
  for (const auto& [status, list] : releases->items()) {
    if (!list.is_array()) continue;
    for (const Json& release : list) {
      if (!release.is_object()) continue;
      const std::string v = JsonString(release, "version"), d = JsonString(release, "date");
      if (v.empty()) continue;
      if (version.empty() || d > date || (d == date && VersionBefore(version, v))) {
        version = v;
        date = d;
      }
    }
  }
  return version;
}

std::string NewestReleaseDir(const replica::Store& store, const std::string& dist) {
  const std::string version =
      NewestVersion(ReadTreeJson(store, absl::StrCat("dist/", dist, ".json")));
  return version.empty() ? "" : ReleaseDir(dist, version);
}

}  // namespace pgxn::indexer
