// Publishes the files that aggregate the catalog in `stats` events of their
// own, a moment after the changes that alter them, instead of in each
// release's event: the stats files (stats/*.json, docs/pgxn.md §2) and the
// tag and user files that releases and removals deferred
// (FileChange::deferred, recorded in aggregate_pending).
//
// Why: these files grow with the catalog. The stats are aggregates over every
// row (counts, the 56 newest releases and extensions, the most prolific users,
// the popular tags); a tag's or a user's file lists every release of the tag
// or the user. Rendered in every release's event, as PGXN writes them, they
// make a release's cost at the origin, and its event's size, grow with the
// catalog (stats: 34 KB of a 38 KB release event at 2,000 releases; tag and
// user files: the origin published 76 releases/s into an empty catalog and
// 35/s at 8,000). Refreshed at most once per `delay`, one event covers every
// change of that moment, and a release event carries only the release's own
// files (its dist and extension files included: clients find a new version
// there at once). The trade: these files lag a change by up to `delay`.
//
// Cost: one refresh renders every pending list whole, so its work grows with
// the catalog while refreshes come at most once per `delay`; in a 100,000-
// release catalog they would take a core of their own and slow uploads down.
// So after a refresh whose rendering took T, the next one waits at least
// kRestFactor * T (as well as `delay`; at most kMaxRest): refreshes use at
// most 1 / (1 + kRestFactor) of the time (an eighth), whatever the catalog,
// and their files lag a change by up to `delay` or 8 T, whichever is longer.
//
// Crash safety: deferred paths are recorded in the transaction of the change,
// and an aggregate event deletes the rows it covers in its own, so nothing is
// lost between the two; a refresh runs when the refresher starts (a previous
// run may have crashed before its last one) and when it stops.
//
// Thread-safety: Changed may be called from any thread.
#ifndef PGXN_ORIGIN_CATALOG_AGGREGATE_REFRESHER_H_
#define PGXN_ORIGIN_CATALOG_AGGREGATE_REFRESHER_H_

#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

class AggregateRefresher {
 public:
  // Starts the refreshing thread. `publishing` seals and announces the
  // stats events (its on_stats_changed is not used). A refresh runs at once:
  // a previous run may have crashed before its last one.
  AggregateRefresher(PgPool* pool, Publishing publishing, absl::Duration delay);
  // Stop().
  ~AggregateRefresher();

  // A change that alters the stats has committed: they are published within
  // `delay`.
  void Changed();
  // Publishes a pending refresh at once, then stops the thread. Idempotent.
  void Stop();

 private:
  void Run();
  // One `stats` event with the stats files that differ from the tree and up
  // to kAggregateBatch pending aggregate files (no event if nothing differs);
  // `more` is set when pending files remain for another event, `rendering`
  // to the time the files took to render (DraftAggregates).
  absl::Status Refresh(bool* more, absl::Duration* rendering);

  static constexpr int kRestFactor = 7;
  // However long a refresh took, its rest is at most this.
  static constexpr absl::Duration kMaxRest = absl::Minutes(2);

  PgPool* const pool_;
  const Publishing publishing_;
  const absl::Duration delay_;
  absl::Mutex mu_;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time due_ ABSL_GUARDED_BY(mu_);
  // No refresh starts before this: the last one's duration times kRestFactor
  // after it ended.
  absl::Time rested_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_CATALOG_AGGREGATE_REFRESHER_H_
