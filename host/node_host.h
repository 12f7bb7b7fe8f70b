// What every node runs around its role, written once for the origin, mirrors
// and indexers: the HTTP gateway with /_status and /metrics, the Feed (gRPC)
// server over the role's log, DIR/ports.json, and the order in which all of
// it starts and stops.
//
// Start, in this order:
//   1. the Feed server over role->FeedLog(), and the HTTP server (answering
//      503 "starting" until step 2 is done), and the site's HTTP server when
//      options.site_address is set (likewise);
//   2. role->AddRoutes(router, ports): the role's routes, given the bound
//      ports (the origin's mail links need the HTTP port); the host adds
//      GET /_status (role->Status()), GET /metrics (role->Sample()) and
//      GET /feed (the role's log as Server-Sent Events, event_stream.h);
//      then options.site_routes on the site's own router;
//   3. DIR/ports.json, so that whoever waits for it finds everything up;
//   4. role->StartWork(): threads that change the role's state (a replica's
//      upstream feed).
// Stop, in this order, so that no thread outlives what it uses:
//   1. the event stream's thread stops, ending every GET /feed stream; the
//      HTTP servers stop accepting and finish the requests in flight;
//   2. role->StopWork(): the role's threads stop, finishing what they are
//      doing and publishing or applying what they owe (a pending stats
//      event, the event being applied);
//   3. the Feed server ends its streams (after the last event published);
//   4. role->Close(): stores and pools are closed, nothing uses them now.
//
// Thread-safety: Start and Stop from one thread.
// The role must outlive the host.
#ifndef PGXN_HOST_NODE_HOST_H_
#define PGXN_HOST_NODE_HOST_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "feed/event_chain.h"
#include "feed/event_log.h"
#include "feed/feed_service.h"
#include "gateway/http.h"
#include "gateway/router.h"
#include "host/access_log.h"
#include "host/event_stream.h"
#include "host/metrics.h"
#include "host/node_status.h"

namespace pgxn::gateway {
class HttpServer;
}
namespace pgxn::feed {
class FeedServer;
}

namespace pgxn::host {

// What bounds the HTTP listeners' use of memory and descriptors, and the
// node's TLS (gateway/http_server.h, feed/server_tls.h); the same for every
// role, set by flags.
struct HttpLimits {
  // Per listener; 0 derives it from the open-file limit (base/fd_limit.h).
  uint64_t max_connections = 0;
  uint64_t max_connections_per_address = 512;
  // Request bodies in memory, and spooled to temp files in DIR/tmp (bodies
  // over 1 MiB), at once across every connection of a listener.
  uint64_t max_body_memory = uint64_t{256} << 20;
  uint64_t max_body_disk = uint64_t{4} << 30;
  // PEM certificate chain and key: when set, every HTTP listener speaks
  // HTTPS only and the Feed (gRPC) TLS only, with the same certificate;
  // SIGHUP reloads them for both (ServeUntilSignal).
  std::string tls_cert_file;
  std::string tls_key_file;
  // GET /feed, the event stream (host/event_stream.h): the heartbeat of a
  // quiet stream, and how many events a client may fall behind.
  absl::Duration sse_heartbeat = absl::Seconds(15);
  uint64_t sse_max_lag = 1000;
  // Event streams open at once, in all and from one client address
  // (EventStreamOptions).
  uint64_t sse_max_clients = 20000;
  uint64_t sse_max_clients_per_address = 64;
  // The URL people reach the node at (https://mirror.example.org, behind a
  // proxy that terminates TLS, say): the base of the absolute URLs in the
  // events /feed sends. Empty: the listener's scheme and the request's Host.
  std::string public_url;
  // --access-log: a file (or "-", stderr) that gets one line per request
  // (host/access_log.h), reopened on SIGHUP; empty: none.
  std::string access_log;
};

struct NodeHostOptions {
  std::string role;      // origin, mirror, indexer: in /_status, /metrics and the log
  // Where ports.json goes, and DIR/tmp, where large request bodies are
  // spooled (created at start); empty: $TMPDIR.
  std::string data_dir;
  std::string http_address = "127.0.0.1:0";  // HOST:PORT; port 0 picks one
  std::string grpc_address = "127.0.0.1:0";
  int http_threads = 4;
  // An event loop per HTTP thread (gateway::HttpServerOptions): for a node
  // whose handlers never block (a mirror), not one that waits on PostgreSQL
  // or unpacks archives in a handler.
  bool http_loop_per_thread = false;
  uint64_t max_body_bytes = 1 << 20;  // the largest request body accepted
  // Refuses a request from its header alone (gateway/http_server.h); optional.
  std::function<absl::optional<gateway::Response>(const gateway::Request& head)> screen;
  // The largest body a request may have, from its header (http_server.h);
  // optional: max_body_bytes for every route.
  std::function<uint64_t(const gateway::Request& head)> body_limit;
  HttpLimits http_limits;
  int max_message_bytes = feed::kMaxFeedMessageBytes;  // Feed messages
  absl::Duration heartbeat_interval = absl::Seconds(2);
  // What the Feed server gives its clients at most (streams, buffers, time).
  feed::FeedLimits feed_limits;
  // Takes the reports nodes below send over the Feed (the origin's network
  // view, a replica's relay); not owned, must outlive the host. Null: the
  // Feed refuses reports.
  feed::ReportSink* reports = nullptr;
  // A second HTTP listener, HOST:PORT, with routes of its own (an indexer's
  // website, whose paths collide with the API's); empty: none.
  std::string site_address;
  // Adds the site's routes; called in step 2 when site_address is set.
  std::function<absl::Status(gateway::Router* router)> site_routes;
};

// Where the node listens, once it does.
struct Listening {
  std::string http_host;
  int http_port = 0;
  int grpc_port = 0;
  int site_port = 0;  // 0: no site listener
};

// What a role gives its host. Called on the thread that starts and stops the
// host, except Status and Sample (HTTP threads, concurrently).
class NodeRole {
 public:
  virtual ~NodeRole() = default;
  // The log the Feed serves: the origin's event log, a replica's store.
  virtual const feed::EventLog* FeedLog() const = 0;
  // Adds the role's routes; /_status and /metrics are the host's.
  virtual absl::Status AddRoutes(gateway::Router* router, const Listening& listening) = 0;
  // What /_status shows (the host sets role).
  virtual absl::StatusOr<NodeStatus> Status() const = 0;
  // What /metrics shows (the host sets feed_streams).
  virtual MetricsSample Sample() const = 0;
  // Starts the role's own threads; the node is listening. `metrics` (the
  // host's, alive until Close) takes the role's counters.
  virtual void StartWork(Metrics& metrics) {}
  // Stops them (see the order above). Also called when Start failed, before
  // or after StartWork, so it must cope with threads that never started.
  virtual void StopWork() {}
  // Closes what the role's threads and handlers used.
  virtual void Close() {}
};

class NodeHost {
 public:
  // Starts the node (steps 1-4 above). On failure, what was started is
  // stopped again, in order, and the error says what failed.
  static absl::StatusOr<std::unique_ptr<NodeHost>> Start(NodeHostOptions options, NodeRole* role);
  ~NodeHost();  // Stop()
  NodeHost(const NodeHost&) = delete;
  NodeHost& operator=(const NodeHost&) = delete;

  // Stops the node (steps 1-4 above); idempotent.
  void Stop();

  int http_port() const;
  int grpc_port() const;
  int site_port() const;  // 0 without a site listener

  // Reads the TLS files again for new connections, HTTP and Feed (each
  // listener keeps its old certificate if they do not load; open Feed
  // streams keep their connection); OK without TLS.
  absl::Status ReloadTls();

 private:
  friend void ServeUntilSignal(const std::string& role, const std::function<void()>& stop);
  // The process's running hosts, for SIGHUP: listed once serving, unlisted
  // on Stop; ReloadAll reloads each one's TLS files.
  static void List(NodeHost* host);
  static void Unlist(NodeHost* host);
  static void ReloadAll();

  NodeHost(NodeHostOptions options, NodeRole* role);
  absl::Status StartAll();
  gateway::Response Dispatch(const gateway::Request& request) const;
  gateway::Response DispatchSite(const gateway::Request& request) const;
  // `router`'s answer, counted in /metrics and written to the access log.
  gateway::Response Answer(const gateway::Router& router, const gateway::Request& request) const;
  gateway::Response HandleStatus(const gateway::Request& request) const;

  const NodeHostOptions options_;
  NodeRole* const role_;
  gateway::Router router_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<feed::FeedServer> feed_server_;
  std::unique_ptr<gateway::HttpServer> http_server_;
  std::unique_ptr<EventStream> event_stream_;  // GET /feed
  std::unique_ptr<AccessLog> access_log_;      // --access-log; null: none
  gateway::Router site_router_;
  std::unique_ptr<gateway::HttpServer> site_server_;
  // Requests get 503 until the role's routes are in place.
  std::atomic<bool> routes_ready_{false};
  bool stopped_ = false;
};

// For `pgxnd origin|mirror|indexer`: blocks SIGINT and SIGTERM in this and
// every later thread (call it before anything starts a thread), so that
// ServeUntilSignal can wait for them.
void PrepareForSignals();
// Waits for SIGINT or SIGTERM, then calls `stop` (which stops the node's
// host), logging both. On SIGHUP meanwhile, every running NodeHost reloads
// its TLS files (ReloadTls), logging what happened, and waiting goes on.
void ServeUntilSignal(const std::string& role, const std::function<void()>& stop);

}  // namespace pgxn::host

#endif  // PGXN_HOST_NODE_HOST_H_
