// What the Feed service serves from: a readable, append-only event log. The
// origin implements it over Postgres (origin/publishing/pg_event_log.h), every other node
// over its RocksDB store (replica/store.h). Implementations are thread-safe.
#ifndef PGXN_FEED_EVENT_LOG_H_
#define PGXN_FEED_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "feed/event_chain.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::feed {

// A consistent view of a log's tree at one event, read in batches. Used by
// one thread at a time (any thread); may outlive nothing but its log.
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  // The event the snapshot belongs to, without contents.
  virtual const v1::Event& head() const = 0;
  // The size of the next file's content; nullopt once every file was read.
  virtual absl::optional<uint64_t> NextFileBytes() const = 0;
  // The next files in path order, each a PUT op with its content: as many as
  // fit in `max_bytes` of content, and at least one while any remain; empty
  // once every file was read.
  virtual absl::StatusOr<std::vector<v1::Op>> Next(uint64_t max_bytes) = 0;
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // The newest event's seq, epoch and hash (seq 0 and GenesisHash() when empty;
  // the epoch may be empty on a node that has not received anything yet).
  virtual absl::StatusOr<ChainTip> Head() const = 0;

  // Events with seq > after_seq in seq order: at most max_events, and stopping
  // once max_bytes of content is reached (always at least one event if any).
  // Without include_content the ops carry no bytes.
  virtual absl::StatusOr<std::vector<v1::Event>> ReadAfter(uint64_t after_seq, size_t max_events,
                                                           size_t max_bytes,
                                                           bool include_content) const = 0;

  // Blocks until the head seq exceeds `seq` or `deadline` passes; returns the
  // head seq seen last. Wakes as soon as an event is committed.
  virtual uint64_t WaitForHeadAbove(uint64_t seq, absl::Time deadline) const = 0;

  // The origin's Ed25519 public key (32 bytes); empty while a node has not
  // pinned one yet.
  virtual std::string OriginKey() const = 0;

  // A signed heartbeat of the origin: at the origin a fresh one for its head,
  // on a relay the newest one it received. nullopt when there is none yet.
  virtual absl::optional<v1::Heartbeat> OriginHeartbeat() const = 0;

  // The first seq after which this log can stream events: 0 for a full log,
  // S for a node bootstrapped from a snapshot at seq S (it holds the event
  // at S but none before). ReadAfter needs after_seq >= LogStart().
  virtual uint64_t LogStart() const = 0;

  // The content of a PUT op the log holds, by its sha256 (32 raw bytes) and
  // size, for a reader that wants one small file of an event (a release's
  // META.json) without the rest of its contents. NotFound when the log does
  // not hold it; DataLoss when what it holds is not `size` bytes. The
  // default, for logs that keep no contents, is Unimplemented.
  virtual absl::StatusOr<std::string> ReadContent(absl::string_view sha256, uint64_t size) const {
    return absl::UnimplementedError("this event log keeps no contents");
  }

  // The whole tree at the head, to be read a batch at a time (see
  // SnapshotReader). FailedPrecondition when the log is empty. Opening is
  // short; the reader holds no database connection between its calls, so a
  // client that reads slowly ties up nothing but the reader's memory (the
  // origin's keeps the tree's listing, a few hundred bytes a file).
  virtual absl::StatusOr<std::unique_ptr<SnapshotReader>> OpenSnapshot() const = 0;
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_EVENT_LOG_H_
