// The origin's event log as the Feed service sees it: events read from
// Postgres, woken by LISTEN/NOTIFY. A listener thread holds one connection
// LISTENing on the feed channel and refreshes the cached head on every
// notification (and, as a safety net, every few seconds and after
// reconnecting), so publishers in any process, including `pgxnd user add`, wake
// the streams. Publishers in this process also call NoteCommitted to skip the
// round trip.
//
// Thread-safety: all methods are thread-safe.
#ifndef PGXN_ORIGIN_PUBLISHING_PG_EVENT_LOG_H_
#define PGXN_ORIGIN_PUBLISHING_PG_EVENT_LOG_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "feed/event_log.h"
#include "feed/signing.h"
#include "origin/pg/pg.h"
#include "origin/publishing/recent_events.h"

namespace pgxn::origin {

namespace v1 = ::pgxn::feed::v1;

class PgEventLog final : public feed::EventLog {
 public:
  // Reads the head and starts the listener. `pool` must outlive the log.
  // `refresh` is the safety-net re-read interval (InfiniteDuration: only
  // notifications and reconnections refresh the head; tests use it to prove
  // that NOTIFY alone wakes streams).
  // `key` signs the heartbeats; it must outlive the log.
  static absl::StatusOr<std::unique_ptr<PgEventLog>> Start(
      PgPool* pool, const feed::KeyPair* key, absl::Duration refresh = absl::Seconds(5));
  ~PgEventLog() override;

  // Raises the cached head to `tip` (never lowers it).
  void NoteCommitted(const feed::ChainTip& tip);

  absl::StatusOr<feed::ChainTip> Head() const override;
  absl::StatusOr<std::vector<v1::Event>> ReadAfter(uint64_t after_seq, size_t max_events,
                                                   size_t max_bytes,
                                                   bool include_content) const override;
  uint64_t WaitForHeadAbove(uint64_t seq, absl::Time deadline) const override;
  std::string OriginKey() const override { return key_->public_key; }
  // A fresh heartbeat for the head, signed now.
  absl::optional<v1::Heartbeat> OriginHeartbeat() const override;
  uint64_t LogStart() const override { return 0; }
  absl::StatusOr<std::string> ReadContent(absl::string_view sha256, uint64_t size) const override;
  // The head event and the tree's listing (paths, hashes, sizes, media
  // types) in one short REPEATABLE READ transaction on a pooled connection;
  // contents are then read a batch at a time by hash, each batch on a pooled
  // connection taken only for that query (blobs never change or go away).
  absl::StatusOr<std::unique_ptr<feed::SnapshotReader>> OpenSnapshot() const override;

 private:
  PgEventLog(PgPool* pool, const feed::KeyPair* key, absl::Duration refresh, feed::ChainTip head);
  void Listen();

  PgPool* const pool_;
  const feed::KeyPair* const key_;
  const absl::Duration refresh_;
  int wake_fd_ = -1;  // eventfd that interrupts the listener's poll on shutdown
  std::thread listener_;

  // Subscribers at the head read new events from here, not each from Postgres.
  mutable RecentEvents recent_{size_t{64} << 20};
  // Reads within kNearHead of the head go to Postgres one at a time.
  static constexpr uint64_t kNearHead = 256;
  mutable absl::Mutex head_read_mu_;
  mutable absl::Mutex mu_;
  feed::ChainTip head_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PUBLISHING_PG_EVENT_LOG_H_
