#include "indexer/derived/derived_documents.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/log.h"
#include "indexer/derived/api_documents.h"
#include "indexer/derived/api_tree.h"
#include "indexer/derived/tree_reads.h"
#include "indexer/docs/tree_layout.h"

namespace pgxn::indexer {

using Json = nlohmann::json;

void DerivedDocuments::PutRelease(const std::string& dir, const Json& meta,
                                  const ReleaseFiles& files) {
  // Pages of a previous rendering of this release that it no longer has.
  DeleteReleasePages(dir, &files);
  for (const ReleaseDoc& doc : files.docs) Put(dir + doc.docpath + ".html", doc.html);
  // Without `releases`: that list changes with every release of the dist,
  // so ApiTree adds it from the dist file when the META is served.
  Put(dir + "META.json", EnrichRelease(meta, files).dump(3));
  // What /src/ lists and serves the archive from; without one (an archive
  // that could not be read) it reads the archive itself.
  if (files.source_index.empty()) {
    Delete(SourceIndexKey(dir));
  } else {
    Put(SourceIndexKey(dir), files.source_index);
  }
}

void DerivedDocuments::DeleteRelease(const std::string& dir) {
  DeleteReleasePages(dir, nullptr);
  Delete(SourceIndexKey(dir));
}

void DerivedDocuments::DeleteReleasePages(const std::string& dir, const ReleaseFiles* keep) {
  const Json previous = Read(dir + "META.json");
  if (keep == nullptr) Delete(dir + "META.json");
  if (!previous.is_object()) return;
  auto docs = previous.find("docs");
  if (docs == previous.end() || !docs->is_object()) return;
  for (const auto& [docpath, info] : docs->items()) {
    if (keep != nullptr && absl::c_any_of(keep->docs, [&, &docpath = docpath](const ReleaseDoc& d) {
          return d.docpath == docpath;
        })) {
      continue;
    }
    Delete(dir + docpath + ".html");
  }
}

void DerivedDocuments::NoteTopFile(const std::string& path, int64_t time_us) {
  top_files_[path] = time_us;
}

void DerivedDocuments::DeriveTopFiles() {
  std::vector<std::pair<std::string, int64_t>> files(top_files_.begin(), top_files_.end());
  top_files_.clear();
  auto rank = [](const std::string& path) { return NameIn(path, "dist").empty() ? 1 : 0; };
  std::sort(files.begin(), files.end(), [&](const auto& a, const auto& b) {
    return std::make_pair(rank(a.first), a.first) < std::make_pair(rank(b.first), b.first);
  });
  const int64_t batch_time_us = time_us_;
  for (const auto& [path, time_us] : files) {
    absl::StatusOr<replica::StoredFile> stored = store_->GetFile(path);
    if (!stored.ok() && !absl::IsNotFound(stored.status())) {
      base::LogWarning(absl::StrCat("Cannot read ", path, ": ", stored.status().message()));
      continue;
    }
    // Dated by the event that last changed the file, as the tree dates it.
    time_us_ = stored.ok() ? stored->time_us : time_us;
    const bool put = stored.ok();
    if (!NameIn(path, "user").empty()) {
      DeriveUser(path, put);
    } else if (!NameIn(path, "dist").empty()) {
      DeriveDist(path, put);
    } else if (!NameIn(path, "extension").empty()) {
      DeriveExtension(path, put);
    } else {
      DeriveTag(path, put);
    }
  }
  time_us_ = batch_time_us;
}

void DerivedDocuments::DeriveDist(const std::string& path, bool put) {
  if (!put) {
    abstracts_.erase(NameIn(path, "dist"));
    Delete(path);
    return;
  }
  const Json dist_file = ReadTreeJson(*store_, path);
  if (!dist_file.is_object()) return;
  const std::string version = ShownVersion(dist_file);
  const Json release = version.empty()
                           ? Json(Json::value_t::discarded)
                           : Read(ReleaseDir(JsonString(dist_file, "name"), version) + "META.json");
  const Json enriched = EnrichDist(dist_file, release);
  abstracts_[absl::AsciiStrToLower(JsonString(dist_file, "name"))] =
      JsonString(enriched, "abstract");
  Put(path, enriched.dump(3));
}

void DerivedDocuments::DeriveExtension(const std::string& path, bool put) {
  if (!put) {
    Delete(path);
    return;
  }
  Json file = ReadTreeJson(*store_, path);
  if (!file.is_object()) return;
  Json enriched =
      EnrichExtension(std::move(file), [&](const std::string& dist, const std::string& version) {
        return Read(ReleaseDir(dist, version) + "META.json");
      });
  Put(path, enriched.dump(3));
}

std::string DerivedDocuments::DistAbstract(const std::string& dist) {
  const std::string key = absl::AsciiStrToLower(dist);
  if (auto it = abstracts_.find(key); it != abstracts_.end()) return it->second;
  std::string abstract = JsonString(Read(absl::StrCat("dist/", key, ".json")), "abstract");
  abstracts_[key] = abstract;
  return abstract;
}

void DerivedDocuments::DeriveUser(const std::string& path, bool put) {
  // The user list is keyed by the file's name: a deleted file has no content
  // to read the nickname from.
  const std::string nickname = NameIn(path, "user");
  const std::string list_path = UserListPath(nickname);
  Json file = put ? ReadTreeJson(*store_, path) : Json(Json::value_t::discarded);
  if (!file.is_object()) {
    Delete(path);
    Put(list_path, UpdateUserList(Read(list_path), nickname, absl::nullopt).dump(3));
    return;
  }
  const std::string name = JsonString(file, "name");
  const std::string nick =
      JsonString(file, "nickname").empty() ? nickname : JsonString(file, "nickname");
  Put(path, EnrichReleaseLists(std::move(file), [this](const std::string& dist) {
              return DistAbstract(dist);
            }).dump(3));
  Put(list_path, UpdateUserList(Read(list_path), nick, name).dump(3));
}

void DerivedDocuments::DeriveTag(const std::string& path, bool put) {
  Json file = put ? ReadTreeJson(*store_, path) : Json(Json::value_t::discarded);
  if (!file.is_object()) {
    Delete(path);
    return;
  }
  Put(path, EnrichReleaseLists(std::move(file), [this](const std::string& dist) {
              return DistAbstract(dist);
            }).dump(3));
}

Json DerivedDocuments::Read(const std::string& path) const {
  if (auto it = pending_.find(path); it != pending_.end()) {
    if (!it->second.has_value()) return Json(Json::value_t::discarded);
    return Json::parse(DerivedContent(*it->second), nullptr, /*allow_exceptions=*/false);
  }
  if (start_over_) return Json(Json::value_t::discarded);
  absl::StatusOr<std::string> value = store_->GetDerived(path);
  if (!value.ok()) return Json(Json::value_t::discarded);
  return Json::parse(DerivedContent(*value), nullptr, /*allow_exceptions=*/false);
}

void DerivedDocuments::Put(const std::string& path, absl::string_view content) {
  if (path.empty()) return;
  std::string value =
      EncodeDerived(content, time_us_ != 0 ? time_us_ : absl::ToUnixMicros(absl::Now()));
  pending_bytes_ += value.size() + path.size();
  pending_[path] = std::move(value);
}

void DerivedDocuments::Delete(const std::string& path) {
  if (path.empty()) return;
  pending_bytes_ += path.size();
  pending_[path] = absl::nullopt;
}

void DerivedDocuments::StartOver() {
  Drop();
  start_over_ = true;
}

absl::Status DerivedDocuments::Commit(uint64_t seq) {
  std::vector<replica::Store::DerivedChange> changes;
  changes.reserve(pending_.size());
  for (auto& [path, value] : pending_) changes.emplace_back(path, std::move(value));
  absl::Status s = store_->WriteDerived(changes, seq, start_over_);
  if (s.ok()) {
    ClearBuffer();
  } else {
    Drop();
  }
  return s;
}

void DerivedDocuments::Drop() {
  abstracts_.clear();  // it may hold abstracts of dropped documents
  top_files_.clear();
  ClearBuffer();
}

void DerivedDocuments::ClearBuffer() {
  pending_.clear();
  pending_bytes_ = 0;
  start_over_ = false;
}

}  // namespace pgxn::indexer
