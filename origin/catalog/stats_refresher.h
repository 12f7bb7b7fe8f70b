// Publishes the stats files (stats/*.json, docs/pgxn.md §2) in `stats` events of
// their own, a moment after the changes that alter them, instead of in each
// release's event.
//
// Why: the stats are aggregates over the whole catalog (counts, the 56 newest
// releases and extensions, the most prolific users, the popular tags). Kept
// in every release's event, as PGXN writes them with every release, they cost
// each release an aggregate over every row at the origin, and they are most
// of what the network carries: about 34 KB of a release event's 38 KB at 2,000
// releases. Refreshed at most once per `delay`, one event covers every change
// of that moment, and a release event carries only the release's own files.
// The trade: the stats lag a change by up to `delay`.
//
// Thread-safety: Changed may be called from any thread.
#ifndef PGXN_ORIGIN_CATALOG_STATS_REFRESHER_H_
#define PGXN_ORIGIN_CATALOG_STATS_REFRESHER_H_

#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

class StatsRefresher {
 public:
  // Starts the refreshing thread. `publishing` seals and announces the
  // stats events (its on_stats_changed is not used). A refresh runs at once:
  // a previous run may have crashed before its last one.
  StatsRefresher(PgPool* pool, Publishing publishing, absl::Duration delay);
  // Stop().
  ~StatsRefresher();

  // A change that alters the stats has committed: they are published within
  // `delay`.
  void Changed();
  // Publishes a pending refresh at once, then stops the thread. Idempotent.
  void Stop();

 private:
  void Run();
  // One `stats` event with the stats files that differ from the tree (none
  // if none do).
  absl::Status Refresh();

  PgPool* const pool_;
  const Publishing publishing_;
  const absl::Duration delay_;
  absl::Mutex mu_;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time due_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_CATALOG_STATS_REFRESHER_H_
