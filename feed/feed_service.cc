#include "feed/feed_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "pgxn/feed/v1/feed.grpc.pb.h"

namespace pgxn::feed {
namespace {

// How long a waiting stream may go without noticing that its client left or
// the server is stopping. New events wake it at once regardless.
constexpr absl::Duration kCancelCheckInterval = absl::Milliseconds(200);

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

class FeedServiceImpl final : public v1::Feed::Service {
 public:
  FeedServiceImpl(FeedServiceOptions options, const EventLog* log)
      : options_(std::move(options)), log_(log) {}

  void Stop() { stopping_ = true; }
  int streams() const { return streams_.load(); }

  grpc::Status GetHead(grpc::ServerContext*, const v1::GetHeadRequest*, v1::Head* head) override {
    absl::StatusOr<ChainTip> tip = log_->Head();
    if (!tip.ok()) return ToGrpc(tip.status());
    head->set_seq(tip->seq);
    head->set_epoch(tip->epoch);
    head->set_hash(tip->hash);
    head->set_time_us(NowMicros());
    head->set_role(options_.role);
    head->set_origin_key(log_->OriginKey());
    head->set_log_start_seq(log_->LogStart());
    if (tip->seq > 0) {
      absl::StatusOr<std::vector<v1::Event>> at_tip =
          log_->ReadAfter(tip->seq - 1, 1, 0, /*include_content=*/false);
      if (at_tip.ok() && !at_tip->empty() && at_tip->front().seq() == tip->seq) {
        head->set_signature(at_tip->front().signature());
      }
    }
    if (absl::optional<v1::Heartbeat> heartbeat = log_->OriginHeartbeat()) {
      *head->mutable_origin_heartbeat() = *std::move(heartbeat);
    }
    return grpc::Status::OK;
  }

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::FeedMessage>* writer) override {
    ++streams_;
    struct Leave {
      std::atomic<int>* streams;
      ~Leave() { --*streams; }
    } leave{&streams_};
    absl::StatusOr<ChainTip> tip = log_->Head();
    if (!tip.ok()) return ToGrpc(tip.status());
    if (!request->epoch().empty() && !tip->epoch.empty() && request->epoch() != tip->epoch) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          absl::StrCat("Epoch ", request->epoch(), " is not this log's epoch ",
                                       tip->epoch, "; the log was reset"));
    }
    if (request->after_seq() < log_->LogStart()) {
      return grpc::Status(
          grpc::StatusCode::OUT_OF_RANGE,
          absl::StrCat("This node's log starts after seq ", log_->LogStart(),
                       "; subscribe after a later seq or bootstrap from a snapshot"));
    }
    uint64_t cursor = request->after_seq();
    uint64_t head = tip->seq;
    if (!SendHeartbeat(writer)) return grpc::Status::OK;
    absl::Time last_send = absl::Now();
    while (!stopping_ && !context->IsCancelled()) {
      if (head > cursor) {
        absl::StatusOr<std::vector<v1::Event>> events = log_->ReadAfter(
            cursor, options_.batch_events, options_.batch_bytes, request->include_content());
        if (!events.ok()) {
          base::LogWarning(absl::StrCat("Feed: cannot read events after ", cursor, ": ",
                                        events.status().ToString()));
          return ToGrpc(events.status());
        }
        v1::FeedMessage message;
        for (v1::Event& event : *events) {
          // A log reset under a stream (a node that took a new epoch) must not
          // feed the old epoch's subscriber the new log.
          if (!request->epoch().empty() && event.epoch() != request->epoch()) {
            return grpc::Status(
                grpc::StatusCode::FAILED_PRECONDITION,
                absl::StrCat("Epoch ", request->epoch(), " is not this log's epoch ", event.epoch(),
                             "; the log was reset"));
          }
          cursor = event.seq();
          *message.mutable_event() = std::move(event);
          if (!writer->Write(message)) return grpc::Status::OK;
        }
        last_send = absl::Now();
        if (!events->empty()) continue;
        // The head said there is more but nothing was readable: an anomaly of
        // the log; back off instead of spinning.
        base::LogWarning(absl::StrCat("Feed: head ", head, " but no event after ", cursor));
        absl::SleepFor(kCancelCheckInterval);
        head = cursor;
        continue;
      }
      const absl::Time heartbeat_due = last_send + options_.heartbeat_interval;
      head = log_->WaitForHeadAbove(cursor,
                                    std::min(heartbeat_due, absl::Now() + kCancelCheckInterval));
      if (head <= cursor && absl::Now() >= heartbeat_due) {
        if (!SendHeartbeat(writer)) return grpc::Status::OK;
        last_send = absl::Now();
      }
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "Feed server is stopping");
  }

  grpc::Status Snapshot(grpc::ServerContext* context, const v1::SnapshotRequest*,
                        grpc::ServerWriter<v1::SnapshotChunk>* writer) override {
    v1::SnapshotChunk chunk;
    absl::Status status = log_->Snapshot(
        [&](const v1::Event& head) {
          *chunk.mutable_head() = head;
          return writer->Write(chunk);
        },
        [&](v1::Op file) {
          if (stopping_ || context->IsCancelled()) return false;
          *chunk.mutable_file() = std::move(file);
          return writer->Write(chunk);
        });
    if (absl::IsCancelled(status)) return grpc::Status::OK;  // the client left
    return ToGrpc(status);
  }

 private:
  // The origin's heartbeat: fresh at the origin, the newest received on a
  // relay. Nothing is sent before there is one.
  bool SendHeartbeat(grpc::ServerWriter<v1::FeedMessage>* writer) {
    absl::optional<v1::Heartbeat> heartbeat = log_->OriginHeartbeat();
    if (!heartbeat.has_value()) return true;
    v1::FeedMessage message;
    *message.mutable_heartbeat() = *std::move(heartbeat);
    return writer->Write(message);
  }

  const FeedServiceOptions options_;
  const EventLog* const log_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> streams_{0};
};

class FeedServerImpl final : public FeedServer {
 public:
  FeedServerImpl(std::unique_ptr<FeedServiceImpl> service, std::unique_ptr<grpc::Server> server,
                 int port)
      : service_(std::move(service)), server_(std::move(server)), port_(port) {}
  ~FeedServerImpl() override { Shutdown(); }

  int port() const override { return port_; }
  int active_streams() const override { return service_->streams(); }

  void Shutdown() override {
    if (stopped_.exchange(true)) return;
    service_->Stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }

 private:
  std::unique_ptr<FeedServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  const int port_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<FeedServer>> FeedServer::Start(const GrpcServerOptions& server,
                                                              const FeedServiceOptions& feed,
                                                              const EventLog* log) {
  auto service = std::make_unique<FeedServiceImpl>(feed, log);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(server.address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxSendMessageSize(server.max_message_bytes);
  builder.SetMaxReceiveMessageSize(1 << 20);  // requests are tiny
  builder.RegisterService(service.get());
  // Each Subscribe stream holds a thread for its lifetime; bound them so a
  // crowd of subscribers gets RESOURCE_EXHAUSTED instead of exhausting the host.
  grpc::ResourceQuota quota("pgxn-feed");
  quota.SetMaxThreads(server.max_threads);
  builder.SetResourceQuota(quota);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("Cannot listen for gRPC on ", server.address));
  }
  return std::unique_ptr<FeedServer>(
      new FeedServerImpl(std::move(service), std::move(grpc_server), port));
}

}  // namespace pgxn::feed
