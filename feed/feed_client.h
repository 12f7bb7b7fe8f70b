// Follows an upstream Feed and hands each event to a sink: the subscribing half
// of every mirror and indexer. One background thread:
//  - pins the origin's key on first contact if the sink has none (trust on
//    first use; --origin-key pins it beforehand),
//  - bootstraps an empty sink from the upstream's Snapshot (verified against
//    the signed tree digest) unless told to replay the whole log,
//  - subscribes from the sink's tip, hands events and the origin's signed
//    heartbeats to the sink, and reconnects with exponential backoff and
//    jitter, rotating through the configured upstreams on failure,
//  - refuses a new epoch loudly, or resets the sink and starts over when
//    allowed to,
//  - cancels a stream that stays silent longer than `stale_after`.
// An event the sink refuses ends the stream and the client moves to the next
// upstream; nothing is ever applied out of order.
//
// Thread-safety: Start/Stop from the owner's thread; State() from any thread.
#ifndef PGXN_FEED_FEED_CLIENT_H_
#define PGXN_FEED_FEED_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "feed/event_chain.h"
#include "feed/upstream_target.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace grpc {
class ClientContext;
}

namespace pgxn::feed {

// Where a FeedClient delivers what it receives; called from the client's
// thread only (State() of the client may be read concurrently).
// What EventSink::Check found about an event before its turn to be applied.
struct EventCheck {
  absl::Status status;  // OK: all but its link to the tip holds
  std::string key;      // the origin key it was checked with
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // The last applied event; the client subscribes after it.
  virtual ChainTip Tip() const = 0;
  // Checks what of `event` does not depend on the tip (hash, signature, file
  // hashes). Called on the client's reading thread, while the events before
  // it are being applied.
  virtual EventCheck Check(const v1::Event& event) const = 0;
  // Refuses `event` if `check` failed; otherwise verifies the rest and
  // applies it. A non-OK status ends the stream.
  virtual absl::Status Apply(const v1::Event& event, const EventCheck& check) = 0;
  // The pinned origin key ("" when none), and pinning one.
  virtual std::string OriginKey() const = 0;
  virtual absl::Status PinOriginKey(absl::string_view public_key) = 0;
  // Verifies and keeps a heartbeat of the origin.
  virtual absl::Status RecordHeartbeat(const v1::Heartbeat& heartbeat) = 0;
  // Fills an empty sink from a snapshot (see replica::Store::Bootstrap).
  virtual absl::Status Bootstrap(const v1::Event& head,
                                 const std::function<absl::StatusOr<v1::Op>()>& next_file) = 0;
  // Forgets everything, for a new epoch.
  virtual absl::Status Reset() = 0;
};

struct FeedClientOptions {
  // --upstream values (feed/upstream_target.h: HOST:PORT or
  // https://HOST[:PORT]), tried in turn.
  std::vector<std::string> upstreams;
  // What TLS upstreams are verified against.
  UpstreamTrust trust;
  bool include_content = true;
  // An empty node fills itself from a snapshot instead of replaying the log.
  bool bootstrap_from_snapshot = true;
  // On a new epoch, wipe the node and start over instead of refusing.
  bool reset_on_new_epoch = false;
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  absl::Duration stale_after = absl::Seconds(30);
  int max_message_bytes = kMaxFeedMessageBytes;
  // Called on the client's thread with why a stream (or an attempt to open
  // one) ended, before the client handles it (a new epoch included); false
  // stops the client from trying again, as a one-shot reader wants. Unset:
  // always try again. Must not call Stop() (it runs on the thread Stop joins).
  std::function<bool(const absl::Status& ended)> retry;
};

// The head `upstream` (an --upstream value) serves (GetHead), or an error
// naming the upstream: InvalidArgument for a malformed value, Unavailable
// (saying why TLS failed, for a TLS upstream) when it cannot be reached.
absl::StatusOr<v1::Head> FetchHead(const std::string& upstream, absl::Duration timeout,
                                   const UpstreamTrust& trust = {},
                                   int max_message_bytes = kMaxFeedMessageBytes);

// Sends `request` to the Report call of `upstream` (an --upstream value) on a
// channel of its own; an error naming the upstream otherwise.
absl::Status SendReports(const std::string& upstream, const v1::ReportRequest& request,
                         absl::Duration timeout, const UpstreamTrust& trust = {});

// As SendReports, keeping the channel to the upstream of the last call for
// the next, so a node reporting every interval does not connect (and
// handshake TLS) each time. Thread-safety: one Send at a time.
class ReportClient {
 public:
  explicit ReportClient(UpstreamTrust trust = {});
  ~ReportClient();
  ReportClient(const ReportClient&) = delete;
  ReportClient& operator=(const ReportClient&) = delete;

  absl::Status Send(const std::string& upstream, const v1::ReportRequest& request,
                    absl::Duration timeout);

 private:
  struct Channel;
  const UpstreamTrust trust_;
  std::string upstream_;             // the upstream `channel_` reaches
  std::unique_ptr<Channel> channel_;
};

// What the client knows about its upstream, for /_status.
struct UpstreamState {
  std::string address;      // the upstream in use or tried last, as configured
  bool connected = false;   // a stream is open and has delivered a message
  uint64_t head_seq = 0;    // the origin's head per the newest signed heartbeat, or
                            // the newest event applied if later
  absl::Time last_message;  // last event or heartbeat received (InfinitePast before)
  // When a heartbeat newer than any before arrived: a relay that only repeats
  // an old one (its own upstream is stalled) does not count.
  absl::Time last_fresh_heartbeat;
  absl::Time caught_up_at;  // last time the sink's tip reached head_seq
  std::string last_error;   // why the last stream ended; empty while all is well
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
  // One attempt on `address`: pin the key if needed, bootstrap if empty,
  // subscribe; returns why it ended.
  absl::Status SyncOnce(const std::string& address);
  absl::Status PinKey(const std::string& address);
  absl::Status BootstrapFrom(const std::string& address);
  absl::Status SubscribeOnce(const std::string& address);
  void NoteError(const absl::Status& status);
  void NoteHeartbeat(const v1::Heartbeat& heartbeat);
  // Clears the open call; `ended` unless the watchdog cancelled it.
  absl::Status EndCall(absl::Status ended);

  const FeedClientOptions options_;
  EventSink* const sink_;
  std::thread thread_;
  std::thread watchdog_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  UpstreamState state_ ABSL_GUARDED_BY(mu_);
  int64_t newest_heartbeat_us_ ABSL_GUARDED_BY(mu_) = 0;
  // The watchdog cancelled the open call because its upstream went silent;
  // the call reports that instead of a bare CANCELLED.
  bool silenced_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_FEED_CLIENT_H_
