// The contents of an aggregate event (the pending tag and user files and the
// stats files, origin/catalog/aggregate_refresher.h), rendered in two steps so
// that the feed head's lock is not held while they render.
//
// Why: every upload waits on that lock to publish. The files an aggregate
// event carries are the catalog's growing lists (a tag's or a user's every
// release, counts and rankings over every row): rendered under the lock they
// took 50 ms at 5,000 releases and growing, and each upload behind them
// waited as long (the origin's rate fell from 250 to 110 releases/s over
// 10,000 releases). DraftAggregates renders them from one read-only snapshot,
// before the lock; FinishAggregates, inside the publishing transaction, keeps
// what is still current and renders again only what another event published
// since the snapshot.
//
// What a draft may leave behind, and why that is safe: a change that commits
// after the snapshot bumps its pending row's gen, so its row stays pending and
// the next aggregate event (which that change's Changed() schedules) covers
// it; this event publishes the snapshot's version, newer than the tree's. A
// file whose tree entry changed since the snapshot (some other event wrote it)
// is rendered again under the lock, so an older version never replaces a newer
// one.
#ifndef PGXN_ORIGIN_CATALOG_AGGREGATE_DRAFT_H_
#define PGXN_ORIGIN_CATALOG_AGGREGATE_DRAFT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

// Up to this many pending aggregate files per event.
inline constexpr int64_t kAggregateBatch = 2000;

struct AggregateDraft {
  // The pending aggregate files (first `pending.size()`), then the stats files.
  std::vector<FileChange> files;
  struct Pending {
    std::string path;
    int64_t gen = 0;
  };
  std::vector<Pending> pending;
  // Per file, its tree entry's SHA-256 (raw bytes) in the snapshot, "" if none.
  std::vector<std::string> tree_sha256;
  bool more = false;  // pending files remain beyond this batch
};

// Renders up to `limit` pending aggregate files and the stats files in one
// REPEATABLE READ READ ONLY transaction of its own on `conn` (so not inside
// another transaction).
absl::StatusOr<AggregateDraft> DraftAggregates(PgConnection& conn,
                                               int64_t limit = kAggregateBatch);

// What an aggregate event publishes, and `more` when pending files remain.
struct AggregateBatch {
  std::vector<FileChange> files;
  bool more = false;
};

// Inside the publishing transaction (after the feed head's lock): the draft's
// files, those another event wrote since the snapshot rendered again, and the
// draft's pending rows deleted where no change touched them since.
absl::StatusOr<AggregateBatch> FinishAggregates(PgConnection& conn, AggregateDraft draft);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_CATALOG_AGGREGATE_DRAFT_H_
