// Follows an upstream Feed and hands each event to a sink: the subscribing half
// of every mirror and indexer. One background thread subscribes from the sink's
// tip, reconnects with exponential backoff and jitter, rotates through the
// configured upstreams on failure, and cancels a stream that stays silent
// longer than `stale_after` (the upstream sends heartbeats, so silence means a
// stalled connection). An event the sink refuses ends the stream; the client
// retries from the sink's tip, so nothing is ever applied out of order.
//
// Thread-safety: Start/Stop from the owner's thread; State() from any thread.
#ifndef PGXN_NODE_FEED_CLIENT_H_
#define PGXN_NODE_FEED_CLIENT_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/event_chain.h"

namespace grpc {
class ClientContext;
}

namespace pgxn::node {

// Where a FeedClient delivers events; called from the client's thread only.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // The last applied event; the client subscribes after it.
  virtual ChainTip Tip() const = 0;
  // Verifies and applies one event. A non-OK status ends the stream.
  virtual absl::Status Apply(const v1::Event& event) = 0;
};

struct FeedClientOptions {
  std::vector<std::string> upstreams;  // host:port, tried in turn
  bool include_content = true;
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  absl::Duration stale_after = absl::Seconds(30);
  int max_message_bytes = kMaxFeedMessageBytes;
};

// What the client knows about its upstream, for /_status.
struct UpstreamState {
  std::string address;      // the upstream in use or tried last
  bool connected = false;   // a stream is open and has delivered a message
  uint64_t head_seq = 0;    // the upstream's newest seq as last reported
  absl::Time last_message;  // InfinitePast() until the first message
  absl::Time caught_up_at;  // last time the sink's tip reached head_seq
  std::string last_error;   // empty when the last stream ended cleanly
};

class FeedClient {
 public:
  FeedClient(FeedClientOptions options, EventSink* sink);
  ~FeedClient();
  FeedClient(const FeedClient&) = delete;
  FeedClient& operator=(const FeedClient&) = delete;

  void Start();
  // Cancels the open stream and joins the thread; idempotent.
  void Stop();

  UpstreamState State() const;

 private:
  void Run();
  void Watchdog();
  // One subscription to `address`; returns why it ended.
  absl::Status SubscribeOnce(const std::string& address);
  void NoteError(const absl::Status& status);

  const FeedClientOptions options_;
  EventSink* const sink_;
  std::thread thread_;
  std::thread watchdog_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  UpstreamState state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pgxn::node

#endif  // PGXN_NODE_FEED_CLIENT_H_
