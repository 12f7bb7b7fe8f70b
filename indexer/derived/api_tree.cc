#include "indexer/derived/api_tree.h"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/digest.h"

namespace pgxn::indexer {
namespace {

constexpr size_t kHashBytes = 32;
constexpr size_t kHeaderBytes = kHashBytes + 8;

// "dist/pair.json" for "dist/pair/0.1.0/META.json"; "" for any other path.
std::string DistFileOf(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.size() != 4 || parts[0] != "dist" || parts[3] != "META.json") return "";
  return absl::StrCat("dist/", parts[1], ".json");
}

std::string MediaTypeOf(absl::string_view path) {
  if (absl::EndsWith(path, ".json")) return "application/json";
  if (absl::EndsWith(path, ".html")) return "text/html; charset=utf-8";
  return "text/plain; charset=utf-8";
}

}  // namespace

std::string EncodeDerived(absl::string_view content, int64_t time_us) {
  std::string out = base::Sha256(content);
  uint64_t time = static_cast<uint64_t>(time_us);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(time >> shift));
  out.append(content.data(), content.size());
  return out;
}

absl::string_view DerivedContent(absl::string_view value) {
  return value.size() < kHeaderBytes ? absl::string_view() : value.substr(kHeaderBytes);
}

std::string SourceIndexKey(absl::string_view release_dir) {
  return absl::StrCat(kPrivateDerivedPrefix, "source/", release_dir);
}

absl::StatusOr<gateway::TreeFile> ApiTree::ReadFile(absl::string_view path) const {
  return Read(path, /*open=*/false);
}

absl::StatusOr<gateway::TreeFile> ApiTree::OpenFile(absl::string_view path) const {
  return Read(path, /*open=*/true);
}

absl::StatusOr<gateway::TreeFile> ApiTree::Read(absl::string_view path, bool open) const {
  if (absl::StartsWith(path, kPrivateDerivedPrefix)) {
    return open ? tree_.OpenFile(path) : tree_.ReadFile(path);
  }
  absl::StatusOr<std::string> value = store_->GetDerived(path);
  if (absl::IsNotFound(value.status())) return open ? tree_.OpenFile(path) : tree_.ReadFile(path);
  if (!value.ok()) return value.status();
  if (value->size() < kHeaderBytes) {
    return absl::DataLossError(absl::StrCat("Derived document ", path, " is truncated"));
  }
  gateway::TreeFile file;
  file.sha256_hex = base::HexEncode(value->substr(0, kHashBytes));
  uint64_t time_us = 0;
  for (size_t i = kHashBytes; i < kHeaderBytes; ++i) {
    time_us = (time_us << 8) | static_cast<unsigned char>((*value)[i]);
  }
  file.modified_unix_seconds = static_cast<int64_t>(time_us / 1'000'000);
  file.media_type = MediaTypeOf(path);
  file.content = value->substr(kHeaderBytes);
  if (std::string dist_path = DistFileOf(path); !dist_path.empty()) {
    // A release's META is served with its dist's current `releases`, as
    // PGXN's API does; the stored document is the same for every state of
    // the dist, so that a rebuild derives it identically.
    absl::StatusOr<gateway::TreeFile> dist = tree_.ReadFile(dist_path);
    if (!dist.ok() && !absl::IsNotFound(dist.status())) return dist.status();
    if (dist.ok()) {
      nlohmann::json meta = nlohmann::json::parse(file.content, nullptr, false);
      const nlohmann::json dist_file = nlohmann::json::parse(dist->content, nullptr, false);
      if (meta.is_object() && dist_file.is_object() && dist_file.contains("releases")) {
        meta["releases"] = dist_file["releases"];
        file.content = meta.dump(3);
        file.sha256_hex = base::Sha256Hex(file.content);
        file.modified_unix_seconds =
            std::max(file.modified_unix_seconds, dist->modified_unix_seconds);
      }
    }
  }
  return file;
}

absl::Status ApiTree::ForEachFile(
    const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit) const {
  return tree_.ForEachFile(visit);
}

}  // namespace pgxn::indexer
