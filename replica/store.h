// The node's durable state in RocksDB (docs/architecture.md §4): the tree (`files`:
// path → sha256, size, media type, seq; `blobs`: sha256 → bytes), the event
// log as received (`events`: big-endian seq → the event without contents), and
// `meta`: applied seq, epoch, chain hash, the pinned origin key, the tree's
// LtHash state (feed/tree_digest.h), the newest origin heartbeat, the seq the
// log starts at, and small named values for other components. A role that
// derives documents from the tree (the indexer's enriched JSON and rendered
// docs) keeps them in `derived`, with the seq they describe; they are never
// relayed and never part of the tree digest.
//
// Each event is verified (chain, signature, contents, and that the tree it
// leaves adds up to the digest the origin signed) and applied in one
// WriteBatch, so after a crash the store holds exactly the events up to some
// seq, never part of one. A snapshot bootstrap writes in several batches
// behind a "bootstrapping" mark; a store opened with the mark set is cleared.
//
// Thread-safety: all methods may be called concurrently; writers (Apply,
// bootstrap, Clear) are serialised internally. Readers never see a
// half-applied event's meta, but a reader that calls GetFile twice may see two
// different seqs.
#ifndef PGXN_REPLICA_STORE_H_
#define PGXN_REPLICA_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "feed/event_chain.h"
#include "feed/event_log.h"
#include "feed/tree_digest.h"

namespace rocksdb {
class Snapshot;
}

namespace pgxn::replica {

namespace v1 = ::pgxn::feed::v1;

struct StoredFile {
  std::string sha256;  // 32 raw bytes
  uint64_t size = 0;
  std::string media_type;
  uint64_t seq = 0;     // the event that last wrote it
  int64_t time_us = 0;  // that event's time
};

class Store final : public feed::EventLog {
 public:
  // Opens or creates the store in `dir`.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir);
  // Opens the store in `dir` for reading only, beside the node that may be
  // running on it (a RocksDB read-only instance: nothing in `dir` is
  // written). The store shows `dir` as it was when opened, or at the last
  // CatchUpWithNode. Every write method fails (FailedPrecondition).
  // NotFound if `dir` holds no store; Unavailable while the node is writing
  // a snapshot (try again later).
  static absl::StatusOr<std::unique_ptr<Store>> OpenReadOnly(const std::string& dir);
  // A store opened with OpenReadOnly: opens it anew, to show what the node
  // has written since. Not while other threads read it. FailedPrecondition
  // for a store opened with Open; Unavailable while the node is writing a
  // snapshot: the files are then incomplete, and nothing should be read
  // until a later call succeeds (the store still shows what it showed).
  absl::Status CatchUpWithNode();
  bool read_only() const;
  ~Store() override;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The last applied event (seq 0 when empty).
  feed::ChainTip Tip() const;

  // Pins the origin's public key (32 bytes). FailedPrecondition if another
  // key is pinned already.
  absl::Status PinOriginKey(absl::string_view public_key);

  // Verifies `event` (feed::VerifyEvent with contents required and the pinned key,
  // and the tree digest) and applies it atomically. Returns true if applied,
  // false if its seq was already applied with the same hash (a replay). A
  // replay whose hash differs from the stored event's is FailedPrecondition:
  // the upstream forked. FailedPrecondition too if no origin key is pinned.
  //
  // `checked_with_key`: the key a CheckEvent of this very event succeeded
  // with; if it is still the pinned one, only the link to the tip and the
  // tree digest remain to be verified.
  absl::StatusOr<bool> Apply(const v1::Event& event, absl::string_view checked_with_key = {});
  // Everything Apply verifies of `event` that does not depend on the tip
  // (feed::VerifyEventAlone with contents required and the pinned key); on
  // success, sets `*key` to the key used, for Apply. Any thread; no write.
  absl::Status CheckEvent(const v1::Event& event, std::string* key) const;

  // Keeps a verified heartbeat of the origin (newer than the one held) for
  // relaying; PermissionDenied for a bad signature, FailedPrecondition for
  // another epoch.
  absl::Status RecordHeartbeat(const v1::Heartbeat& heartbeat);

  // Replaces an empty store's contents with a snapshot: `head` is the event
  // the snapshot belongs to (verified like any event except for the chain
  // link, which a snapshot cannot show), `next_file` yields the files one by
  // one (NotFound when there are no more). Each file's content must match its
  // sha256, the files must stay within head's signed tree_files and
  // tree_bytes (when it states them: refused at the first file past them,
  // before it is written) and add up to head's tree digest; otherwise nothing
  // is kept: what was written is deleted and compacted away before this
  // returns (DataLoss). FailedPrecondition if the store is not empty or no
  // key is pinned.
  absl::Status Bootstrap(const v1::Event& head,
                         const std::function<absl::StatusOr<v1::Op>()>& next_file);

  // Forgets everything but the named values (a new epoch is a new log).
  absl::Status Clear();

  // Makes every applied event durable on disk (Apply writes the WAL without
  // syncing: a process crash loses nothing, a machine crash may lose the last
  // events, which the upstream sends again). Callers that record progress
  // elsewhere (the indexer's Xapian commit) sync first, so that record is
  // never ahead of the store.
  absl::Status SyncWal() const;

  // NotFound if `path` is not in the tree.
  absl::StatusOr<StoredFile> GetFile(absl::string_view path) const;
  // Changes after every write that may change the tree's files (Apply,
  // Bootstrap, Clear), once the write is visible to readers: what a reader
  // read after seeing a version is at least that new, so a cache of files
  // tagged with the version it read first (replica/hot_files.h) never
  // serves a file older than the tree.
  uint64_t FilesVersion() const { return files_version_.load(std::memory_order_acquire); }
  // NotFound if no content with this sha256 (32 raw bytes) is stored.
  // DataLoss if its chunks do not assemble into whole content (a chunk
  // before the last one short) or, when the caller knows the file's size
  // (StoredFile::size, Op::size), into that many bytes: a store damaged
  // under it never hands on a truncated file as whole.
  absl::StatusOr<std::string> GetBlob(absl::string_view sha256,
                                      absl::optional<uint64_t> expected_size = {}) const;
  // Up to `length` bytes of that content from `offset` (fewer at its end, none
  // past it), reading only the chunks they lie in (about 64 KiB each), so
  // that serving a large file takes bounded memory. Content stored before
  // chunking is read whole. NotFound as GetBlob.
  absl::StatusOr<std::string> ReadBlobRange(absl::string_view sha256, uint64_t offset,
                                            size_t length) const;
  // The chunk size: a range within one chunk costs one read.
  static constexpr size_t kBlobChunkBytes = 64 * 1024;
  // The stored event at `seq` with its contents re-attached when asked.
  absl::StatusOr<v1::Event> GetEvent(uint64_t seq, bool include_content) const;

  // Calls `visit` for each file in path order, from the first path not
  // below `from`, until it returns false.
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, const StoredFile&)>& visit,
      absl::string_view from = {}) const;

  // The digest of the tree as this store holds it (feed/tree_digest.h).
  std::string TreeDigestNow() const;

  // Small named values owned by other components (e.g. the indexer).
  absl::StatusOr<std::string> GetMeta(absl::string_view key) const;  // NotFound if unset
  absl::Status PutMeta(absl::string_view key, absl::string_view value);

  // The `derived` family. One change: a key and its new value, or nullopt to
  // delete it.
  using DerivedChange = std::pair<std::string, absl::optional<std::string>>;
  // NotFound if `key` is absent.
  absl::StatusOr<std::string> GetDerived(absl::string_view key) const;
  // Applies `changes` in order and records `seq` as DerivedSeq(), in one
  // synced batch; with `clear_first`, every derived key is deleted first (in
  // the same batch), for a rebuild from scratch.
  absl::Status WriteDerived(const std::vector<DerivedChange>& changes, uint64_t seq,
                            bool clear_first);
  // The seq recorded by the last WriteDerived; 0 if none.
  uint64_t DerivedSeq() const;

  // feed::EventLog.
  absl::StatusOr<feed::ChainTip> Head() const override;
  absl::StatusOr<std::vector<v1::Event>> ReadAfter(uint64_t after_seq, size_t max_events,
                                                   size_t max_bytes,
                                                   bool include_content) const override;
  uint64_t WaitForHeadAbove(uint64_t seq, absl::Time deadline) const override;
  std::string OriginKey() const override;
  absl::optional<v1::Heartbeat> OriginHeartbeat() const override;
  uint64_t LogStart() const override;
  absl::StatusOr<std::string> ReadContent(absl::string_view sha256, uint64_t size) const override {
    return GetBlob(sha256, size);
  }
  // Reads the tip and the tree through one RocksDB snapshot, held until the
  // reader is gone.
  absl::StatusOr<std::unique_ptr<feed::SnapshotReader>> OpenSnapshot() const override;

 private:
  struct Db;
  // What readers need, changed only together with the data by a writer.
  struct State {
    feed::ChainTip tip;
    std::string origin_key;
    feed::TreeDigest tree;
    uint64_t log_start = 0;
    absl::optional<v1::Heartbeat> heartbeat;
  };
  Store(std::unique_ptr<Db> db, State state);
  // The state `db` holds in `meta`.
  static absl::StatusOr<State> LoadState(const Db& db);
  // FailedPrecondition on a read-only store, which cannot write.
  absl::Status CheckWritable() const;
  // A read-only RocksDB instance of the store in `dir`.
  static absl::StatusOr<std::unique_ptr<Db>> OpenReadOnlyDb(const std::string& dir);

  // Rewrites blobs that stores written before chunking hold whole (once).
  static absl::Status ChunkWholeBlobs(Db& db);
  absl::Status AttachContents(v1::Event* event) const;
  State CurrentState() const;
  // The content with this sha256, whole or chunked, as of `snapshot` (null:
  // now).
  // DataLoss as GetBlob.
  absl::StatusOr<std::string> ReadWholeBlob(absl::string_view sha256,
                                            const rocksdb::Snapshot* snapshot,
                                            absl::optional<uint64_t> expected_size) const;
  // What OpenSnapshot returns: reads through ReadWholeBlob.
  class TreeSnapshot;

  void FilesChanged() { files_version_.fetch_add(1, std::memory_order_acq_rel); }

  std::unique_ptr<Db> db_;
  std::string read_only_dir_;  // OpenReadOnly's `dir`, to open it anew
  std::atomic<uint64_t> files_version_{0};
  absl::Mutex write_mu_;  // serialises writers
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_STORE_H_
