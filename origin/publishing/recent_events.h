// The newest committed events with their contents, kept in memory by the
// origin so that many subscribers following the head share one read of each
// event from Postgres instead of querying it once each (ops/bench/fanout).
// Events are immutable once committed, so a cached event is never stale.
//
// Thread-safety: all methods are thread-safe.
#ifndef PGXN_ORIGIN_PUBLISHING_RECENT_EVENTS_H_
#define PGXN_ORIGIN_PUBLISHING_RECENT_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::origin {

namespace v1 = ::pgxn::feed::v1;

class RecentEvents {
 public:
  // Holds at most `max_bytes` of file contents (and at least the newest event).
  explicit RecentEvents(size_t max_bytes) : max_bytes_(max_bytes) {}

  // The events after `after_seq`, as EventLog::ReadAfter returns them (at
  // most `max_events`, stopping once `max_bytes` of contents are reached),
  // if the cache holds event after_seq + 1; empty otherwise.
  std::vector<v1::Event> Read(uint64_t after_seq, size_t max_events, size_t max_bytes,
                              bool include_content) const;

  // Adds consecutive events with their contents. Those already held are
  // skipped; events that do not follow the newest held one replace the cache.
  void Add(const std::vector<v1::Event>& events);

 private:
  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  struct Held {
    std::shared_ptr<const v1::Event> full;
    // The same without contents, for light reads: copying the full event and
    // clearing its contents would keep their memory (a cleared string keeps
    // its capacity) in every light copy.
    std::shared_ptr<const v1::Event> light;
  };
  std::deque<Held> events_ ABSL_GUARDED_BY(mu_);  // by seq
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PUBLISHING_RECENT_EVENTS_H_
