#include "origin/origin_server.h"
#include "origin/catalog/stats_refresher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/address.h"
#include "base/log.h"
#include "base/ports_file.h"
#include "feed/feed_service.h"
#include "feed/tree_digest.h"
#include "gateway/http_server.h"
#include "gateway/status_http.h"
#include "host/node_status.h"
#include "origin/accounts/accounts.h"
#include "origin/manager/manager_http.h"
#include "origin/origin_database.h"
#include "origin/pg/pg.h"
#include "origin/publishing/pg_event_log.h"
#include "origin/publishing/pg_tree.h"
#include "origin/publishing/settings.h"

namespace pgxn::origin {
namespace {

// Room for the multipart envelope and form fields around the archive.
constexpr uint64_t kUploadEnvelopeBytes = 1 << 20;

}  // namespace

OriginServer::OriginServer(OriginOptions options) : options_(std::move(options)) {}

OriginServer::~OriginServer() { Stop(); }

absl::StatusOr<std::unique_ptr<OriginServer>> OriginServer::Start(OriginOptions options) {
  absl::StatusOr<base::HostPort> http = base::ParseHostPort(options.http_address);
  if (!http.ok()) return http.status();
  if (absl::Status s = base::ParseHostPort(options.grpc_address).status(); !s.ok()) return s;
  auto origin = std::unique_ptr<OriginServer>(new OriginServer(std::move(options)));
  const OriginOptions& o = origin->options_;

  OriginDatabaseOptions db_options{o.data_dir, o.postgres_dsn, o.unsafe_no_fsync,
                                   /*exclusive=*/true};
  absl::StatusOr<std::unique_ptr<OriginDatabase>> database = OriginDatabase::Open(db_options);
  if (!database.ok()) return database.status();
  origin->database_ = *std::move(database);
  origin->pool_ = std::make_unique<PgPool>(origin->database_->dsn(), 32);
  absl::StatusOr<std::unique_ptr<PgEventLog>> log =
      PgEventLog::Start(origin->pool_.get(), &origin->database_->key());
  if (!log.ok()) return log.status();
  origin->log_ = *std::move(log);

  feed::GrpcServerOptions grpc_options;
  grpc_options.address = o.grpc_address;
  feed::FeedServiceOptions feed_options;
  feed_options.role = "origin";
  feed_options.heartbeat_interval = o.heartbeat_interval;
  auto feed_server = feed::FeedServer::Start(grpc_options, feed_options, origin->log_.get());
  if (!feed_server.ok()) return feed_server.status();
  origin->feed_server_ = *std::move(feed_server);

  gateway::HttpServerOptions http_options;
  http_options.host = http->host;
  http_options.port = http->port;
  http_options.threads = o.http_threads;
  http_options.max_body_bytes = o.max_upload_bytes + kUploadEnvelopeBytes;
  http_options.screen = &Manager::Screen;
  auto http_server = gateway::HttpServer::Start(
      http_options,
      [self = origin.get()](const gateway::Request& request) { return self->Dispatch(request); });
  if (!http_server.ok()) return http_server.status();
  origin->http_server_ = *std::move(http_server);

  // Routes are in place before the ports file tells anyone to connect.
  ManagerOptions manager_options = o.manager;
  manager_options.max_upload_bytes = o.max_upload_bytes;
  if (manager_options.public_url.empty()) {
    manager_options.public_url = absl::StrCat("http://", http->host, ":", origin->http_port());
  }
  {
    // Operator commands run beside the origin (pgxnd user ...) mail the same links.
    auto conn = origin->pool_->Acquire();
    if (!conn.ok()) return conn.status();
    if (absl::Status s = PutSetting(**conn, Setting::kPublicUrl, manager_options.public_url);
        !s.ok()) {
      return s;
    }
  }
  PgEventLog* event_log = origin->log_.get();
  Publishing publishing = origin->database_->publishing(
      [event_log](const feed::ChainTip& tip) { event_log->NoteCommitted(tip); });
  if (o.stats_delay > absl::ZeroDuration()) {
    origin->stats_ =
        std::make_unique<StatsRefresher>(origin->pool_.get(), publishing, o.stats_delay);
    publishing.on_stats_changed = [stats = origin->stats_.get()] { stats->Changed(); };
  }
  origin->manager_ = std::make_unique<Manager>(origin->pool_.get(), std::move(manager_options),
                                               std::move(publishing));
  gateway::Router& router = origin->router_;
  origin->manager_->AddRoutes(&router);
  OriginServer* self = origin.get();
  router.Handle("GET", "/_status",
                [self](const gateway::Request& request) { return self->HandleStatus(request); });
  origin->metrics_ = std::make_unique<host::Metrics>("origin", [self] {
    host::MetricsSample sample;
    absl::StatusOr<feed::ChainTip> head = self->log_->Head();
    if (head.ok()) sample.applied_seq = sample.upstream_head_seq = head->seq;
    sample.feed_streams = self->feed_server_->active_streams();
    return sample;
  });
  router.Handle("GET", "/metrics", [self](const gateway::Request&) {
    gateway::Response response = gateway::TextResponse(200, self->metrics_->Render());
    response.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return response;
  });
  gateway::AddTreeRoutes(&router, std::make_shared<PgTree>(origin->pool_.get()));
  origin->routes_ready_.store(true);

  if (absl::Status s = base::WritePortsFile(o.data_dir, origin->http_port(), origin->grpc_port());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<feed::ChainTip> head = origin->log_->Head();
  base::LogInfo(absl::StrCat("origin serving HTTP on ", http->host, ":", origin->http_port(),
                             " and the Feed on port ", origin->grpc_port(), "; epoch ",
                             head.ok() ? head->epoch : "?", ", head seq ",
                             head.ok() ? head->seq : 0));
  return origin;
}

void OriginServer::Stop() {
  if (http_server_ != nullptr) http_server_->Stop();
  // After the last change, before the feed closes: the refresh still pending
  // goes out now.
  if (stats_ != nullptr) stats_->Stop();
  if (feed_server_ != nullptr) feed_server_->Shutdown();
  log_.reset();
  pool_.reset();
  database_.reset();
}

int OriginServer::http_port() const { return http_server_ == nullptr ? 0 : http_server_->port(); }
int OriginServer::grpc_port() const { return feed_server_ == nullptr ? 0 : feed_server_->port(); }

gateway::Response OriginServer::Dispatch(const gateway::Request& request) const {
  if (!routes_ready_.load()) {
    return gateway::TextResponse(503, "The origin is starting; try again shortly");
  }
  gateway::Response response = router_.Dispatch(request);
  metrics_->CountHttpRequest(response.status);
  return response;
}

gateway::Response OriginServer::HandleStatus(const gateway::Request& request) const {
  absl::StatusOr<feed::ChainTip> head = log_->Head();
  if (!head.ok()) return gateway::ErrorResponse(head.status(), request);
  host::NodeStatus status;
  status.role = "origin";
  status.epoch = head->epoch;
  status.applied_seq = head->seq;
  auto conn = pool_->Acquire();
  if (conn.ok() && head->seq > 0) {
    auto time =
        (*conn)->Exec(absl::StrCat("SELECT ", MicrosSql("time"), " FROM events WHERE seq = $1"),
                      PgParams().Int(static_cast<int64_t>(head->seq)));
    if (time.ok() && time->rows() == 1) {
      status.last_event_time = absl::FromUnixMicros(time->GetInt(0, 0));
    }
  }
  status.origin_key = log_->OriginKey();
  if (conn.ok()) {
    auto state = (*conn)->Exec("SELECT tree_state FROM feed_head WHERE tree_state IS NOT NULL");
    if (state.ok() && state->rows() == 1) {
      absl::StatusOr<feed::TreeDigest> tree = feed::TreeDigest::FromState(state->Get(0, 0));
      if (tree.ok()) status.tree_digest = tree->Digest();
    }
  }
  return gateway::JsonResponse(200, host::StatusJson(status, absl::Now()));
}

}  // namespace pgxn::origin
