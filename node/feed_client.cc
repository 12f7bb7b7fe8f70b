#include "node/feed_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "node/log.h"
#include "pgxn/feed/v1/feed.grpc.pb.h"

namespace pgxn::node {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, int max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_message_bytes);
  // gRPC's own reconnect backoff grows to two minutes; ours is in charge, so
  // keep the channel's short.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Pings find a dead connection even while a large event is still arriving,
  // when no whole message (and so no heartbeat) can be seen.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

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
    absl::Status ended = SubscribeOnce(address);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    NoteError(ended);
    LogWarning(absl::StrCat("Feed from ", address, " ended: ", ended.ToString()));
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

absl::Status FeedClient::SubscribeOnce(const std::string& address) {
  auto stub = v1::Feed::NewStub(MakeChannel(address, options_.max_message_bytes));
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
    state_.address = address;
    state_.last_message = absl::Now();  // the watchdog's clock starts now
  }
  std::unique_ptr<grpc::ClientReader<v1::FeedMessage>> reader = stub->Subscribe(&context, request);
  absl::Status refused;
  v1::FeedMessage message;
  while (reader->Read(&message)) {
    bool progressed = false;
    if (message.has_event()) {
      absl::Status applied = sink_->Apply(message.event());
      if (!applied.ok()) {
        refused = absl::Status(applied.code(), absl::StrCat("refused event ", message.event().seq(),
                                                            ": ", applied.message()));
        LogError(absl::StrCat("Feed from ", address, ": ", refused.message()));
        context.TryCancel();
        break;
      }
      progressed = true;
    } else if (message.has_heartbeat()) {
      if (!tip.epoch.empty() && message.heartbeat().epoch() != tip.epoch) {
        refused = absl::FailedPreconditionError(absl::StrCat(
            "upstream is on epoch ", message.heartbeat().epoch(), ", this node on ", tip.epoch));
        context.TryCancel();
        break;
      }
    }
    const uint64_t applied = sink_->Tip().seq;
    absl::MutexLock lock(&mu_);
    state_.connected = true;
    state_.last_message = absl::Now();
    // The upstream's own word on its head comes with heartbeats; an event
    // raises it only once verified and applied, so a bogus seq cannot.
    if (message.has_heartbeat()) state_.head_seq = message.heartbeat().head_seq();
    if (progressed) state_.head_seq = std::max(state_.head_seq, applied);
    if (applied >= state_.head_seq) {
      state_.caught_up_at = state_.last_message;
      state_.last_error.clear();
    } else if (progressed) {
      state_.last_error.clear();
    }
  }
  grpc::Status finished = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    context_ = nullptr;
  }
  if (!refused.ok()) return refused;
  return finished.ok() ? absl::UnavailableError("stream ended") : FromGrpc(finished);
}

void FeedClient::Watchdog() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(500));
    if (stopping_) return;
    if (context_ != nullptr && absl::Now() - state_.last_message > options_.stale_after) {
      LogWarning(absl::StrCat("Feed from ", state_.address, " silent for ",
                              absl::FormatDuration(absl::Now() - state_.last_message),
                              "; reconnecting"));
      state_.last_error = "upstream went silent (no heartbeat)";
      state_.last_message = absl::Now();
      context_->TryCancel();
    }
  }
}

}  // namespace pgxn::node
