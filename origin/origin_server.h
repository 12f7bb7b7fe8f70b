// The origin role (`pgxnd origin`, DESIGN.md §1): the Manager on PostgreSQL,
// the Feed served from its event log, and the published tree over HTTP.
//
// Start() opens the database (embedded or --postgres), applies migrations,
// starts the Feed (gRPC) and the HTTP gateway, and writes DIR/ports.json.
// Stop() or the destructor shuts down in reverse order and stops an embedded
// Postgres. Not thread-safe itself; its servers are.
#ifndef PGXN_ORIGIN_ORIGIN_SERVER_H_
#define PGXN_ORIGIN_ORIGIN_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/router.h"
#include "host/metrics.h"
#include "origin/manager/manager_context.h"

namespace pgxn::gateway {
class HttpServer;
}
namespace pgxn::feed {
class FeedServer;
}

namespace pgxn::origin {

class OriginDatabase;
class PgPool;
class PgEventLog;
class Manager;
class StatsRefresher;

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
  // The stats files go out in `stats` events of their own at most this long
  // after a change (stats_refresher.h); zero: in each change's own event,
  // as PGXN writes them.
  absl::Duration stats_delay = absl::Seconds(1);
  bool unsafe_no_fsync = false;  // tests and benchmarks only
};

class OriginServer {
 public:
  static absl::StatusOr<std::unique_ptr<OriginServer>> Start(OriginOptions options);
  ~OriginServer();

  void Stop();
  int http_port() const;
  int grpc_port() const;

 private:
  explicit OriginServer(OriginOptions options);
  gateway::Response Dispatch(const gateway::Request& request) const;
  gateway::Response HandleStatus(const gateway::Request& request) const;

  const OriginOptions options_;
  std::unique_ptr<OriginDatabase> database_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgEventLog> log_;
  std::unique_ptr<StatsRefresher> stats_;
  std::unique_ptr<Manager> manager_;
  gateway::Router router_;
  std::unique_ptr<feed::FeedServer> feed_server_;
  std::unique_ptr<gateway::HttpServer> http_server_;
  std::unique_ptr<host::Metrics> metrics_;
  // The public URL in mail needs the bound port, so routes are added after
  // the server listens; until then requests get 503.
  std::atomic<bool> routes_ready_{false};
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ORIGIN_SERVER_H_
