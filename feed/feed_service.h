// The gRPC Feed service (proto/pgxn/feed/v1/feed.proto) over any EventLog: the
// origin serves its Postgres log with it, every other node relays its store.
// Events pass through exactly as the log holds them; nothing is re-signed.
//
// Each Subscribe call runs on a gRPC thread: it sends a heartbeat at once (so
// the subscriber learns the head), then the backlog in batches, then waits on
// the log for new events, sending a heartbeat whenever it has been quiet for
// `heartbeat_interval`. It ends when the client cancels or Shutdown() is called.
#ifndef PGXN_FEED_FEED_SERVICE_H_
#define PGXN_FEED_FEED_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "feed/event_chain.h"
#include "feed/event_log.h"

namespace pgxn::feed {

struct FeedServiceOptions {
  std::string role;  // reported in GetHead: origin, mirror or indexer
  absl::Duration heartbeat_interval = absl::Seconds(2);
  size_t batch_events = 256;
  size_t batch_bytes = 8 << 20;
};

struct GrpcServerOptions {
  std::string address = "127.0.0.1:0";  // host:port; port 0 picks one
  // Largest message sent or received: an event carries whole archives.
  int max_message_bytes = kMaxFeedMessageBytes;
  // Threads for RPCs, one per open Subscribe stream: the most subscribers
  // served at once.
  int max_threads = 512;
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

  // Ends every stream and stops the server; idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_FEED_SERVICE_H_
