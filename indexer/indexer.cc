#include "indexer/indexer.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "gateway/status_http.h"
#include "indexer/derived/api_tree.h"
#include "indexer/derived/tree_reads.h"
#include "indexer/docs/tree_layout.h"
#include "indexer/search/search_handler.h"
#include "indexer/source_handler.h"
#include "nlohmann/json.hpp"

namespace pgxn::indexer {

using Json = nlohmann::json;

absl::StatusOr<std::unique_ptr<Indexer>> Indexer::Open(replica::Store* store,
                                                       const std::string& index_dir,
                                                       IndexerOptions options) {
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
  return std::unique_ptr<Indexer>(new Indexer(store, *std::move(index), std::move(options)));
}

Indexer::Indexer(replica::Store* store, std::unique_ptr<SearchIndex> index, IndexerOptions options)
    : store_(store),
      index_(std::move(index)),
      file_cache_(options.file_cache),
      converters_(std::move(options.converters)),
      renderer_([store](absl::string_view path) { return ReadTreeText(*store, path); },
                &converters_),
      derived_(store),
      search_(store, index_.get(), &derived_, &renderer_) {
  worker_ = std::thread([this] { Work(); });
}

Indexer::~Indexer() { Stop(); }

std::string Indexer::StatusJson() const {
  return Json{{"converters", converters_.Status()}}.dump();
}

void Indexer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (mode_ != Mode::kStopping) {
      commit_on_stop_ = mode_ == Mode::kRunning;
      mode_ = Mode::kStopping;
    }
  }
  if (worker_.joinable()) worker_.join();
}

void Indexer::OnApplied(const v1::Event& event, bool caught_up) {
  // Rendering a release's docs is a good part of indexing it, and needs only
  // the event's own META and zip: done here, on the feed thread, it overlaps
  // with the indexing thread's work on earlier events.
  renderer_.Prerender(event);
  absl::MutexLock lock(&mu_);
  target_ = std::max(target_, event.seq());
  commit_wanted_ = caught_up;
}

void Indexer::Pause() {
  if (mode_ == Mode::kRunning) mode_ = Mode::kPaused;
  mu_.Await(absl::Condition(
      +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
        return self->activity_ == Activity::kWaiting;
      },
      this));
}

void Indexer::OnBeforeReset() {
  absl::MutexLock lock(&mu_);
  Pause();
}

void Indexer::OnReset() {
  absl::MutexLock lock(&mu_);
  if (mode_ != Mode::kStopping) mode_ = Mode::kRebuild;
  mu_.Await(absl::Condition(
      +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
        return self->mode_ != Mode::kRebuild && self->activity_ == Activity::kWaiting;
      },
      this));
}

void Indexer::WaitIdle() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
        return self->mode_ == Mode::kStopping ||
               (self->activity_ == Activity::kWaiting && self->mode_ != Mode::kRebuild &&
                self->done_ >= self->target_);
      },
      this));
}

bool Indexer::HasWork() const {
  switch (mode_) {
    case Mode::kStopping:
    case Mode::kRebuild:
      return true;
    case Mode::kPaused:
      return false;
    case Mode::kRunning:
      return target_ > done_;
  }
  return false;
}

void Indexer::Work() {
  absl::MutexLock lock(&mu_);
  bool failed = false;  // the last pass failed: retry after kRetryAfter
  while (true) {
    const bool woken = mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Indexer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->HasWork(); },
            this),
        kRetryAfter);
    if (mode_ == Mode::kStopping) break;
    if (!woken) {
      if (mode_ == Mode::kPaused) continue;
      // Quiet: retry what failed, and commit what was indexed while the
      // upstream still announced more (it may not send it soon).
      if (failed) done_ = indexed_seq_;
      if (!failed && indexed_seq_ <= index_->AppliedSeq()) continue;
    }
    activity_ = Activity::kWorking;
    const bool rebuild = mode_ == Mode::kRebuild;
    const uint64_t target = std::max(target_, indexed_seq_);
    const bool commit = commit_wanted_ || !woken;
    mu_.Unlock();
    bool finished = true;
    if (rebuild) {
      if (absl::Status s = Rebuild(); !s.ok()) {
        DropBatch();
        indexed_seq_ = DerivedFrom();
        base::LogError(absl::StrCat("Rebuilding the search index failed: ", s.ToString()));
      }
      // What was handed over before the reset is in the rebuilt index, or
      // gone with the old store (whose seqs may be past the new tip).
      renderer_.ForgetPrerendered();
    } else {
      const bool ok = Advance(target, commit);
      failed = !ok;
      finished = !ok || indexed_seq_ >= target;
      // Renderings of events indexed (or skipped) by now will not be taken.
      renderer_.ForgetPrerenderedUpTo(indexed_seq_);
    }
    mu_.Lock();
    activity_ = Activity::kWaiting;
    if (rebuild) {
      if (mode_ == Mode::kRebuild) mode_ = Mode::kRunning;
      target_ = done_ = indexed_seq_;
      failed = false;
      continue;
    }
    // Caught up with this target (or stuck on it, logged): wait for the
    // next event, unless more came meanwhile.
    if (finished) done_ = std::max(done_, target);
  }
  // Stopping: what was indexed is committed, so a restart need not redo it;
  // not while paused (the store is being replaced, or CatchUp runs).
  if (commit_on_stop_ && indexed_seq_ > index_->AppliedSeq()) {
    activity_ = Activity::kWorking;
    mu_.Unlock();
    if (absl::Status s = Commit(indexed_seq_); !s.ok()) {
      base::LogError(absl::StrCat("Cannot commit the search index: ", s.ToString()));
    }
    mu_.Lock();
    activity_ = Activity::kWaiting;
  }
}

bool Indexer::Advance(uint64_t target, bool commit) {
  absl::Status status = indexed_seq_ < target ? IndexStored(target) : absl::OkStatus();
  const bool at_target = indexed_seq_ >= target;
  if (status.ok() && indexed_seq_ > index_->CommittedSeq() &&
      ((commit && at_target) || indexed_seq_ >= index_->CommittedSeq() + kMaxUncommitted ||
       derived_.pending_bytes() >= kMaxPendingBytes)) {
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
  DropBatch();
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
    absl::MutexLock lock(&mu_);
    Pause();
  }
  absl::Status status = IndexTheStore();
  absl::MutexLock lock(&mu_);
  if (mode_ == Mode::kPaused) mode_ = Mode::kRunning;
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
      DropBatch();
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
    if (derived_.pending_bytes() >= kMaxPendingBytes) break;
  }
  return absl::OkStatus();
}

absl::Status Indexer::Index(const v1::Event& event, bool rebuild) {
  derived_.SetTime(event.time_us());
  // Release METAs first (and their rendered docs), which dist files show;
  // then dists, whose abstracts user and tag files show; then the rest.
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
    if (std::string user = NameIn(path, "user"); !user.empty()) {
      derived_.NoteTopFile(path, event.time_us());
      search_.NoteUser(user);
    } else if (std::string dist = NameIn(path, "dist"); !dist.empty()) {
      derived_.NoteTopFile(path, event.time_us());
      search_.NoteDist(dist);
    } else if (std::string extension = NameIn(path, "extension"); !extension.empty()) {
      derived_.NoteTopFile(path, event.time_us());
      search_.NoteExtension(extension);
    } else if (std::string tag = NameIn(path, "tag"); !tag.empty()) {
      derived_.NoteTopFile(path, event.time_us());
      if (!put) search_.NoteRemovedTag(tag);
    } else if (IsReleaseMeta(path)) {
      const std::string dir = ReleaseDirOf(path);
      if (!put) {
        derived_.DeleteRelease(dir);
        continue;
      }
      const Json meta = ReadTreeJson(*store_, path);
      ReleaseFiles files = rebuild ? renderer_.TakeAhead(dir, meta)
                                   : renderer_.TakePrerendered(dir, meta, event.seq());
      if (!meta.is_object()) continue;
      derived_.PutRelease(dir, meta, files);
      if (!rebuild) {
        // Kept for the search documents of the dist's newest release.
        rendered_[dir] = std::move(files);
      } else if (newest_releases_.contains(dir)) {
        // A rebuild sees every release, too many to keep: the newest of each
        // dist is indexed now.
        search_.IndexNewestRelease(dir, meta, files);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Indexer::Rebuild() {
  absl::Status status = RebuildFromTree();
  if (!status.ok()) DropBatch();
  return status;
}

absl::Status Indexer::RebuildFromTree() {
  index_->DeleteAll();
  DropBatch();
  derived_.StartOver();
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
  renderer_.StartAhead(releases);
  auto stop_renderer = absl::MakeCleanup([&] { renderer_.StopAhead(); });

  v1::Event chunk;
  auto flush = [&](uint64_t at) -> absl::Status {
    if (absl::Status s = Index(chunk, /*rebuild=*/true); !s.ok()) return s;
    chunk.Clear();
    if (at == seq) return Commit(seq, /*exact=*/true);
    if (derived_.pending_bytes() < kMaxPendingBytes) return absl::OkStatus();
    return derived_.Commit(0);
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

absl::Status Indexer::Commit(uint64_t seq, bool exact, bool wait) {
  // The index must never record a seq the store could lose; the derived
  // documents are written (synced) before the index commits, and a restart
  // resumes from the lower of the two (DerivedFrom).
  if (absl::Status s = store_->SyncWal(); !s.ok()) {
    DropBatch();
    return s;
  }
  derived_.DeriveTopFiles();
  search_.IndexNoted(rendered_);
  rendered_.clear();
  if (absl::Status s = derived_.Commit(seq); !s.ok()) return s;
  // Re-deriving events the index already has (it committed, the derived
  // documents did not) leaves the index at its own seq; a rebuild after a
  // new epoch records exactly the new log's seq.
  const uint64_t index_seq = exact ? seq : std::max(seq, index_->CommittedSeq());
  return wait ? index_->Commit(index_seq) : index_->CommitInBackground(index_seq);
}

void Indexer::DropBatch() {
  derived_.Drop();
  search_.Forget();
  rendered_.clear();
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
  return std::make_shared<ApiTree>(store_, file_cache_);
}

gateway::Response Indexer::HandleIndexJson(const gateway::Request& request) const {
  nlohmann::ordered_json templates = nlohmann::ordered_json::parse(
      ReadTreeText(*store_, "index.json"), nullptr, /*allow_exceptions=*/false);
  if (!templates.is_object()) templates = nlohmann::ordered_json::object();
  // What an indexer adds to a mirror's templates (docs/pgxn.md §5).
  templates["source"] = "/src/{dist}/{dist}-{version}/";
  templates["search"] = "/search/{in}/";
  templates["htmldoc"] = "/dist/{dist}/{version}/{+docpath}.html";
  templates["userlist"] = "/users/{letter}.json";
  return gateway::JsonResponse(200, templates.dump(3) + "\n");
}

}  // namespace pgxn::indexer
