// The indexer role (DESIGN.md §1): a replica whose extension keeps the search
// indexes in step with the store and serves the search API and an index.json
// that lists it. Every index change is derived from the store alone, so a
// deleted index directory is rebuilt from the log on the next start.
//
// Thread-safety: OnApplied and CatchUp run on the feed thread (the index's
// only writer); the HTTP routes run concurrently on the server's threads.
#ifndef PGXN_INDEXER_INDEXER_H_
#define PGXN_INDEXER_INDEXER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "indexer/search_index.h"
#include "nlohmann/json.hpp"
#include "node/replica.h"
#include "node/store.h"

namespace pgxn::indexer {

namespace v1 = ::pgxn::feed::v1;

class Indexer final : public node::ReplicaExtension {
 public:
  // Opens (or creates) the index in `index_dir` over `store` (not owned).
  static absl::StatusOr<std::unique_ptr<Indexer>> Open(const node::Store* store,
                                                       const std::string& index_dir);

  // Indexes every stored event the index has not seen (after a crash, or
  // after the index directory was deleted) and commits.
  absl::Status CatchUp();

  void AddRoutes(gateway::Router* router) override;
  // Indexes the event at once; commits when caught up with the upstream, or
  // at least every kMaxUncommitted events while catching up.
  void OnApplied(const v1::Event& event, bool caught_up) override;
  // Empties the index and indexes the store's tree as it now is.
  void OnReset() override;

  static constexpr int kMaxUncommitted = 1000;

  const SearchIndex& index() const { return *index_; }

 private:
  Indexer(const node::Store* store, std::unique_ptr<SearchIndex> index)
      : store_(store), index_(std::move(index)) {}
  // Buffers the index changes `event` implies (reading what it needs from the
  // store) without committing.
  absl::Status Index(const v1::Event& event);
  // Indexes the release whose files are under `dir` ("dist/pair/0.1.0/") as
  // its dist's latest: the dist, its tags, its README and, with
  // `with_extensions`, the extensions it provides. Returns its META
  // (discarded if absent or not JSON).
  nlohmann::json IndexRelease(const std::string& dir, bool with_extensions);
  // Re-indexes `extension` (lower case) from the newest release its
  // extension/E.json names.
  void ReindexExtension(const std::string& extension);
  template <typename Doc>
  void PutOrLog(const Doc& doc);
  // Syncs the store, then commits the index at `seq`.
  absl::Status Commit(uint64_t seq);
  gateway::Response HandleIndexJson(const gateway::Request& request) const;

  const node::Store* const store_;
  std::unique_ptr<SearchIndex> index_;
  uint64_t indexed_seq_ = 0;  // last event buffered into the index (feed thread only)
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_INDEXER_H_
