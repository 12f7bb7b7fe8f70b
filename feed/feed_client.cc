#include "feed/feed_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "base/log.h"
#include "feed/signing.h"
#include "pgxn/feed/v1/feed.grpc.pb.h"

namespace pgxn::feed {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::shared_ptr<grpc::Channel> MakeChannel(const UpstreamTarget& target,
                                           const UpstreamTrust& trust, int max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_message_bytes);
  // gRPC's own reconnect backoff grows to two minutes; ours is in charge, so
  // keep the channel's short.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is left alone on purpose: gRPC also uses
  // it as the time a connection attempt may take, and 100 ms would fail every
  // connection to an upstream further away than that.
  // Pings find a dead connection even while a large event is still arriving,
  // when no whole message (and so no heartbeat) can be seen.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  return grpc::CreateCustomChannel(target.address, ChannelCredentialsFor(target, trust), args);
}

// A stub for the --upstream value `upstream`; InvalidArgument if malformed.
absl::StatusOr<std::unique_ptr<v1::Feed::Stub>> Connect(const std::string& upstream,
                                                        const UpstreamTrust& trust,
                                                        int max_message_bytes) {
  absl::StatusOr<UpstreamTarget> target = ParseUpstream(upstream);
  if (!target.ok()) return target.status();
  return v1::Feed::NewStub(MakeChannel(*target, trust, max_message_bytes));
}

// `status` with what TLS had to do with it, for a TLS upstream.
absl::Status Explain(const absl::Status& status, const std::string& upstream,
                     const UpstreamTrust& trust) {
  absl::StatusOr<UpstreamTarget> target = ParseUpstream(upstream);
  return target.ok() ? ExplainTlsFailure(status, *target, trust) : status;
}

// GetHead, with an error naming `upstream` but not yet explained.
absl::StatusOr<v1::Head> GetHead(const std::string& upstream, absl::Duration timeout,
                                 const UpstreamTrust& trust, int max_message_bytes) {
  absl::StatusOr<std::unique_ptr<v1::Feed::Stub>> feed =
      Connect(upstream, trust, max_message_bytes);
  if (!feed.ok()) return feed.status();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::Head head;
  grpc::Status status = (*feed)->GetHead(&context, v1::GetHeadRequest(), &head);
  if (!status.ok()) {
    return absl::Status(FromGrpc(status).code(),
                        absl::StrCat("Cannot reach ", upstream, ": ", status.error_message()));
  }
  return head;
}

constexpr char kSilent[] = "upstream went silent (no heartbeat)";

// A new epoch upstream, as the Feed service reports it.
bool IsNewEpoch(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) &&
         absl::StrContains(status.message(), "the log was reset");
}

}  // namespace

absl::StatusOr<v1::Head> FetchHead(const std::string& upstream, absl::Duration timeout,
                                   const UpstreamTrust& trust, int max_message_bytes) {
  absl::StatusOr<v1::Head> head = GetHead(upstream, timeout, trust, max_message_bytes);
  if (!head.ok()) return Explain(head.status(), upstream, trust);
  return head;
}

struct ReportClient::Channel {
  std::unique_ptr<v1::Feed::Stub> stub;
};

ReportClient::ReportClient(UpstreamTrust trust) : trust_(std::move(trust)) {}
ReportClient::~ReportClient() = default;

absl::Status ReportClient::Send(const std::string& upstream, const v1::ReportRequest& request,
                                absl::Duration timeout) {
  if (channel_ == nullptr || upstream != upstream_) {
    // Reports are small, and so are the answers.
    absl::StatusOr<std::unique_ptr<v1::Feed::Stub>> feed = Connect(upstream, trust_, 1 << 20);
    if (!feed.ok()) return feed.status();
    channel_ = std::make_unique<Channel>(Channel{*std::move(feed)});
    upstream_ = upstream;
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::ReportResponse response;
  grpc::Status status = channel_->stub->Report(&context, request, &response);
  if (status.ok()) return absl::OkStatus();
  return Explain(absl::Status(FromGrpc(status).code(),
                              absl::StrCat("Cannot report to ", upstream, ": ",
                                           status.error_message())),
                 upstream, trust_);
}

absl::Status SendReports(const std::string& upstream, const v1::ReportRequest& request,
                         absl::Duration timeout, const UpstreamTrust& trust) {
  return ReportClient(trust).Send(upstream, request, timeout);
}

FeedClient::FeedClient(FeedClientOptions options, EventSink* sink)
    : options_(std::move(options)), sink_(sink) {}

FeedClient::~FeedClient() { Stop(); }

void FeedClient::Start() {
  thread_ = std::thread([this] { Run(); });
  watchdog_ = std::thread([this] { Watchdog(); });
}

void FeedClient::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
  if (watchdog_.joinable()) watchdog_.join();
}

UpstreamState FeedClient::State() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

void FeedClient::NoteError(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  state_.connected = false;
  state_.last_error = status.ok() ? "" : std::string(status.message());
}

void FeedClient::NoteHeartbeat(const v1::Heartbeat& heartbeat) {
  absl::MutexLock lock(&mu_);
  state_.head_seq = heartbeat.head_seq();
  if (heartbeat.time_us() > newest_heartbeat_us_) {
    newest_heartbeat_us_ = heartbeat.time_us();
    state_.last_fresh_heartbeat = absl::Now();
  }
}

void FeedClient::Run() {
  absl::BitGen random;
  absl::Duration backoff = options_.min_backoff;
  size_t next = 0;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    const std::string& address = options_.upstreams[next % options_.upstreams.size()];
    const uint64_t before = sink_->Tip().seq;
    absl::Status ended = Explain(SyncOnce(address), address, options_.trust);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (options_.retry && !options_.retry(ended)) {
      NoteError(ended);
      return;
    }
    if (IsNewEpoch(ended) && options_.reset_on_new_epoch) {
      base::LogWarning(absl::StrCat("Feed from ", address, ": ", ended.message(),
                                    "; --reset-on-new-epoch: rebuilding this node from scratch"));
      absl::Status reset = sink_->Reset();
      if (reset.ok()) continue;
      ended = reset;
    } else if (IsNewEpoch(ended)) {
      ended = absl::FailedPreconditionError(
          absl::StrCat(ended.message(),
                       ". This node keeps serving what it has; restart it with "
                       "--reset-on-new-epoch to rebuild from the new log"));
    }
    NoteError(ended);
    base::LogWarning(absl::StrCat("Feed from ", address, " ended: ", ended.ToString()));
    // Progress means the upstream works: retry it soon. Otherwise move on to
    // the next upstream and back off.
    if (sink_->Tip().seq > before) {
      backoff = options_.min_backoff;
    } else {
      ++next;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    const absl::Duration wait = backoff * absl::Uniform(random, 0.5, 1.5);
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
  }
}

absl::Status FeedClient::SyncOnce(const std::string& address) {
  {
    absl::MutexLock lock(&mu_);
    state_.address = address;
  }
  if (sink_->OriginKey().empty()) {
    if (absl::Status s = PinKey(address); !s.ok()) return s;
  }
  if (sink_->Tip().seq == 0 && options_.bootstrap_from_snapshot) {
    absl::Status bootstrapped = BootstrapFrom(address);
    // An upstream with nothing yet, or no digest to check a snapshot by, is
    // replayed from the start instead.
    if (!bootstrapped.ok() && !absl::IsFailedPrecondition(bootstrapped)) return bootstrapped;
    if (!bootstrapped.ok()) {
      base::LogInfo(absl::StrCat("No snapshot from ", address, " (", bootstrapped.message(),
                                 "); replaying the log"));
    }
  }
  return SubscribeOnce(address);
}

absl::Status FeedClient::PinKey(const std::string& address) {
  absl::StatusOr<v1::Head> head =
      GetHead(address, absl::Seconds(30), options_.trust, options_.max_message_bytes);
  if (!head.ok()) return head.status();
  if (head->origin_key().size() != kPublicKeyBytes) {
    return absl::UnavailableError(absl::StrCat(address, " does not know the origin's key yet"));
  }
  base::LogInfo(absl::StrCat("Trusting origin key ", FormatPublicKey(head->origin_key()),
                             " on first use (from ", address, ")"));
  return sink_->PinOriginKey(head->origin_key());
}

absl::Status FeedClient::BootstrapFrom(const std::string& address) {
  absl::StatusOr<std::unique_ptr<v1::Feed::Stub>> connected =
      Connect(address, options_.trust, options_.max_message_bytes);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<v1::Feed::Stub> feed = *std::move(connected);
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    context_ = &context;
    state_.last_message = absl::Now();
  }
  std::unique_ptr<grpc::ClientReader<v1::SnapshotChunk>> reader =
      feed->Snapshot(&context, v1::SnapshotRequest());
  v1::SnapshotChunk chunk;
  absl::Status status;
  if (!reader->Read(&chunk) || !chunk.has_head()) {
    context.TryCancel();
  } else {
    const v1::Event head = chunk.head();
    base::LogInfo(absl::StrCat("Bootstrapping from a snapshot of ", address, " at seq ", head.seq(),
                               HasTreeSize(head)
                                   ? absl::StrCat(" (", head.tree_files(), " files, ",
                                                  head.tree_bytes(), " bytes, as signed)")
                                   : std::string(" (of unstated size)")));
    status = sink_->Bootstrap(head, [&]() -> absl::StatusOr<v1::Op> {
      if (!reader->Read(&chunk)) return absl::NotFoundError("end of snapshot");
      {
        absl::MutexLock lock(&mu_);
        state_.last_message = absl::Now();
      }
      if (!chunk.has_file()) return absl::InvalidArgumentError("Snapshot sent a second head");
      return std::move(*chunk.mutable_file());
    });
    if (!status.ok()) context.TryCancel();
  }
  grpc::Status finished = reader->Finish();
  status = EndCall(status);
  if (!status.ok()) return status;
  if (!finished.ok()) {
    // The sink saw an orderly end only if the server finished cleanly; a
    // broken stream may have cut the snapshot short, which Bootstrap's
    // digest check has already refused.
    absl::Status s = FromGrpc(finished);
    if (sink_->Tip().seq == 0) return s;
  }
  if (sink_->Tip().seq == 0) {
    return absl::FailedPreconditionError(absl::StrCat(address, " has no snapshot to offer"));
  }
  base::LogInfo(absl::StrCat("Bootstrapped at seq ", sink_->Tip().seq));
  return absl::OkStatus();
}

namespace {

// A message from the stream, with its event checked (EventSink::Check).
struct Received {
  v1::FeedMessage message;
  EventCheck check;
};

// Between the reading thread and the applying one: bounded in messages and
// bytes (one message always fits), so a slow store holds back the stream
// (and, by gRPC's flow control, the upstream).
class ReceivedQueue {
 public:
  static constexpr size_t kCapacity = 64;
  static constexpr size_t kCapacityBytes = size_t{64} << 20;

  // False once closed: the message is dropped.
  bool Push(Received message) {
    const size_t bytes = message.message.ByteSizeLong();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](ReceivedQueue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) {
          return q->closed_ || q->queue_.empty() ||
                 (q->queue_.size() < kCapacity && q->bytes_ < kCapacityBytes);
        },
        this));
    if (closed_) return false;
    bytes_ += bytes;
    queue_.push_back(Queued{bytes, std::move(message)});
    return true;
  }
  // The next message; none once closed and drained.
  absl::optional<Received> Pop() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](ReceivedQueue* q)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) { return q->closed_ || !q->queue_.empty(); },
        this));
    if (queue_.empty()) return absl::nullopt;
    Received next = std::move(queue_.front().received);
    bytes_ -= queue_.front().bytes;
    queue_.pop_front();
    return next;
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

 private:
  struct Queued {
    size_t bytes;
    Received received;
  };
  absl::Mutex mu_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::Status FeedClient::SubscribeOnce(const std::string& address) {
  absl::StatusOr<std::unique_ptr<v1::Feed::Stub>> connected =
      Connect(address, options_.trust, options_.max_message_bytes);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<v1::Feed::Stub> feed = *std::move(connected);
  grpc::ClientContext context;
  const ChainTip tip = sink_->Tip();
  v1::SubscribeRequest request;
  request.set_after_seq(tip.seq);
  request.set_epoch(tip.epoch);
  request.set_include_content(options_.include_content);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    context_ = &context;
    state_.last_message = absl::Now();  // the watchdog's clock starts now
  }
  std::unique_ptr<grpc::ClientReader<v1::FeedMessage>> reader = feed->Subscribe(&context, request);
  // A reading thread receives and checks the next events (signature, hashes)
  // while this one applies the previous ones, in order.
  ReceivedQueue received;
  std::thread reading([&] {
    while (true) {
      Received next;
      if (!reader->Read(&next.message)) break;
      if (next.message.has_event()) next.check = sink_->Check(next.message.event());
      if (!received.Push(std::move(next))) break;
    }
    received.Close();
  });
  absl::Status refused;
  while (absl::optional<Received> next = received.Pop()) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;  // what is queued is fetched again next time
    }
    const v1::FeedMessage& message = next->message;
    bool progressed = false;
    if (message.has_event()) {
      absl::Status applied = sink_->Apply(message.event(), next->check);
      if (!applied.ok()) {
        refused = absl::Status(applied.code(), absl::StrCat("refused event ", message.event().seq(),
                                                            ": ", applied.message()));
        base::LogError(absl::StrCat("Feed from ", address, ": ", refused.message()));
        context.TryCancel();
        break;
      }
      progressed = true;
    } else if (message.has_heartbeat()) {
      if (!tip.epoch.empty() && message.heartbeat().epoch() != tip.epoch) {
        refused = absl::FailedPreconditionError(
            absl::StrCat("Epoch ", tip.epoch, " is not this log's epoch ",
                         message.heartbeat().epoch(), "; the log was reset"));
        context.TryCancel();
        break;
      }
      absl::Status recorded = sink_->RecordHeartbeat(message.heartbeat());
      if (!recorded.ok()) {
        refused =
            absl::Status(recorded.code(), absl::StrCat("refused heartbeat: ", recorded.message()));
        base::LogError(absl::StrCat("Feed from ", address, ": ", refused.message()));
        context.TryCancel();
        break;
      }
      NoteHeartbeat(message.heartbeat());
    }
    const uint64_t applied = sink_->Tip().seq;
    absl::MutexLock lock(&mu_);
    state_.connected = true;
    state_.last_message = absl::Now();
    // An event raises the head only once verified and applied, so a bogus seq
    // cannot; heartbeats are signed by the origin.
    if (progressed) state_.head_seq = std::max(state_.head_seq, applied);
    if (applied >= state_.head_seq) {
      state_.caught_up_at = state_.last_message;
      state_.last_error.clear();
    } else if (progressed) {
      state_.last_error.clear();
    }
  }
  // Cancelled (or ended): the reading thread's Read returns false soon, and
  // a closed queue takes nothing more.
  received.Close();
  reading.join();
  grpc::Status finished = reader->Finish();
  absl::Status ended =
      EndCall(finished.ok() ? absl::UnavailableError("stream ended") : FromGrpc(finished));
  // What the sink refused matters more than how the call ended.
  return refused.ok() ? ended : refused;
}

absl::Status FeedClient::EndCall(absl::Status ended) {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
  if (std::exchange(silenced_, false)) return absl::UnavailableError(kSilent);
  return ended;
}

void FeedClient::Watchdog() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(500));
    if (stopping_) return;
    if (context_ != nullptr && absl::Now() - state_.last_message > options_.stale_after) {
      base::LogWarning(absl::StrCat("Feed from ", state_.address, " silent for ",
                                    absl::FormatDuration(absl::Now() - state_.last_message),
                                    "; reconnecting"));
      state_.last_error = kSilent;
      state_.last_message = absl::Now();
      silenced_ = true;
      context_->TryCancel();
    }
  }
}

}  // namespace pgxn::feed
