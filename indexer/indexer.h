// The indexer role (docs/architecture.md §1): a replica whose extension keeps the search
// index and the API documents (enriched JSON, rendered docs, user lists) in
// step with the store, and serves the search API, those documents over the
// tree, the archives' files under /src/ and an index.json that lists them.
// Everything is derived from the store alone, so a deleted index directory or
// derived family is rebuilt from the log (or the tree) on the next start.
//
// This class is the loop that schedules the work of its parts:
//   indexer/docs     ReleaseRenderer: releases' docs, rendered off this
//                    loop's thread (from the feed's events, or ahead of it);
//   indexer/derived  DerivedDocuments: the API documents, buffered and
//                    committed to the store's derived family;
//   indexer/search   SearchDocuments and SearchIndex: the search index.
// It indexes each event from the store's log on a thread of its own, and
// commits (derived documents first, then the index, each recording the seq)
// when the upstream has nothing newer, or every kMaxUncommitted events while
// catching up. What the thread does is its Mode, set by the other threads.
//
// Thread-safety: the parts have one writer, the indexing thread (CatchUp
// also runs on the caller's thread, but only while the thread is paused).
// OnApplied, OnBeforeReset and OnReset run on the feed thread and hand work
// to it, so that applying the next events to the store overlaps with
// indexing the previous ones; the HTTP routes run concurrently on the
// server's threads.
#ifndef PGXN_INDEXER_INDEXER_H_
#define PGXN_INDEXER_INDEXER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "gateway/tree_handler.h"
#include "indexer/derived/derived_documents.h"
#include "indexer/docs/markup_converters.h"
#include "indexer/docs/renderer.h"
#include "indexer/search/search_documents.h"
#include "indexer/search/search_index.h"
#include "replica/replica.h"
#include "replica/store.h"

namespace pgxn::indexer {

namespace v1 = ::pgxn::feed::v1;

struct IndexerOptions {
  // The programs that render docs in markups other than Markdown and HTML.
  ConverterOptions converters;
  // The replica's copies of large files (replica/file_cache.h), which the
  // API's tree sends with sendfile; null: none. Must outlive the indexer.
  replica::FileCache* file_cache = nullptr;
};

class Indexer final : public replica::ReplicaExtension {
 public:
  // Opens (or creates) the index in `index_dir` over `store` (not owned).
  static absl::StatusOr<std::unique_ptr<Indexer>> Open(replica::Store* store,
                                                       const std::string& index_dir,
                                                       IndexerOptions options = {});

  // Indexes every stored event the index or the derived documents have not
  // seen (after a crash, or after the index directory was deleted) and
  // commits; rebuilds from the tree if those events are not in the log.
  absl::Status CatchUp();

  ~Indexer() override;  // Stop()
  // Stops the indexing thread, which commits what it indexed unless it was
  // paused (the store is being replaced); idempotent and final: a stopped
  // indexer indexes nothing more.
  void Stop() override;

  void AddRoutes(gateway::Router* router) override;
  // Renders the docs of the event's releases (ReleaseRenderer::Prerender),
  // then hands the event to the indexing thread. Does not wait for it.
  void OnApplied(const v1::Event& event, bool caught_up) override;
  // Pauses the indexing thread (it stops reading the store), until OnReset.
  void OnBeforeReset() override;
  // Has the indexing thread rebuild everything from the store's tree as it
  // now is; returns when done.
  void OnReset() override;
  // Waits until the indexing thread has dealt with every event handed to it
  // (committed them, or logged why not). For tests and tools.
  void WaitIdle();
  // The derived documents over the store's tree (api_tree.h).
  std::shared_ptr<const gateway::TreeReader> HttpTree() override;
  // The seq of the last commit of the search index (the derived documents
  // are committed just before it).
  absl::optional<uint64_t> ServedSeq() const override { return index_->AppliedSeq(); }
  // {"converters": MarkupConverters::Status()} for /_status.
  std::string StatusJson() const override;

  static constexpr int kMaxUncommitted = 1000;
  // A quiet indexing thread commits what it indexed, and retries a failed
  // pass, after this long.
  static constexpr absl::Duration kRetryAfter = absl::Seconds(2);
  // Events read from the store's log at a time.
  static constexpr int kChunkEvents = 256;
  // Derived documents buffered before a commit is forced while catching up.
  static constexpr size_t kMaxPendingBytes = size_t{64} << 20;
  // The format of the derived documents; a store holding another is rebuilt
  // at start (the search index with them). Bump it whenever rendering or
  // enrichment changes. 5: releases' source indexes (for /src/), and
  // excerpts stored as a bounded prefix of their text.
  static constexpr char kDerivedFormatKey[] = "indexer.derived_format";
  static constexpr char kDerivedFormat[] = "5";

  const SearchIndex& index() const { return *index_; }

 private:
  // What the indexing thread is to do; set by the other threads.
  enum class Mode {
    kRunning,   // index the events handed to it
    kPaused,    // read nothing of the store (it is being replaced, or CatchUp runs)
    kRebuild,   // rebuild from the store's tree, then run
    kStopping,  // commit what was indexed, and end
  };
  // What it is doing; the other threads wait for kWaiting.
  enum class Activity { kWaiting, kWorking };

  Indexer(replica::Store* store, std::unique_ptr<SearchIndex> index, IndexerOptions options);

  // The indexing thread's loop.
  void Work();
  // Whether the thread has something to do now.
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits for the thread to stop reading the store, keeping it paused.
  void Pause() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Indexes the stored events after indexed_seq_, up to `target` and at most
  // a chunk of them; commits when it reaches `target` and `commit`, or when
  // enough is buffered. False if that failed (logged; a later event retries).
  bool Advance(uint64_t target, bool commit);
  // CatchUp, on the indexing thread (or with it paused).
  absl::Status IndexTheStore();
  // Buffers the stored events after indexed_seq_ (a chunk of them, none past
  // `target`), advancing indexed_seq_; commits nothing.
  absl::Status IndexStored(uint64_t target);
  // Buffers what `event` changes: the releases it puts are rendered and
  // derived; the top files it touches are noted for the commit. With
  // `rebuild`, releases come from the renderer's ahead list, and each dist's
  // newest is indexed at once (newest_releases_).
  absl::Status Index(const v1::Event& event, bool rebuild);
  // Empties the index and the derived documents and derives both from the
  // store's tree as it now is; on failure nothing of it stays buffered.
  absl::Status Rebuild();
  absl::Status RebuildFromTree();
  // The seq to resume from: the lower of the index's and the derived
  // documents' last commit.
  uint64_t DerivedFrom() const;
  // Syncs the store, derives the noted top files, indexes what was noted,
  // writes the derived documents, then commits the index, at `seq` (not
  // below the index's own seq unless `exact`: after a rebuild); without
  // `wait`, in the background (SearchIndex::CommitInBackground: an error may
  // then be an earlier commit's).
  absl::Status Commit(uint64_t seq, bool exact = false, bool wait = true);
  // Forgets everything buffered since the last commit.
  void DropBatch();
  gateway::Response HandleIndexJson(const gateway::Request& request) const;

  replica::Store* const store_;
  std::unique_ptr<SearchIndex> index_;
  replica::FileCache* const file_cache_;  // may be null
  const MarkupConverters converters_;  // before renderer_, which uses it
  ReleaseRenderer renderer_;
  DerivedDocuments derived_;
  SearchDocuments search_;

  // Between the feed thread (and Stop, CatchUp) and the indexing thread:
  absl::Mutex mu_;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kRunning;
  Activity activity_ ABSL_GUARDED_BY(mu_) = Activity::kWaiting;
  uint64_t target_ ABSL_GUARDED_BY(mu_) = 0;         // newest seq the store applied
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;           // newest target dealt with
  bool commit_wanted_ ABSL_GUARDED_BY(mu_) = false;  // the upstream has nothing newer
  // Stop found the thread running: it commits what it indexed as it ends.
  bool commit_on_stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;

  // Indexing thread only (and CatchUp while it is paused):
  uint64_t indexed_seq_ = 0;  // last event buffered
  // The docs rendered for the releases of the events since the last commit,
  // by release dir: the search documents of a dist's newest release use them.
  absl::flat_hash_map<std::string, ReleaseFiles> rendered_;
  // In a rebuild: each dist's newest release dir → the dist.
  absl::flat_hash_map<std::string, std::string> newest_releases_;
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_INDEXER_H_
