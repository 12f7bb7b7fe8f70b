// Test support: an event log in memory (feed::EventLog), for the tests of
// what reads a log (event_json, the nodes' event streams). Events are
// appended as a test publishes them; waiters wake at once. Thread-safe.
#ifndef PGXN_FEED_TEST_LOG_H_
#define PGXN_FEED_TEST_LOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "feed/event_log.h"

namespace pgxn::feed {

class MemoryLog final : public EventLog {
 public:
  // Appends `event` (with its contents, which ReadContent then serves).
  void Append(v1::Event event);
  // What LogStart reports (a node bootstrapped from a snapshot).
  void SetLogStart(uint64_t seq);
  // Forgets every event and content, as a node's log does when it starts
  // over (a new epoch, a store cleared); LogStart goes back to 0.
  void StartOver();
  // How many ReadAfter and ReadContent calls were made (to see caching).
  uint64_t reads() const;

  absl::StatusOr<ChainTip> Head() const override;
  absl::StatusOr<std::vector<v1::Event>> ReadAfter(uint64_t after_seq, size_t max_events,
                                                   size_t max_bytes,
                                                   bool include_content) const override;
  uint64_t WaitForHeadAbove(uint64_t seq, absl::Time deadline) const override;
  std::string OriginKey() const override;
  absl::optional<v1::Heartbeat> OriginHeartbeat() const override { return absl::nullopt; }
  uint64_t LogStart() const override;
  absl::StatusOr<std::string> ReadContent(absl::string_view sha256, uint64_t size) const override;
  absl::StatusOr<std::unique_ptr<SnapshotReader>> OpenSnapshot() const override;

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::Event> events_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> contents_ ABSL_GUARDED_BY(mu_);
  uint64_t log_start_ ABSL_GUARDED_BY(mu_) = 0;
  mutable uint64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_TEST_LOG_H_
