// The origin role (`pgxnd origin`, docs/architecture.md §1): the Manager on PostgreSQL,
// the Feed served from its event log, and the published tree over HTTP.
//
// Start() opens the database (embedded or --postgres), applies migrations,
// then runs the node host (host/node_host.h): the Feed (gRPC) over the event
// log, the HTTP gateway with the Manager's routes, DIR/ports.json. Stop() or
// the destructor stops in the host's order and stops an embedded Postgres.
// Not thread-safe itself; its servers are.
#ifndef PGXN_ORIGIN_ORIGIN_SERVER_H_
#define PGXN_ORIGIN_ORIGIN_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "feed/feed_service.h"
#include "gateway/router.h"
#include "gateway/tree_handler.h"
#include "host/network_view.h"
#include "host/node_host.h"
#include "origin/manager/manager_context.h"
#include "origin/webhooks/dispatcher.h"

namespace pgxn::origin {

class OriginDatabase;
class PgPool;
class PgEventLog;
class Manager;
class AggregateRefresher;

struct OriginOptions {
  std::string data_dir;
  std::string postgres_dsn;  // empty: embedded Postgres in DIR/postgres
  std::string http_address = "127.0.0.1:0";
  std::string grpc_address = "127.0.0.1:0";
  int http_threads = 4;
  uint64_t max_upload_bytes = 64 << 20;
  // Archive limits, mail, links; public_url defaults to http://HOST:PORT of
  // the HTTP listener.
  ManagerOptions manager;
  absl::Duration heartbeat_interval = absl::Seconds(2);
  feed::FeedLimits feed_limits;  // what the Feed server gives its clients
  // The aggregate files (the stats, the tag and user files) go out in
  // `stats` events of their own at most this long after a change
  // (aggregate_refresher.h); zero: in each change's own event, as PGXN
  // writes them.
  absl::Duration aggregate_delay = absl::Seconds(1);
  bool unsafe_no_fsync = false;  // tests and benchmarks only
  host::HttpLimits http_limits;
  // The webhook dispatcher (origin/webhooks/dispatcher.h); its public_url is
  // the Manager's. allow_private also governs registration.
  WebhookDispatcherOptions webhooks;
  // Nodes /meta/network.json lists at most (host/network_view.h).
  size_t network_max_nodes = 10000;
};

class OriginServer final : public host::NodeRole {
 public:
  static absl::StatusOr<std::unique_ptr<OriginServer>> Start(OriginOptions options);
  ~OriginServer() override;

  // Stops the node in the host's order (host/node_host.h): HTTP, then the
  // stats refresher (publishing what is pending), the webhook dispatcher
  // (after its attempts in flight) and the mail thread, then
  // the Feed, then the event log, the pool and the database; idempotent.
  void Stop();
  int http_port() const;
  int grpc_port() const;

 private:
  explicit OriginServer(OriginOptions options);

  // host::NodeRole
  const feed::EventLog* FeedLog() const override;
  absl::Status AddRoutes(gateway::Router* router, const host::Listening& listening) override;
  absl::StatusOr<host::NodeStatus> Status() const override;
  host::MetricsSample Sample() const override;
  void StartWork(host::Metrics& metrics) override;
  void StopWork() override;
  void Close() override;

  // GET /meta/network.json: the newest report of each node below.
  gateway::Response HandleNetwork(const gateway::Request& request) const;

  const OriginOptions options_;
  host::NetworkView network_;
  std::unique_ptr<OriginDatabase> database_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgEventLog> log_;
  std::unique_ptr<AggregateRefresher> aggregates_;
  std::unique_ptr<WebhookDispatcher> webhooks_;
  std::unique_ptr<Manager> manager_;
  std::shared_ptr<const gateway::TreeReader> tree_;  // the published tree, set with the routes
  // manager_ for the HTTP server's screen, which runs from before it is set.
  std::atomic<Manager*> screening_{nullptr};
  std::unique_ptr<host::NodeHost> host_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ORIGIN_SERVER_H_
