#include "site/catalog.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pgxn::site {

Catalog::Catalog(SiteSources sources) : sources_(std::move(sources)) {}

absl::StatusOr<nlohmann::json> Catalog::Json(absl::string_view path) const {
  absl::StatusOr<gateway::TreeFile> file = sources_.tree->ReadFile(path);
  if (!file.ok()) return file.status();
  nlohmann::json doc = nlohmann::json::parse(file->content, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InternalError(absl::StrCat(path, " is not JSON"));
  // Every document the pages read is an object (users/L.json a list of them).
  if (!doc.is_object() && !doc.is_array()) {
    return absl::InternalError(absl::StrCat(path, " is not a JSON object"));
  }
  return doc;
}

absl::StatusOr<std::string> Catalog::Text(absl::string_view path) const {
  absl::StatusOr<gateway::TreeFile> file = sources_.tree->ReadFile(path);
  if (!file.ok()) return file.status();
  return std::move(file->content);
}

absl::StatusOr<uint64_t> Catalog::FileSize(absl::string_view path) const {
  absl::StatusOr<replica::StoredFile> file = sources_.store->GetFile(path);
  if (!file.ok()) return file.status();
  return file->size;
}

absl::StatusOr<std::shared_ptr<const std::vector<TagUse>>> Catalog::AllTags() const {
  const uint64_t seq = Seq();
  {
    absl::MutexLock lock(&mu_);
    if (tags_ != nullptr && tags_seq_ == seq) return tags_;
  }
  // Computed outside the lock: two threads may both read the tag files once
  // after a new seq, which costs less than making every reader wait.
  std::vector<std::string> paths;
  absl::Status listed = sources_.store->ForEachFile(
      [&paths](absl::string_view path, const replica::StoredFile&) {
        if (!absl::StartsWith(path, "tag/")) return false;
        if (absl::EndsWith(path, ".json")) paths.emplace_back(path);
        return true;
      },
      "tag/");
  if (!listed.ok()) return listed;
  auto tags = std::make_shared<std::vector<TagUse>>();
  tags->reserve(paths.size());
  for (const std::string& path : paths) {
    absl::StatusOr<nlohmann::json> doc = Json(path);
    if (!doc.ok()) {
      if (absl::IsNotFound(doc.status())) continue;  // removed since listed
      return doc.status();
    }
    TagUse use;
    if (doc->contains("tag") && (*doc)["tag"].is_string()) use.tag = (*doc)["tag"];
    if (doc->contains("releases") && (*doc)["releases"].is_object()) {
      use.dists = static_cast<int>((*doc)["releases"].size());
    }
    if (!use.tag.empty()) tags->push_back(std::move(use));
  }
  std::sort(tags->begin(), tags->end(), [](const TagUse& a, const TagUse& b) {
    return absl::AsciiStrToLower(a.tag) < absl::AsciiStrToLower(b.tag);
  });
  absl::MutexLock lock(&mu_);
  tags_ = std::move(tags);
  tags_seq_ = seq;
  return tags_;
}

}  // namespace pgxn::site
