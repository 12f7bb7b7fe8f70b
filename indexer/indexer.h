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

  static constexpr int kMaxUncommitted = 1000;

  const SearchIndex& index() const { return *index_; }

 private:
  Indexer(const node::Store* store, std::unique_ptr<SearchIndex> index)
      : store_(store), index_(std::move(index)) {}
  // Buffers the index changes `event` implies (reading what it needs from the
  // store) without committing.
  absl::Status Index(const v1::Event& event);
  template <typename Doc>
  void PutOrLog(const Doc& doc);
  gateway::Response HandleIndexJson(const gateway::Request& request) const;

  const node::Store* const store_;
  std::unique_ptr<SearchIndex> index_;
  uint64_t indexed_seq_ = 0;  // last event buffered into the index (feed thread only)
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_INDEXER_H_
