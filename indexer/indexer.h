// The indexer role (DESIGN.md §1): a replica whose extension keeps the search
// indexes and the API documents (enriched JSON, rendered docs, user lists;
// api_documents.h) in step with the store, and serves the search API, those
// documents over the tree, and an index.json that lists them. Everything is
// derived from the store alone, so a deleted index directory or derived
// family is rebuilt from the log (or the tree) on the next start.
//
// Thread-safety: the index and the derived documents have one writer, the
// indexing thread this class owns (CatchUp also runs on the caller's thread,
// but only before the replica starts). OnApplied, OnBeforeReset and OnReset
// run on the feed thread and hand work to it, so that applying the next
// events to the store overlaps with indexing the previous ones; the HTTP
// routes run concurrently on the server's threads.
#ifndef PGXN_INDEXER_INDEXER_H_
#define PGXN_INDEXER_INDEXER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "gateway/tree_handler.h"
#include "indexer/api_documents.h"
#include "indexer/search_index.h"
#include "nlohmann/json.hpp"
#include "replica/replica.h"
#include "replica/store.h"

namespace pgxn::indexer {

namespace v1 = ::pgxn::feed::v1;

class Indexer final : public replica::ReplicaExtension {
 public:
  // Opens (or creates) the index in `index_dir` over `store` (not owned).
  static absl::StatusOr<std::unique_ptr<Indexer>> Open(replica::Store* store,
                                                       const std::string& index_dir);

  // Indexes every stored event the index or the derived documents have not
  // seen (after a crash, or after the index directory was deleted) and
  // commits; rebuilds from the tree if those events are not in the log.
  absl::Status CatchUp();

  // Stop().
  ~Indexer() override;
  // Stops the indexing thread, committing what it indexed; idempotent.
  void Stop() override;

  void AddRoutes(gateway::Router* router) override;
  // Hands the event to the indexing thread, which indexes it from the
  // store's log and commits when caught up with the upstream, or at least
  // every kMaxUncommitted events while catching up. Does not wait.
  void OnApplied(const v1::Event& event, bool caught_up) override;
  // Waits for the indexing thread to stop reading the store, until OnReset.
  void OnBeforeReset() override;
  // Empties the index and indexes the store's tree as it now is; returns
  // when done.
  void OnReset() override;
  // Waits until the indexing thread has dealt with every event handed to it
  // (committed them, or logged why not). For tests and tools.
  void WaitIdle();
  // The derived documents over the store's tree (api_tree.h).
  std::shared_ptr<const gateway::TreeReader> HttpTree() override;
  // The seq of the last commit of the search index (the derived documents
  // are committed just before it).
  absl::optional<uint64_t> ServedSeq() const override { return index_->AppliedSeq(); }

  static constexpr int kMaxUncommitted = 1000;
  // A quiet indexing thread commits what it indexed, and retries a failed
  // pass, after this long.
  static constexpr absl::Duration kRetryAfter = absl::Seconds(2);
  // Events read from the store's log at a time.
  static constexpr int kChunkEvents = 256;
  // Derived documents buffered before a commit is forced while catching up.
  static constexpr size_t kMaxPendingBytes = size_t{64} << 20;
  // The format of the derived documents; a store holding another is rebuilt
  // at start. Bump it whenever rendering or enrichment changes.
  static constexpr char kDerivedFormatKey[] = "indexer.derived_format";
  static constexpr char kDerivedFormat[] = "2";

  const SearchIndex& index() const { return *index_; }

 private:
  Indexer(replica::Store* store, std::unique_ptr<SearchIndex> index);

  // Renders the docs of the event's releases for the indexing thread.
  void Prerender(const v1::Event& event);
  // The docs of the release under `dir`: as Prerender left them for the
  // event `seq`, or rendered now.
  ReleaseFiles TakePrerendered(const std::string& dir, const nlohmann::json& meta, uint64_t seq);
  // The docs of the release under `dir`, the next the running renderer
  // (StartRenderer) renders; rendered now if it stopped.
  ReleaseFiles TakeRenderedAhead(const std::string& dir, const nlohmann::json& meta);
  // Renders the releases of `meta_paths` on a thread of its own, in order,
  // into ahead_ for TakeRenderedAhead to take in the same order;
  // StopRenderer ends it and drops what was not taken.
  std::thread StartRenderer(std::vector<std::string> meta_paths);
  void StopRenderer(std::thread& renderer);
  // The indexing thread's loop.
  void Work();
  // Buffers the stored events after indexed_seq_ (a chunk of them, none past
  // `target`), advancing indexed_seq_; commits nothing.
  absl::Status IndexStored(uint64_t target);
  // Indexes the stored events after indexed_seq_, up to `target` and at most
  // a chunk of them; commits when it reaches `target` and `commit`, or when
  // enough is buffered. False if that failed (logged; a later event retries).
  bool Advance(uint64_t target, bool commit);
  // CatchUp, on the indexing thread (or with it paused).
  absl::Status IndexTheStore();
  // The seq to resume from: the lower of the index's and the derived
  // documents' last commit.
  uint64_t DerivedFrom() const;
  // Buffers the API document changes `event` implies (reading what it needs
  // from the store) and notes what its search documents are; nothing is
  // committed. With `rebuild`, rendered docs are not kept for IndexDirty.
  absl::Status Index(const v1::Event& event, bool rebuild);
  // Empties the index and the derived documents and derives both from the
  // store's tree as it now is.
  absl::Status Rebuild();

  // The docs of the release under `dir` ("dist/pair/0.1.0/"), rendered from
  // its zip; none if the zip is missing or unreadable (logged).
  ReleaseFiles RenderRelease(const std::string& dir, const nlohmann::json& meta) const;
  // API documents, buffered until Commit.
  void DeriveRelease(const std::string& dir, const nlohmann::json& meta, const ReleaseFiles& files);
  // Deletes the rendered pages the release's derived META lists, but those in
  // `keep`; without `keep`, the derived META too.
  void DeleteReleaseDocs(const std::string& dir, const ReleaseFiles* keep = nullptr);
  void DeriveDist(const std::string& path, bool put);
  void DeriveExtension(const std::string& path, bool put);
  void DeriveUser(const std::string& path, bool put);
  void DeriveTag(const std::string& path, bool put);
  // The abstract the dist's derived JSON shows (cached).
  std::string DistAbstract(const std::string& dist);
  // The derived document at `path` as the buffered changes leave it, parsed;
  // discarded if absent or not JSON.
  nlohmann::json ReadDerivedJson(const std::string& path) const;
  void PutDerived(const std::string& path, absl::string_view content);
  void DeleteDerived(const std::string& path);
  // Forgets the buffered changes (and what was cached from them).
  void DropPending();
  // Forgets the buffered changes once they are written.
  void ClearPending();

  // Indexes the release under `dir` as its dist's latest: the dist, its tags
  // and its docs (or the tree's README.txt).
  void IndexRelease(const std::string& dir, const nlohmann::json& meta, const ReleaseFiles& files);
  // Buffers the derived documents of every top file (dist, extension, user,
  // tag) the events since the last commit touched, as the tree has them now.
  void DeriveDirty();
  // Buffers the search documents of every dist, extension, user and tag the
  // events since the last commit touched, as the store's tree has them now.
  void IndexDirty();
  void ForgetDirty();
  // Re-indexes `extension` (lower case) from the newest release its
  // extension/E.json names.
  void ReindexExtension(const std::string& extension);
  // The full name user/NICK.json gives (cached until the commit).
  std::string UserName(const std::string& user);
  template <typename Doc>
  void PutOrLog(const Doc& doc);
  // Syncs the store, writes the derived documents, then commits the index, at
  // `seq` (not below the index's own seq unless `exact`: after a rebuild);
  // without `wait`, in the background (SearchIndex::CommitInBackground: an
  // error may then be an earlier commit's).
  absl::Status Commit(uint64_t seq, bool exact = false, bool wait = true);
  // Writes the buffered derived documents with `seq`.
  absl::Status CommitDerived(uint64_t seq);
  gateway::Response HandleIndexJson(const gateway::Request& request) const;

  replica::Store* const store_;
  std::unique_ptr<SearchIndex> index_;

  // Between the feed thread and the indexing thread:
  absl::Mutex work_mu_;
  uint64_t target_ ABSL_GUARDED_BY(work_mu_) = 0;         // newest seq the store applied
  bool commit_wanted_ ABSL_GUARDED_BY(work_mu_) = false;  // upstream has nothing newer
  uint64_t done_ ABSL_GUARDED_BY(work_mu_) = 0;           // newest target dealt with
  bool busy_ ABSL_GUARDED_BY(work_mu_) = false;           // reading the store
  bool paused_ ABSL_GUARDED_BY(work_mu_) = false;
  bool reset_wanted_ ABSL_GUARDED_BY(work_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(work_mu_) = false;
  std::thread worker_;
  // Release dir → its docs, rendered by Prerender, until the thread takes them.
  struct Prerendered {
    uint64_t seq;  // of the event that carried the release
    ReleaseFiles files;
  };
  absl::flat_hash_map<std::string, Prerendered> prerendered_ ABSL_GUARDED_BY(work_mu_);
  static constexpr size_t kMaxPrerendered = 256;
  // Fewer releases to render than this are rendered on the indexing thread.
  static constexpr size_t kRenderAheadMin = 16;
  // Release dir → its docs, rendered by a renderer (StartRenderer) for
  // TakeRenderedAhead; and whether it is at work.
  absl::flat_hash_map<std::string, ReleaseFiles> ahead_ ABSL_GUARDED_BY(work_mu_);
  bool rendering_ahead_ ABSL_GUARDED_BY(work_mu_) = false;

  // Indexing thread only (and CatchUp before the replica starts):
  uint64_t indexed_seq_ = 0;  // last event buffered into the index
  absl::flat_hash_map<std::string, absl::optional<std::string>> pending_;  // path → encoded
  size_t pending_bytes_ = 0;
  bool clear_derived_ = false;  // the next CommitDerived empties the family first
  int64_t event_time_us_ = 0;   // of the event being indexed
  // What the events since the last commit touched (lower-cased names), and
  // the docs rendered for their releases (by release dir).
  absl::flat_hash_set<std::string> dirty_users_, dirty_dists_, dirty_extensions_, removed_tags_;
  absl::flat_hash_map<std::string, ReleaseFiles> rendered_;
  // In a rebuild: each dist's newest release dir → the dist (its file's
  // name); and the dists whose search documents are buffered already.
  absl::flat_hash_map<std::string, std::string> newest_releases_;
  absl::flat_hash_set<std::string> indexed_dists_;
  absl::flat_hash_map<std::string, int64_t> dirty_files_;     // top file path → event time
  absl::flat_hash_map<std::string, std::string> user_names_;  // nickname → name, this commit
  // Lower-cased dist name → the abstract its derived JSON shows, as the
  // buffered changes leave it.
  absl::flat_hash_map<std::string, std::string> abstracts_;
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_INDEXER_H_
