#include "origin/origin_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "feed/tree_digest.h"
#include "gateway/status_http.h"
#include "gateway/tree_handler.h"
#include "host/metrics.h"
#include "host/node_status.h"
#include "origin/catalog/aggregate_refresher.h"
#include "origin/manager/manager_http.h"
#include "origin/origin_database.h"
#include "origin/pg/pg.h"
#include "origin/publishing/pg_event_log.h"
#include "origin/publishing/pg_tree.h"
#include "origin/publishing/settings.h"

namespace pgxn::origin {

OriginServer::OriginServer(OriginOptions options)
    : options_(std::move(options)), network_(options_.network_max_nodes) {}

OriginServer::~OriginServer() { Stop(); }

absl::StatusOr<std::unique_ptr<OriginServer>> OriginServer::Start(OriginOptions options) {
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

  host::NodeHostOptions host_options;
  host_options.role = "origin";
  host_options.data_dir = o.data_dir;
  host_options.http_address = o.http_address;
  host_options.grpc_address = o.grpc_address;
  host_options.http_threads = o.http_threads;
  host_options.max_body_bytes = o.max_upload_bytes + Manager::kUploadEnvelopeBytes;
  // The Manager checks credentials before a body is read; it exists once the
  // routes are added, after the listener opened.
  host_options.screen =
      [server = origin.get()](const gateway::Request& head) -> absl::optional<gateway::Response> {
    Manager* manager = server->screening_.load(std::memory_order_acquire);
    if (manager == nullptr) {
      return gateway::TextResponse(503, "The origin is starting; try again shortly");
    }
    return manager->Screen(head);
  };
  host_options.body_limit = [max_upload = o.max_upload_bytes](const gateway::Request& head) {
    return Manager::BodyLimit(head, max_upload);
  };
  host_options.http_limits = o.http_limits;
  // --public-url, when given, is also the base of /feed's URLs.
  if (host_options.http_limits.public_url.empty()) {
    host_options.http_limits.public_url = o.manager.public_url;
  }
  host_options.heartbeat_interval = o.heartbeat_interval;
  host_options.feed_limits = o.feed_limits;
  host_options.reports = &origin->network_;
  absl::StatusOr<std::unique_ptr<host::NodeHost>> host =
      host::NodeHost::Start(std::move(host_options), origin.get());
  if (!host.ok()) return host.status();
  origin->host_ = *std::move(host);
  return origin;
}

const feed::EventLog* OriginServer::FeedLog() const { return log_.get(); }

absl::Status OriginServer::AddRoutes(gateway::Router* router, const host::Listening& listening) {
  // The public URL in mail needs the bound port.
  ManagerOptions manager_options = options_.manager;
  manager_options.max_upload_bytes = options_.max_upload_bytes;
  if (manager_options.public_url.empty()) {
    manager_options.public_url =
        absl::StrCat("http://", listening.http_host, ":", listening.http_port);
  }
  {
    // Operator commands run beside the origin (pgxnd user ...) mail the same links.
    auto conn = pool_->Acquire();
    if (!conn.ok()) return conn.status();
    if (absl::Status s = PutSetting(**conn, Setting::kPublicUrl, manager_options.public_url);
        !s.ok()) {
      return s;
    }
  }
  PgEventLog* event_log = log_.get();
  Publishing publishing = database_->publishing(
      [event_log](const feed::ChainTip& tip) { event_log->NoteCommitted(tip); });
  // Always started: its first refresh publishes what a previous run left
  // pending (a crash, or a restart with a delay of 0 after one without).
  aggregates_ =
      std::make_unique<AggregateRefresher>(pool_.get(), publishing, options_.aggregate_delay);
  if (options_.aggregate_delay > absl::ZeroDuration()) {
    publishing.on_stats_changed = [aggregates = aggregates_.get()] { aggregates->Changed(); };
  }
  WebhookDispatcherOptions webhook_options = options_.webhooks;
  webhook_options.public_url = std::string(absl::StripSuffix(manager_options.public_url, "/"));
  manager_options.webhooks.allow_private = webhook_options.allow_private;
  webhooks_ = std::make_unique<WebhookDispatcher>(pool_.get(), log_.get(), manager_options.mail,
                                                  std::move(webhook_options));
  manager_ = std::make_unique<Manager>(pool_.get(), std::move(manager_options),
                                       std::move(publishing), webhooks_.get());
  manager_->AddRoutes(router);
  screening_.store(manager_.get(), std::memory_order_release);
  auto tree = std::make_shared<PgTree>(pool_.get());
  tree_ = tree;
  gateway::AddTreeRoutes(router, std::move(tree));
  // Not a tree file: made per request from the reports, never replicated.
  router->Handle("GET", "/meta/network.json",
                 [this](const gateway::Request& request) { return HandleNetwork(request); });
  return absl::OkStatus();
}

gateway::Response OriginServer::HandleNetwork(const gateway::Request& request) const {
  absl::StatusOr<feed::ChainTip> head = log_->Head();
  if (!head.ok()) return gateway::ErrorResponse(head.status(), request);
  // The registry as published; none yet (or unreadable) lists no mirrors.
  std::string mirrors = "[]";
  if (absl::StatusOr<gateway::TreeFile> file = tree_->ReadFile("meta/mirrors.json"); file.ok()) {
    mirrors = std::move(file->content);
  }
  gateway::Response response = gateway::JsonResponse(200, network_.Json(head->seq, mirrors));
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

void OriginServer::StartWork(host::Metrics& metrics) {
  if (webhooks_ == nullptr) return;
  WebhookObserver observer;
  observer.attempted = [&metrics](const std::string& outcome, absl::Duration latency) {
    metrics.CountWebhookAttempt(outcome, absl::ToDoubleSeconds(latency));
  };
  observer.disabled = [&metrics] { metrics.CountWebhookDisabled(); };
  if (absl::Status s = webhooks_->Start(std::move(observer)); !s.ok()) {
    base::LogError(absl::StrCat("Webhooks not started: ", s.ToString()));
  }
}

void OriginServer::StopWork() {
  // After the last request, before the Feed stops: a pending stats refresh
  // goes out now; the webhook workers finish their attempts; the mail thread
  // lets go of its connection.
  if (aggregates_ != nullptr) aggregates_->Stop();
  if (webhooks_ != nullptr) webhooks_->Stop();
  if (manager_ != nullptr) manager_->Stop();
}

void OriginServer::Close() {
  webhooks_.reset();
  log_.reset();
  pool_.reset();
  database_.reset();
}

void OriginServer::Stop() {
  if (host_ != nullptr) host_->Stop();
}

int OriginServer::http_port() const { return host_ == nullptr ? 0 : host_->http_port(); }
int OriginServer::grpc_port() const { return host_ == nullptr ? 0 : host_->grpc_port(); }

host::MetricsSample OriginServer::Sample() const {
  host::MetricsSample sample;
  absl::StatusOr<feed::ChainTip> head = log_->Head();
  if (head.ok()) sample.applied_seq = sample.upstream_head_seq = head->seq;
  if (const Manager* manager = screening_.load(std::memory_order_acquire)) {
    const LoginGuardCounters counters = manager->login_counters();
    sample.logins = host::MetricsSample::Logins{counters.failures, counters.throttled,
                                                counters.attacks, counters.accounts_under_attack};
  }
  const host::NetworkView::Counts network = network_.Count();
  sample.network = host::MetricsSample::Network{network.nodes, network.live};
  return sample;
}

absl::StatusOr<host::NodeStatus> OriginServer::Status() const {
  absl::StatusOr<feed::ChainTip> head = log_->Head();
  if (!head.ok()) return head.status();
  host::NodeStatus status;
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
  return status;
}

}  // namespace pgxn::origin
