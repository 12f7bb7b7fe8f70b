#include "origin/catalog/stats_refresher.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "origin/catalog/catalog.h"

namespace pgxn::origin {

StatsRefresher::StatsRefresher(PgPool* pool, Publishing publishing, absl::Duration delay)
    : pool_(pool), publishing_(std::move(publishing)), delay_(delay) {
  {
    absl::MutexLock lock(&mu_);
    dirty_ = true;
    due_ = absl::Now();  // at once: usually nothing differs, and nothing is published
  }
  thread_ = std::thread([this] { Run(); });
}

StatsRefresher::~StatsRefresher() { Stop(); }

void StatsRefresher::Changed() {
  absl::MutexLock lock(&mu_);
  if (dirty_) return;  // the refresh already due covers this change too
  dirty_ = true;
  due_ = absl::Now() + delay_;
}

void StatsRefresher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void StatsRefresher::Run() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(
        +[](StatsRefresher* self)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->dirty_ || self->stopping_; },
        this));
    // Changes keep coming during the delay; one refresh at its end covers them.
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), due_);
    if (!dirty_) return;  // stopping, nothing pending
    dirty_ = false;
    mu_.Unlock();
    absl::Status refreshed = Refresh();
    mu_.Lock();
    if (!refreshed.ok()) {
      base::LogError(absl::StrCat("Cannot publish the stats files: ", refreshed.ToString(),
                                  stopping_ ? "; the next start will" : "; will try again"));
      if (stopping_) return;
      if (!dirty_) {
        dirty_ = true;
        due_ = absl::Now() + std::max(delay_, absl::Seconds(1));
      }
    }
    if (stopping_ && !dirty_) return;  // a change during that refresh still goes out
  }
}

absl::Status StatsRefresher::Refresh() {
  absl::StatusOr<PgPool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  EventHeader header{feed::EventKind::kStats, "pgxnd", "", ""};
  header.skip_if_unchanged = true;
  Publishing publishing = publishing_;
  publishing.on_stats_changed = nullptr;
  return Publish(
             **conn, header,
             [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
               return RenderStatsFiles(**conn);
             },
             publishing)
      .status();
}

}  // namespace pgxn::origin
