// The gRPC Feed service (proto/pgxn/feed/v1/feed.proto) over any EventLog: the
// origin serves its Postgres log with it, every other node relays its store.
// Events pass through exactly as the log holds them; nothing is re-signed.
//
// Built on gRPC's callback API so that an open stream costs memory, not a
// thread (docs/architecture.md §3):
//  - a few worker threads do every read of the log (the only calls that may
//    block), a stream at a time, and hand the messages to gRPC;
//  - one ticker thread waits on the log for new events and wakes the streams
//    that are caught up, sends heartbeats on quiet ones (after
//    `heartbeat_interval`), and cancels a stream whose write has not been
//    taken by its client within `write_timeout` (a subscriber that does not
//    read is dropped, not buffered);
//  - file contents read for the streams and not yet taken by their clients
//    are bounded over all streams by `max_buffered_bytes` (one message may
//    exceed it alone); a stream waits for its turn;
//  - Subscribe and Snapshot streams are capped in total and per peer (IP
//    address), and Snapshot streams apart as well; over a cap a call fails
//    with RESOURCE_EXHAUSTED at once.
//  - Report calls are checked (feed/node_report.h: INVALID_ARGUMENT when
//    malformed) and rate-limited per peer, then handed to the options'
//    ReportSink on gRPC's thread.
// Subscribe sends a heartbeat at once (so the subscriber learns the head),
// then the backlog in batches, then new events as they are committed. Streams
// end when the client cancels or Shutdown() is called.
//
// Thread-safety: FeedServer's methods may be called from any thread.
#ifndef PGXN_FEED_FEED_SERVICE_H_
#define PGXN_FEED_FEED_SERVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "feed/event_chain.h"
#include "feed/event_log.h"
#include "feed/node_report.h"

namespace pgxn::feed {

struct FeedServiceOptions {
  std::string role;  // reported in GetHead: origin, mirror or indexer
  absl::Duration heartbeat_interval = absl::Seconds(2);
  size_t batch_events = 256;
  size_t batch_bytes = 8 << 20;
  // Takes the reports of nodes below (Report), not owned; must outlive the
  // server. Null: Report fails with UNIMPLEMENTED.
  ReportSink* reports = nullptr;
};

// What a crowd of clients, or one hostile one, may take of a Feed server.
struct FeedLimits {
  // Subscribe and Snapshot streams open at once, from everyone and from one
  // IP address.
  uint64_t max_streams = 4096;
  uint64_t max_streams_per_peer = 128;
  // Snapshot streams open at once (each keeps the tree's listing while it
  // runs), from everyone and from one IP address.
  uint64_t max_snapshots = 32;
  uint64_t max_snapshots_per_peer = 4;
  // A stream whose client has not taken a message this long after it was
  // written is cancelled.
  absl::Duration write_timeout = absl::Seconds(60);
  // File contents read for streams and not yet taken by their clients, over
  // all streams.
  uint64_t max_buffered_bytes = uint64_t{256} << 20;
  // Threads that read the log for the streams.
  int worker_threads = 4;
  // Report calls one IP address may make per minute (a relay makes one per
  // report interval, whatever the number of its children); more fail with
  // RESOURCE_EXHAUSTED.
  uint64_t max_reports_per_peer = 60;
};

struct GrpcServerOptions {
  std::string address = "127.0.0.1:0";  // host:port; port 0 picks one
  // PEM certificate chain and its key: when set, the Feed is served over TLS
  // only (feed/server_tls.h), and ReloadTls() reads them again.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Largest message sent or received: an event carries whole archives.
  int max_message_bytes = kMaxFeedMessageBytes;
  FeedLimits limits;
};

// A running gRPC server hosting the Feed service.
class FeedServer {
 public:
  // Starts serving `log` (not owned; must outlive the server).
  static absl::StatusOr<std::unique_ptr<FeedServer>> Start(const GrpcServerOptions& server,
                                                           const FeedServiceOptions& feed,
                                                           const EventLog* log);
  virtual ~FeedServer() = default;

  // The port actually bound.
  virtual int port() const = 0;

  // Subscribe streams open now.
  virtual int active_streams() const = 0;

  // Reads the TLS files again for new connections; open streams keep their
  // connection and its certificate. On error the old certificate stays. OK
  // without TLS.
  virtual absl::Status ReloadTls() = 0;

  // Ends every stream and stops the server; idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_FEED_SERVICE_H_
