#include "indexer/indexer.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/algorithm/container.h"
#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "gateway/status_http.h"
#include "indexer/api_tree.h"
#include "indexer/search_handler.h"
#include "indexer/source_handler.h"
#include "indexer/version_order.h"

namespace pgxn::indexer {
namespace {

using Json = nlohmann::json;

// The file at `path` in the store, parsed; a discarded value if absent or not JSON.
Json ReadJson(const replica::Store& store, absl::string_view path) {
  absl::StatusOr<replica::StoredFile> file = store.GetFile(path);
  if (!file.ok()) return Json(Json::value_t::discarded);
  absl::StatusOr<std::string> content = store.GetBlob(file->sha256);
  if (!content.ok()) return Json(Json::value_t::discarded);
  return Json::parse(*content, nullptr, /*allow_exceptions=*/false);
}

std::string ReadText(const replica::Store& store, absl::string_view path) {
  absl::StatusOr<replica::StoredFile> file = store.GetFile(path);
  if (!file.ok()) return "";
  absl::StatusOr<std::string> content = store.GetBlob(file->sha256);
  return content.ok() ? *std::move(content) : "";
}

std::string Str(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

// "user/theory.json" → "theory"; "" if `path` is not DIR/NAME.json.
std::string NameIn(absl::string_view path, absl::string_view dir) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (parts.size() != 2 || parts[0] != dir || !absl::EndsWith(parts[1], ".json")) return "";
  return std::string(parts[1].substr(0, parts[1].size() - 5));
}

// "dist/pair/0.1.0/META.json" → true.
bool IsReleaseMeta(absl::string_view path) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  return parts.size() == 4 && parts[0] == "dist" && parts[3] == "META.json";
}

// The version of the newest release a dist/D.json lists: the latest date,
// then the highest version. "" if it lists none.
std::string NewestVersion(const Json& dist) {
  std::string version, date;
  auto releases = dist.find("releases");
  if (releases == dist.end() || !releases->is_object()) return "";
  for (const auto& [status, list] : releases->items()) {
    if (!list.is_array()) continue;
    for (const Json& release : list) {
      if (!release.is_object()) continue;
      const std::string v = Str(release, "version"), d = Str(release, "date");
      if (v.empty()) continue;
      if (version.empty() || d > date || (d == date && VersionBefore(version, v))) {
        version = v;
        date = d;
      }
    }
  }
  return version;
}

// dist/pair/0.1.0/ of dist/pair/0.1.0/META.json.
std::string ReleaseDirOf(absl::string_view meta_path) {
  return std::string(meta_path.substr(0, meta_path.size() - std::strlen("META.json")));
}

// The release's zip in the tree: dist/pair/0.1.0/pair-0.1.0.zip.
std::string ZipPath(const std::string& dir, const Json& meta) {
  return absl::StrCat(dir, absl::AsciiStrToLower(Str(meta, "name")), "-",
                      absl::AsciiStrToLower(Str(meta, "version")), ".zip");
}

std::string ReleaseDir(absl::string_view dist, absl::string_view version) {
  return absl::StrCat("dist/", absl::AsciiStrToLower(dist), "/", absl::AsciiStrToLower(version),
                      "/");
}

// The dir of the newest release dist/DIST.json lists in the store's tree
// (`dist` as the file is named); "" if it is gone or lists none.
std::string NewestReleaseDir(const replica::Store& store, const std::string& dist) {
  const std::string version = NewestVersion(ReadJson(store, absl::StrCat("dist/", dist, ".json")));
  return version.empty() ? "" : ReleaseDir(dist, version);
}

}  // namespace

template <typename Doc>
void Indexer::PutOrLog(const Doc& doc) {
  // A document the index refuses (an empty key) is skipped, not allowed to
  // stop the indexing of everything after it.
  if (absl::Status s = index_->Put(doc); !s.ok()) {
    base::LogWarning(absl::StrCat("Not indexed: ", s.message()));
  }
}

absl::StatusOr<std::unique_ptr<Indexer>> Indexer::Open(replica::Store* store,
                                                       const std::string& index_dir) {
  absl::StatusOr<std::unique_ptr<SearchIndex>> index = SearchIndex::Open(index_dir);
  if (!index.ok()) return index.status();
  if ((*index)->AppliedSeq() > store->Tip().seq) {
    // Only possible if the store lost events it had applied (a machine crash
    // before its log was synced): the index describes a tree the store no
    // longer has, so rebuild it from the store.
    base::LogWarning(absl::StrCat("The search index in ", index_dir, " is at seq ",
                                  (*index)->AppliedSeq(), ", ahead of the store at ",
                                  store->Tip().seq, "; rebuilding it"));
    index->reset();
    std::error_code ec;
    std::filesystem::remove_all(index_dir, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat("Cannot remove ", index_dir, ": ", ec.message()));
    }
    index = SearchIndex::Open(index_dir);
    if (!index.ok()) return index.status();
  }
  return std::unique_ptr<Indexer>(new Indexer(store, *std::move(index)));
}

Indexer::Indexer(replica::Store* store, std::unique_ptr<SearchIndex> index)
    : store_(store), index_(std::move(index)) {
  worker_ = std::thread([this] { Work(); });
}

Indexer::~Indexer() { Stop(); }

void Indexer::Stop() {
  {
    absl::MutexLock lock(&work_mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

void Indexer::OnApplied(const v1::Event& event, bool caught_up) {
  Prerender(event);
  absl::MutexLock lock(&work_mu_);
  target_ = std::max(target_, event.seq());
  commit_wanted_ = caught_up;
}

void Indexer::Prerender(const v1::Event& event) {
  // Rendering a release's docs is a good part of indexing it, and needs only
  // the event's own META and zip: done here, on the feed thread, it overlaps
  // with the indexing thread's work on earlier events.
  for (const v1::Op& op : event.ops()) {
    if (op.type() != v1::Op::PUT || !IsReleaseMeta(op.path())) continue;
    {
      // Catching up, the store runs ahead of the index: wait for room (which
      // paces this thread to the indexing one) rather than leave the
      // rendering to it; but not for long, should it be stuck.
      absl::MutexLock lock(&work_mu_);
      const bool room = work_mu_.AwaitWithTimeout(
          absl::Condition(
              +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->work_mu_) {
                return self->prerendered_.size() < kMaxPrerendered;
              },
              this),
          absl::Milliseconds(500));
      if (!room) return;  // the indexing thread renders these itself
    }
    const Json meta = Json::parse(op.content(), nullptr, /*allow_exceptions=*/false);
    if (!meta.is_object()) continue;
    const std::string dir = ReleaseDirOf(op.path());
    const std::string zip_path = ZipPath(dir, meta);
    auto zip = absl::c_find_if(event.ops(), [&](const v1::Op& o) { return o.path() == zip_path; });
    if (zip == event.ops().end() || zip->content().empty()) continue;
    absl::StatusOr<ReleaseFiles> files = ReadReleaseFiles(meta, zip->content());
    if (!files.ok()) continue;  // the indexing thread tries again, and logs why
    absl::MutexLock lock(&work_mu_);
    prerendered_[dir] = Prerendered{event.seq(), *std::move(files)};
  }
}

ReleaseFiles Indexer::TakePrerendered(const std::string& dir, const Json& meta, uint64_t seq) {
  {
    absl::MutexLock lock(&work_mu_);
    if (auto it = prerendered_.find(dir); it != prerendered_.end() && it->second.seq == seq) {
      ReleaseFiles files = std::move(it->second.files);
      prerendered_.erase(it);
      return files;
    }
  }
  return RenderRelease(dir, meta);
}

ReleaseFiles Indexer::TakeRenderedAhead(const std::string& dir, const Json& meta) {
  {
    // The renderer goes through the releases in this thread's order (every
    // one is taken, even those then skipped), so the next one is coming
    // unless it stopped.
    absl::MutexLock lock(&work_mu_);
    struct Waiting {
      Indexer* self;
      const std::string* dir;
    } waiting{this, &dir};
    work_mu_.Await(absl::Condition(
        +[](Waiting* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return !w->self->rendering_ahead_ || w->self->ahead_.contains(*w->dir);
        },
        &waiting));
    if (auto it = ahead_.find(dir); it != ahead_.end()) {
      ReleaseFiles files = std::move(it->second);
      ahead_.erase(it);
      return files;
    }
  }
  return RenderRelease(dir, meta);
}

void Indexer::OnBeforeReset() {
  absl::MutexLock lock(&work_mu_);
  paused_ = true;
  work_mu_.Await(absl::Condition(
      +[](bool* busy) { return !*busy; }, &busy_));
}

void Indexer::OnReset() {
  absl::MutexLock lock(&work_mu_);
  reset_wanted_ = true;
  paused_ = false;
  work_mu_.Await(absl::Condition(
      +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->work_mu_) {
        return !self->reset_wanted_ && !self->busy_;
      },
      this));
}

void Indexer::WaitIdle() {
  absl::MutexLock lock(&work_mu_);
  work_mu_.Await(absl::Condition(
      +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->work_mu_) {
        return self->stopping_ ||
               (!self->busy_ && !self->reset_wanted_ && self->done_ >= self->target_);
      },
      this));
}

void Indexer::Work() {
  absl::MutexLock lock(&work_mu_);
  bool failed = false;  // the last pass failed: retry after kRetryAfter
  while (true) {
    const bool woken = work_mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->work_mu_) {
              return self->stopping_ || self->reset_wanted_ ||
                     (!self->paused_ && self->target_ > self->done_);
            },
            this),
        kRetryAfter);
    if (stopping_) break;
    if (!woken) {
      if (paused_) continue;
      // Quiet: retry what failed, and commit what was indexed while the
      // upstream still announced more (it may not send it soon).
      if (failed) done_ = indexed_seq_;
      if (!failed && indexed_seq_ <= index_->AppliedSeq()) continue;
    }
    busy_ = true;
    const bool reset = reset_wanted_;
    const uint64_t target = std::max(target_, indexed_seq_);
    const bool commit = commit_wanted_ || !woken;
    work_mu_.Unlock();
    bool finished = true;
    if (reset) {
      if (absl::Status s = Rebuild(); !s.ok()) {
        DropPending();
        indexed_seq_ = DerivedFrom();
        base::LogError(absl::StrCat("Rebuilding the search index failed: ", s.ToString()));
      }
    } else {
      const bool ok = Advance(target, commit);
      failed = !ok;
      finished = !ok || indexed_seq_ >= target;
    }
    work_mu_.Lock();
    busy_ = false;
    if (reset) {
      reset_wanted_ = false;
      prerendered_.clear();
      // What was handed over before the reset is in the rebuilt index, or
      // gone with the old store (whose seqs may be past the new tip).
      target_ = done_ = indexed_seq_;
      failed = false;
      continue;
    }
    if (finished) {
      // Caught up with this target (or stuck on it, logged): wait for the
      // next event, unless more came meanwhile.
      done_ = std::max(done_, target);
    }
    // Renderings of events indexed (or skipped) by now will not be taken.
    for (auto it = prerendered_.begin(); it != prerendered_.end();) {
      if (it->second.seq <= indexed_seq_) {
        prerendered_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  // Stopping: what was indexed is committed, so a restart need not redo it.
  if (indexed_seq_ > index_->AppliedSeq() && !paused_) {
    work_mu_.Unlock();
    if (absl::Status s = Commit(indexed_seq_); !s.ok()) {
      base::LogError(absl::StrCat("Cannot commit the search index: ", s.ToString()));
    }
    work_mu_.Lock();
  }
}

bool Indexer::Advance(uint64_t target, bool commit) {
  absl::Status status = indexed_seq_ < target ? IndexStored(target) : absl::OkStatus();
  const bool at_target = indexed_seq_ >= target;
  if (status.ok() && indexed_seq_ > index_->CommittedSeq() &&
      ((commit && at_target) || indexed_seq_ >= index_->CommittedSeq() + kMaxUncommitted ||
       pending_bytes_ >= kMaxPendingBytes)) {
    // Catching up, the index applies a batch while the next is built;
    // caught up, the commit is waited for.
    status = Commit(indexed_seq_, /*exact=*/false, /*wait=*/commit && at_target);
  } else if (status.ok() && commit && at_target && index_->AppliedSeq() < index_->CommittedSeq()) {
    // Everything is handed to the index: wait for it, and learn whether the
    // batches in the background failed.
    status = index_->Commit(index_->CommittedSeq());
  }
  if (status.ok()) return true;
  // Out of step (a failed index or commit dropped buffered changes): index
  // again from the store, which has every event up to the target.
  base::LogError(absl::StrCat("Indexing up to event ", target, " failed: ", status.ToString(),
                              "; re-indexing from the store"));
  DropPending();
  if (absl::Status s = IndexTheStore(); !s.ok()) {
    base::LogError(absl::StrCat("Re-indexing failed: ", s.ToString(), "; will retry"));
    return false;
  }
  return true;
}

uint64_t Indexer::DerivedFrom() const {
  // The derived documents and the search index are committed one after the
  // other: after a crash between the two, the lower one says where to resume
  // (re-deriving an event is harmless: everything is recomputed from the
  // store's current tree).
  return std::min(index_->AppliedSeq(), store_->DerivedSeq());
}

absl::Status Indexer::CatchUp() {
  // The indexing thread may wake up on its own (kRetryAfter) meanwhile: it
  // must not index at the same time.
  {
    absl::MutexLock lock(&work_mu_);
    paused_ = true;
    work_mu_.Await(absl::Condition(
        +[](bool* busy) { return !*busy; }, &busy_));
  }
  absl::Status status = IndexTheStore();
  absl::MutexLock lock(&work_mu_);
  paused_ = false;
  return status;
}

absl::Status Indexer::IndexTheStore() {
  const uint64_t target = store_->Tip().seq;
  const uint64_t seq = DerivedFrom();
  indexed_seq_ = seq;
  absl::StatusOr<std::string> format = store_->GetMeta(kDerivedFormatKey);
  if (target == 0) {
    // Nothing derived yet: what will be is in this format.
    return format.ok() ? absl::OkStatus() : store_->PutMeta(kDerivedFormatKey, kDerivedFormat);
  }
  if (!format.ok() || *format != kDerivedFormat) {
    // Documents rendered by another version (a sanitiser fix, a new field)
    // would otherwise be served until their release changes.
    base::LogInfo("The API documents were derived by another version; rebuilding them");
    return Rebuild();
  }
  if (store_->DerivedSeq() > target) {
    // Documents of a log this store no longer holds (a crash in a reset).
    return Rebuild();
  }
  if (seq >= target) return absl::OkStatus();
  if (seq < store_->LogStart()) {
    // The events since `seq` are not in this store's log (it was bootstrapped
    // from a snapshot): derive everything from the tree instead.
    return Rebuild();
  }
  base::LogInfo(absl::StrCat("Indexing events ", seq + 1, " to ", target, " from the store"));
  while (indexed_seq_ < target) {
    absl::Status s = IndexStored(target);
    if (s.ok()) s = Commit(indexed_seq_, /*exact=*/false, /*wait=*/indexed_seq_ >= target);
    if (!s.ok()) {
      DropPending();
      indexed_seq_ = DerivedFrom();
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Indexer::IndexStored(uint64_t target) {
  absl::StatusOr<std::vector<v1::Event>> events =
      store_->ReadAfter(indexed_seq_, std::min<uint64_t>(kChunkEvents, target - indexed_seq_),
                        kMaxPendingBytes, /*include_content=*/false);
  if (!events.ok()) return events.status();
  if (events->empty() || events->front().seq() != indexed_seq_ + 1) {
    return absl::DataLossError(
        absl::StrCat("The store's log has no event ", indexed_seq_ + 1, " to index"));
  }
  for (const v1::Event& event : *events) {
    if (event.seq() > target) break;
    if (absl::Status s = Index(event, /*rebuild=*/false); !s.ok()) return s;
    indexed_seq_ = event.seq();
    if (pending_bytes_ >= kMaxPendingBytes) break;
  }
  return absl::OkStatus();
}

absl::Status Indexer::Index(const v1::Event& event, bool rebuild) {
  event_time_us_ = event.time_us();
  // The API documents first, in dependency order: release METAs (and their
  // rendered docs), which dist files show; dists, whose abstracts user and
  // tag files show; then the rest.
  std::vector<const v1::Op*> ops;
  for (const v1::Op& op : event.ops()) ops.push_back(&op);
  auto rank = [](const v1::Op* op) {
    if (IsReleaseMeta(op->path())) return 0;
    if (!NameIn(op->path(), "dist").empty()) return 1;
    return 2;
  };
  std::stable_sort(ops.begin(), ops.end(),
                   [&](const v1::Op* a, const v1::Op* b) { return rank(a) < rank(b); });

  for (const v1::Op* op : ops) {
    const std::string& path = op->path();
    const bool put = op->type() == v1::Op::PUT;
    // The top files are derived once per commit (DeriveDirty), as the tree
    // has them then: a tag or user file names every release of its tag or
    // user and is rewritten by each, so deriving it per event made catching
    // up quadratic.
    if (std::string user = NameIn(path, "user"); !user.empty()) {
      dirty_files_[path] = event.time_us();
      dirty_users_.insert(user);
    } else if (std::string dist = NameIn(path, "dist"); !dist.empty()) {
      dirty_files_[path] = event.time_us();
      dirty_dists_.insert(dist);
    } else if (std::string extension = NameIn(path, "extension"); !extension.empty()) {
      dirty_files_[path] = event.time_us();
      dirty_extensions_.insert(extension);
    } else if (std::string tag = NameIn(path, "tag"); !tag.empty()) {
      dirty_files_[path] = event.time_us();
      if (!put) removed_tags_.insert(tag);
    } else if (IsReleaseMeta(path)) {
      const std::string dir = ReleaseDirOf(path);
      if (!put) {
        DeleteReleaseDocs(dir);
        continue;
      }
      Json meta = ReadJson(*store_, path);
      ReleaseFiles files =
          rebuild ? TakeRenderedAhead(dir, meta) : TakePrerendered(dir, meta, event.seq());
      if (!meta.is_object()) continue;
      DeriveRelease(dir, meta, files);
      if (!rebuild) {
        // Kept for the search documents of the dist's newest release.
        rendered_[dir] = std::move(files);
      } else if (auto newest = newest_releases_.find(dir); newest != newest_releases_.end()) {
        // A rebuild sees every release, too many to keep: the newest of each
        // dist is indexed now, and IndexDirty skips its dist.
        IndexRelease(dir, meta, files);
        indexed_dists_.insert(newest->second);
      }
    }
  }
  return absl::OkStatus();
}

void Indexer::DeriveDirty() {
  // Dists first: user and tag files show their abstracts.
  std::vector<std::pair<std::string, int64_t>> files(dirty_files_.begin(), dirty_files_.end());
  auto rank = [](const std::string& path) { return NameIn(path, "dist").empty() ? 1 : 0; };
  std::sort(files.begin(), files.end(), [&](const auto& a, const auto& b) {
    return std::make_pair(rank(a.first), a.first) < std::make_pair(rank(b.first), b.first);
  });
  const int64_t batch_time_us = event_time_us_;
  for (const auto& [path, time_us] : files) {
    absl::StatusOr<replica::StoredFile> stored = store_->GetFile(path);
    if (!stored.ok() && !absl::IsNotFound(stored.status())) {
      base::LogWarning(absl::StrCat("Cannot read ", path, ": ", stored.status().message()));
      continue;
    }
    // Dated by the event that last changed the file, as the tree dates it.
    event_time_us_ = stored.ok() ? stored->time_us : time_us;
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
  event_time_us_ = batch_time_us;
}

void Indexer::IndexDirty() {
  // The search documents of what the buffered events touched, from the
  // store's tree as it is now (at or past the seq about to be committed): a dist,
  // user or extension changed by many events of a batch is indexed once, as
  // of its newest state.
  for (const std::string& user : dirty_users_) {
    const Json doc = ReadJson(*store_, absl::StrCat("user/", user, ".json"));
    if (!doc.is_object()) {
      index_->DeleteUser(user);
      continue;
    }
    UserDoc user_doc{Str(doc, "nickname"), Str(doc, "name"), Str(doc, "email"), Str(doc, "uri"),
                     ""};
    user_doc.details = absl::StrCat(user_doc.name, " ", user_doc.uri);
    PutOrLog(user_doc);
  }
  for (const std::string& tag : removed_tags_) {
    if (absl::IsNotFound(store_->GetFile(absl::StrCat("tag/", tag, ".json")).status())) {
      index_->DeleteTag(tag);
    }
  }
  // Each dirty dist's newest release; those whose docs this batch did not
  // render (all of them in a rebuild) are rendered on a second thread ahead.
  struct Newest {
    std::string dist;
    std::string dir;  // "" if the dist is gone
    bool ahead;       // in the renderer's list
  };
  std::vector<Newest> newest;
  std::vector<std::string> to_render;
  for (const std::string& dist : dirty_dists_) {
    if (indexed_dists_.contains(dist)) continue;
    const std::string dir = NewestReleaseDir(*store_, dist);
    const bool ahead = !dir.empty() && !rendered_.contains(dir);
    newest.push_back(Newest{dist, dir, ahead});
    if (ahead) to_render.push_back(dir + "META.json");
  }
  std::thread renderer;
  if (to_render.size() >= kRenderAheadMin) renderer = StartRenderer(to_render);
  auto stop_renderer = absl::MakeCleanup([&] {
    if (renderer.joinable()) StopRenderer(renderer);
  });
  for (const Newest& release : newest) {
    const Json meta = release.dir.empty() ? Json(Json::value_t::discarded)
                                          : ReadJson(*store_, release.dir + "META.json");
    // Taken even if then unused: the renderer's entries go in order.
    std::optional<ReleaseFiles> files;
    if (release.ahead) {
      files = renderer.joinable() ? TakeRenderedAhead(release.dir, meta)
                                  : RenderRelease(release.dir, meta);
    }
    if (!meta.is_object()) {
      index_->DeleteDist(release.dist);
      continue;
    }
    IndexRelease(release.dir, meta, files.has_value() ? *files : rendered_.at(release.dir));
  }
  for (const std::string& extension : dirty_extensions_) ReindexExtension(extension);
  ForgetDirty();
}

void Indexer::ForgetDirty() {
  dirty_files_.clear();
  user_names_.clear();
  dirty_users_.clear();
  dirty_dists_.clear();
  dirty_extensions_.clear();
  removed_tags_.clear();
  rendered_.clear();
  indexed_dists_.clear();
}

ReleaseFiles Indexer::RenderRelease(const std::string& dir, const Json& meta) const {
  if (!meta.is_object()) return ReleaseFiles();
  const std::string zip_path = ZipPath(dir, meta);
  const std::string zip = ReadText(*store_, zip_path);
  if (zip.empty()) return ReleaseFiles();
  absl::StatusOr<ReleaseFiles> files = ReadReleaseFiles(meta, zip);
  if (!files.ok()) {
    // The origin accepted this archive, so this is a bug or a damaged blob;
    // the release is still served and searchable, without its docs.
    base::LogWarning(
        absl::StrCat("Cannot read the docs of ", zip_path, ": ", files.status().message()));
    return ReleaseFiles();
  }
  return *std::move(files);
}

void Indexer::DeriveRelease(const std::string& dir, const Json& meta, const ReleaseFiles& files) {
  // Pages of a previous rendering of this release that it no longer has.
  DeleteReleaseDocs(dir, &files);
  for (const ReleaseDoc& doc : files.docs) PutDerived(dir + doc.docpath + ".html", doc.html);
  // Without `releases`: that list changes with every release of the dist,
  // so ApiTree adds it from the dist file when the META is served.
  const Json enriched = EnrichRelease(meta, files);
  PutDerived(dir + "META.json", enriched.dump(3));
}

void Indexer::DeleteReleaseDocs(const std::string& dir, const ReleaseFiles* keep) {
  const Json previous = ReadDerivedJson(dir + "META.json");
  if (keep == nullptr) DeleteDerived(dir + "META.json");
  if (!previous.is_object()) return;
  auto docs = previous.find("docs");
  if (docs == previous.end() || !docs->is_object()) return;
  for (const auto& [docpath, info] : docs->items()) {
    if (keep != nullptr && absl::c_any_of(keep->docs, [&, &docpath = docpath](const ReleaseDoc& d) {
          return d.docpath == docpath;
        })) {
      continue;
    }
    DeleteDerived(dir + docpath + ".html");
  }
}

void Indexer::DeriveDist(const std::string& path, bool put) {
  if (!put) {
    abstracts_.erase(NameIn(path, "dist"));
    DeleteDerived(path);
    return;
  }
  const Json dist_file = ReadJson(*store_, path);
  if (!dist_file.is_object()) return;
  const std::string version = ShownVersion(dist_file);
  const Json release =
      version.empty() ? Json(Json::value_t::discarded)
                      : ReadDerivedJson(ReleaseDir(Str(dist_file, "name"), version) + "META.json");
  const Json enriched = EnrichDist(dist_file, release);
  abstracts_[absl::AsciiStrToLower(Str(dist_file, "name"))] = Str(enriched, "abstract");
  PutDerived(path, enriched.dump(3));
}

void Indexer::DeriveExtension(const std::string& path, bool put) {
  if (!put) {
    DeleteDerived(path);
    return;
  }
  Json file = ReadJson(*store_, path);
  if (!file.is_object()) return;
  Json enriched =
      EnrichExtension(std::move(file), [&](const std::string& dist, const std::string& version) {
        return ReadDerivedJson(ReleaseDir(dist, version) + "META.json");
      });
  PutDerived(path, enriched.dump(3));
}

std::string Indexer::DistAbstract(const std::string& dist) {
  // User and tag files list many dists each, and are rewritten with every
  // release: looking each abstract up in memory keeps that linear in the
  // file, not in the files it names.
  const std::string key = absl::AsciiStrToLower(dist);
  if (auto it = abstracts_.find(key); it != abstracts_.end()) return it->second;
  std::string abstract = Str(ReadDerivedJson(absl::StrCat("dist/", key, ".json")), "abstract");
  abstracts_[key] = abstract;
  return abstract;
}

void Indexer::DeriveUser(const std::string& path, bool put) {
  // The user list is keyed by the file's name: a deleted file has no content
  // to read the nickname from.
  const std::string nickname = NameIn(path, "user");
  const std::string list_path = UserListPath(nickname);
  Json file = put ? ReadJson(*store_, path) : Json(Json::value_t::discarded);
  if (!file.is_object()) {
    DeleteDerived(path);
    PutDerived(list_path,
               UpdateUserList(ReadDerivedJson(list_path), nickname, absl::nullopt).dump(3));
    return;
  }
  const std::string name = Str(file, "name");
  const std::string nick = Str(file, "nickname").empty() ? nickname : Str(file, "nickname");
  PutDerived(path, EnrichReleaseLists(std::move(file), [this](const std::string& dist) {
                     return DistAbstract(dist);
                   }).dump(3));
  PutDerived(list_path, UpdateUserList(ReadDerivedJson(list_path), nick, name).dump(3));
}

void Indexer::DeriveTag(const std::string& path, bool put) {
  Json file = put ? ReadJson(*store_, path) : Json(Json::value_t::discarded);
  if (!file.is_object()) {
    DeleteDerived(path);
    return;
  }
  PutDerived(path, EnrichReleaseLists(std::move(file), [this](const std::string& dist) {
                     return DistAbstract(dist);
                   }).dump(3));
}

std::string Indexer::UserName(const std::string& user) {
  // A user file lists every release of its user: parse it once per commit,
  // not once per dist of the batch.
  if (auto it = user_names_.find(user); it != user_names_.end()) return it->second;
  const Json user_json = ReadJson(*store_, absl::StrCat("user/", user, ".json"));
  std::string name = user_json.is_object() ? Str(user_json, "name") : "";
  user_names_[user] = name;
  return name;
}

void Indexer::IndexRelease(const std::string& dir, const Json& meta, const ReleaseFiles& files) {
  const std::string user = Str(meta, "user");
  const std::string user_name = UserName(user);
  DistDoc dist_doc;
  dist_doc.dist = Str(meta, "name");
  dist_doc.version = Str(meta, "version");
  dist_doc.abstract = Str(meta, "abstract");
  dist_doc.description = Str(meta, "description");
  dist_doc.readme = ReadText(*store_, dir + "README.txt");
  dist_doc.user = user;
  dist_doc.user_name = user_name;
  dist_doc.date = Str(meta, "date");
  dist_doc.release_status = Str(meta, "release_status");
  if (auto tags = meta.find("tags"); tags != meta.end() && tags->is_array()) {
    for (const Json& tag : *tags) {
      if (!tag.is_string()) continue;
      dist_doc.tags.push_back(tag.get<std::string>());
      PutOrLog(TagDoc{tag.get<std::string>()});
    }
  }
  PutOrLog(dist_doc);
  // The docs of the release replace the dist's previous ones. A release whose
  // archive has no README doc still has the tree's README.txt.
  index_->DeleteDocs(dist_doc.dist);
  bool has_readme = false;
  for (const ReleaseDoc& doc : files.docs) {
    has_readme = has_readme || doc.docpath == "README";
    PutOrLog(DocDoc{dist_doc.dist, dist_doc.version, doc.docpath, doc.title,
                    doc.abstract.empty() ? dist_doc.abstract : doc.abstract, doc.text,
                    dist_doc.date, user, user_name});
  }
  if (!has_readme && !dist_doc.readme.empty()) {
    PutOrLog(DocDoc{dist_doc.dist, dist_doc.version, "README", dist_doc.dist, dist_doc.abstract,
                    dist_doc.readme, dist_doc.date, user, user_name});
  }
}

void Indexer::ReindexExtension(const std::string& extension) {
  // extension/E.json names the newest release providing E under its
  // "latest" status.
  const Json doc = ReadJson(*store_, absl::StrCat("extension/", extension, ".json"));
  if (!doc.is_object()) {
    index_->DeleteExtension(extension);
    return;
  }
  auto newest = doc.find(Str(doc, "latest"));
  if (newest == doc.end() || !newest->is_object()) return;
  const std::string dist = Str(*newest, "dist"), version = Str(*newest, "version");
  Json meta = ReadDerivedJson(ReleaseDir(dist, version) + "META.json");
  if (!meta.is_object()) meta = ReadJson(*store_, ReleaseDir(dist, version) + "META.json");
  if (!meta.is_object()) return;
  auto provides = meta.find("provides");
  if (provides == meta.end() || !provides->is_object()) return;
  for (const auto& [name, spec] : provides->items()) {
    if (absl::AsciiStrToLower(name) != extension || !spec.is_object()) continue;
    const std::string user = Str(meta, "user");
    PutOrLog(ExtensionDoc{name, Str(spec, "abstract"), Str(meta, "name"), Str(meta, "version"),
                          Str(spec, "docpath"), Str(meta, "date"), user, UserName(user)});
    return;
  }
}

std::thread Indexer::StartRenderer(std::vector<std::string> meta_paths) {
  {
    absl::MutexLock lock(&work_mu_);
    ahead_.clear();
    rendering_ahead_ = true;
  }
  return std::thread([this, paths = std::move(meta_paths)] {
    for (const std::string& path : paths) {
      const std::string dir = ReleaseDirOf(path);
      const Json meta = ReadJson(*store_, path);
      ReleaseFiles files = meta.is_object() ? RenderRelease(dir, meta) : ReleaseFiles();
      absl::MutexLock lock(&work_mu_);
      work_mu_.Await(absl::Condition(
          +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->work_mu_) {
            return !self->rendering_ahead_ || self->ahead_.size() < kMaxPrerendered;
          },
          this));
      if (!rendering_ahead_) return;
      ahead_[dir] = std::move(files);
    }
  });
}

void Indexer::StopRenderer(std::thread& renderer) {
  {
    absl::MutexLock lock(&work_mu_);
    rendering_ahead_ = false;
  }
  renderer.join();
  absl::MutexLock lock(&work_mu_);
  ahead_.clear();
}

absl::Status Indexer::Rebuild() {
  index_->DeleteAll();
  DropPending();
  clear_derived_ = true;
  // Every release META, then the top files, as PUTs: the releases' docs and
  // enriched METAs first, then dists, users, extensions and tags from them,
  // as after any rewrite. Releases are derived in chunks so that a large
  // tree never has to fit in memory; the chunks are written with seq 0
  // (nothing derived yet), so a crash part-way rebuilds again.
  // The seq first: events applied while the tree is listed are derived
  // again by the next pass (harmless), never counted without being derived.
  const uint64_t seq = store_->Tip().seq;
  std::vector<std::string> releases, tops;
  absl::Status listed =
      store_->ForEachFile([&](absl::string_view path, const replica::StoredFile&) {
        if (IsReleaseMeta(path)) releases.emplace_back(path);
        // Only the top files (dist/D.json, ...): a release's own META.json is
        // derived above, not indexed as its dist's newest.
        if (std::count(path.begin(), path.end(), '/') == 1) tops.emplace_back(path);
        return true;
      });
  if (!listed.ok()) return listed;
  // The newest release of each dist, whose search documents are built as it
  // is derived (it is rendered then).
  newest_releases_.clear();
  auto forget_newest = absl::MakeCleanup([&] { newest_releases_.clear(); });
  for (const std::string& path : tops) {
    const std::string dist = NameIn(path, "dist");
    if (dist.empty()) continue;
    if (std::string dir = NewestReleaseDir(*store_, dist); !dir.empty()) {
      newest_releases_[std::move(dir)] = dist;
    }
  }

  // A second thread renders the releases' docs ahead of this one, in the
  // same order: rendering is the larger part of deriving a release.
  std::thread renderer = StartRenderer(releases);
  auto stop_renderer = absl::MakeCleanup([&] { StopRenderer(renderer); });

  v1::Event chunk;
  auto flush = [&](uint64_t at) -> absl::Status {
    if (absl::Status s = Index(chunk, /*rebuild=*/true); !s.ok()) return s;
    chunk.Clear();
    if (at == seq) return Commit(seq, /*exact=*/true);
    if (pending_bytes_ < kMaxPendingBytes) return absl::OkStatus();
    return CommitDerived(0);
  };
  for (const std::string& path : releases) {
    v1::Op* op = chunk.add_ops();
    op->set_type(v1::Op::PUT);
    op->set_path(path);
    if (chunk.ops_size() >= 64) {
      if (absl::Status s = flush(0); !s.ok()) return s;
    }
  }
  if (absl::Status s = flush(0); !s.ok()) return s;
  std::move(stop_renderer).Invoke();  // every release is rendered
  for (const std::string& path : tops) {
    v1::Op* op = chunk.add_ops();
    op->set_type(v1::Op::PUT);
    op->set_path(path);
  }
  if (absl::Status s = flush(seq); !s.ok()) return s;
  if (absl::Status s = store_->PutMeta(kDerivedFormatKey, kDerivedFormat); !s.ok()) return s;
  indexed_seq_ = seq;
  base::LogInfo(absl::StrCat("Search index and API documents rebuilt from the tree at seq ", seq,
                             " (", releases.size(), " releases)"));
  return absl::OkStatus();
}

Json Indexer::ReadDerivedJson(const std::string& path) const {
  if (auto it = pending_.find(path); it != pending_.end()) {
    if (!it->second.has_value()) return Json(Json::value_t::discarded);
    return Json::parse(DerivedContent(*it->second), nullptr, /*allow_exceptions=*/false);
  }
  if (clear_derived_) return Json(Json::value_t::discarded);
  absl::StatusOr<std::string> value = store_->GetDerived(path);
  if (!value.ok()) return Json(Json::value_t::discarded);
  return Json::parse(DerivedContent(*value), nullptr, /*allow_exceptions=*/false);
}

void Indexer::PutDerived(const std::string& path, absl::string_view content) {
  if (path.empty()) return;
  // A rebuild has no event: its documents are as new as the rebuild.
  std::string value = EncodeDerived(
      content, event_time_us_ != 0 ? event_time_us_ : absl::ToUnixMicros(absl::Now()));
  pending_bytes_ += value.size() + path.size();
  pending_[path] = std::move(value);
}

void Indexer::DeleteDerived(const std::string& path) {
  if (path.empty()) return;
  pending_bytes_ += path.size();
  pending_[path] = absl::nullopt;
}

void Indexer::DropPending() {
  abstracts_.clear();  // it may hold abstracts of dropped documents
  ForgetDirty();
  ClearPending();
}

void Indexer::ClearPending() {
  pending_.clear();
  pending_bytes_ = 0;
  clear_derived_ = false;
}

absl::Status Indexer::CommitDerived(uint64_t seq) {
  std::vector<replica::Store::DerivedChange> changes;
  changes.reserve(pending_.size());
  for (auto& [path, value] : pending_) changes.emplace_back(path, std::move(value));
  absl::Status s = store_->WriteDerived(changes, seq, clear_derived_);
  if (s.ok()) {
    ClearPending();
  } else {
    DropPending();
  }
  return s;
}

absl::Status Indexer::Commit(uint64_t seq, bool exact, bool wait) {
  // The index must never record a seq the store could lose; the derived
  // documents are written (synced) before the index commits, and a restart
  // resumes from the lower of the two (DerivedFrom).
  if (absl::Status s = store_->SyncWal(); !s.ok()) {
    DropPending();
    return s;
  }
  DeriveDirty();
  IndexDirty();
  if (absl::Status s = CommitDerived(seq); !s.ok()) return s;
  // Re-deriving events the index already has (it committed, the derived
  // documents did not) leaves the index at its own seq; a rebuild after a
  // new epoch records exactly the new log's seq.
  const uint64_t index_seq = exact ? seq : std::max(seq, index_->CommittedSeq());
  return wait ? index_->Commit(index_seq) : index_->CommitInBackground(index_seq);
}

void Indexer::AddRoutes(gateway::Router* router) {
  router->HandlePrefix("GET", "/search/", [this](const gateway::Request& request) {
    return HandleSearch(request, *index_);
  });
  router->Handle("GET", "/index.json",
                 [this](const gateway::Request& request) { return HandleIndexJson(request); });
  AddSourceRoutes(router, store_);
}

std::shared_ptr<const gateway::TreeReader> Indexer::HttpTree() {
  return std::make_shared<ApiTree>(store_);
}

gateway::Response Indexer::HandleIndexJson(const gateway::Request& request) const {
  nlohmann::ordered_json templates = nlohmann::ordered_json::parse(
      ReadText(*store_, "index.json"), nullptr, /*allow_exceptions=*/false);
  if (!templates.is_object()) templates = nlohmann::ordered_json::object();
  // What an indexer adds to a mirror's templates (PGXN.md §5).
  templates["source"] = "/src/{dist}/{dist}-{version}/";
  templates["search"] = "/search/{in}/";
  templates["htmldoc"] = "/dist/{dist}/{version}/{+docpath}.html";
  templates["userlist"] = "/users/{letter}.json";
  return gateway::JsonResponse(200, templates.dump(3) + "\n");
}

}  // namespace pgxn::indexer
