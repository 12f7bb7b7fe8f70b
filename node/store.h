// The node's durable state in RocksDB (DESIGN.md §4): the tree (`files`:
// path → sha256, size, media type, seq; `blobs`: sha256 → bytes), the event
// log as received (`events`: big-endian seq → the event without contents), and
// `meta` (applied seq, epoch, chain hash, and small named values for other
// components). Each event is applied in one WriteBatch, so after a crash the
// store holds exactly the events up to some seq, never part of one.
//
// Thread-safety: all methods may be called concurrently; Apply calls are
// serialised internally. Readers never see a half-applied event's meta, but a
// reader that calls GetFile twice may see two different seqs.
#ifndef PGXN_NODE_STORE_H_
#define PGXN_NODE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "node/event_chain.h"
#include "node/event_log.h"

namespace pgxn::node {

struct StoredFile {
  std::string sha256;  // 32 raw bytes
  uint64_t size = 0;
  std::string media_type;
  uint64_t seq = 0;     // the event that last wrote it
  int64_t time_us = 0;  // that event's time
};

class Store final : public EventLog {
 public:
  // Opens or creates the store in `dir`.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir);
  ~Store() override;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The last applied event (seq 0 when empty).
  ChainTip Tip() const;

  // Verifies `event` (VerifyEvent with contents required) against the tip and
  // applies it atomically. Returns true if applied, false if its seq was
  // already applied with the same hash (a replay). A replay whose hash differs
  // from the stored event's is FailedPrecondition: the upstream forked.
  absl::StatusOr<bool> Apply(const v1::Event& event);

  // Makes every applied event durable on disk (Apply writes the WAL without
  // syncing: a process crash loses nothing, a machine crash may lose the last
  // events, which the upstream sends again). Callers that record progress
  // elsewhere (the indexer's Xapian commit) sync first, so that record is
  // never ahead of the store.
  absl::Status SyncWal() const;

  // NotFound if `path` is not in the tree.
  absl::StatusOr<StoredFile> GetFile(absl::string_view path) const;
  // NotFound if no content with this sha256 (32 raw bytes) is stored.
  absl::StatusOr<std::string> GetBlob(absl::string_view sha256) const;
  // The stored event at `seq` with its contents re-attached when asked.
  absl::StatusOr<v1::Event> GetEvent(uint64_t seq, bool include_content) const;

  // Calls `visit` for each file in path order until it returns false.
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, const StoredFile&)>& visit) const;

  // Small named values owned by other components (e.g. the indexer).
  absl::StatusOr<std::string> GetMeta(absl::string_view key) const;  // NotFound if unset
  absl::Status PutMeta(absl::string_view key, absl::string_view value);

  // EventLog.
  absl::StatusOr<ChainTip> Head() const override;
  absl::StatusOr<std::vector<v1::Event>> ReadAfter(uint64_t after_seq, size_t max_events,
                                                   size_t max_bytes,
                                                   bool include_content) const override;
  uint64_t WaitForHeadAbove(uint64_t seq, absl::Time deadline) const override;

 private:
  struct Db;
  explicit Store(std::unique_ptr<Db> db, ChainTip tip);

  absl::Status AttachContents(v1::Event* event) const;

  std::unique_ptr<Db> db_;
  absl::Mutex apply_mu_;  // serialises Apply
  mutable absl::Mutex tip_mu_;
  ChainTip tip_ ABSL_GUARDED_BY(tip_mu_);
};

}  // namespace pgxn::node

#endif  // PGXN_NODE_STORE_H_
