#include "origin/catalog/aggregate_refresher.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "origin/catalog/aggregate_draft.h"

namespace pgxn::origin {

AggregateRefresher::AggregateRefresher(PgPool* pool, Publishing publishing, absl::Duration delay)
    : pool_(pool), publishing_(std::move(publishing)), delay_(delay) {
  {
    absl::MutexLock lock(&mu_);
    dirty_ = true;
    due_ = absl::Now();  // at once: usually nothing differs, and nothing is published
  }
  thread_ = std::thread([this] { Run(); });
}

AggregateRefresher::~AggregateRefresher() { Stop(); }

void AggregateRefresher::Changed() {
  absl::MutexLock lock(&mu_);
  if (dirty_) return;  // the refresh already due covers this change too
  dirty_ = true;
  due_ = std::max(absl::Now() + delay_, rested_);
}

void AggregateRefresher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AggregateRefresher::Run() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(
        +[](AggregateRefresher* self)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->dirty_ || self->stopping_; },
        this));
    // Changes keep coming during the delay; one refresh at its end covers them.
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), due_);
    if (!dirty_) return;  // stopping, nothing pending
    dirty_ = false;
    mu_.Unlock();
    bool more = false;
    absl::Duration rendering = absl::ZeroDuration();
    absl::Status refreshed = Refresh(&more, &rendering);
    mu_.Lock();
    if (refreshed.ok()) {
      rested_ = absl::Now() + std::min(kRestFactor * rendering, kMaxRest);
      // A change during the refresh set its due time from the rest before.
      if (dirty_) due_ = std::max(due_, rested_);
    }
    if (refreshed.ok() && more && !dirty_) {
      dirty_ = true;  // the next batch once rested
      due_ = rested_;
    }
    if (!refreshed.ok()) {
      base::LogError(absl::StrCat("Cannot publish the stats files: ", refreshed.ToString(),
                                  stopping_ ? "; the next start will" : "; will try again"));
      if (stopping_) return;
      if (!dirty_) {
        dirty_ = true;
        due_ = std::max(absl::Now() + std::max(delay_, absl::Seconds(1)), rested_);
      }
    }
    if (stopping_ && !dirty_) return;  // a change during that refresh still goes out
  }
}

absl::Status AggregateRefresher::Refresh(bool* more, absl::Duration* rendering) {
  absl::StatusOr<PgPool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  // Rendered before the feed head's lock, which every upload waits on
  // (origin/catalog/aggregate_draft.h). Only this work counts for the rest:
  // waiting for a connection or the lock is not the refresher's cost.
  const absl::Time started = absl::Now();
  absl::StatusOr<AggregateDraft> draft = DraftAggregates(**conn);
  *rendering = absl::Now() - started;
  if (!draft.ok()) return draft.status();
  EventHeader header{feed::EventKind::kStats, "pgxnd", "", ""};
  header.skip_if_unchanged = true;
  Publishing publishing = publishing_;
  publishing.on_stats_changed = nullptr;
  return Publish(
             **conn, header,
             [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
               // Inside the transaction, after the feed head's lock: a change
               // committing a pending path meanwhile either came before the
               // lock (and bumped its row, which then stays) or waits for it.
               absl::StatusOr<AggregateBatch> batch = FinishAggregates(**conn, *std::move(draft));
               if (!batch.ok()) return batch.status();
               *more = batch->more;
               return std::move(batch->files);
             },
             publishing)
      .status();
}

}  // namespace pgxn::origin
