#include "host/node_host.h"

#include <signal.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/address.h"
#include "base/fd_limit.h"
#include "base/files.h"
#include "base/log.h"
#include "base/ports_file.h"
#include "base/signals.h"
#include "feed/feed_service.h"
#include "gateway/http_server.h"
#include "gateway/status_http.h"

namespace pgxn::host {
namespace {

// The hosts running in this process, for SIGHUP.
absl::Mutex hosts_mu(absl::kConstInit);
std::vector<NodeHost*>* Hosts() ABSL_EXCLUSIVE_LOCKS_REQUIRED(hosts_mu) {
  static auto* hosts = new std::vector<NodeHost*>();
  return hosts;
}

}  // namespace

void NodeHost::List(NodeHost* host) {
  absl::MutexLock lock(&hosts_mu);
  Hosts()->push_back(host);
}

void NodeHost::Unlist(NodeHost* host) {
  absl::MutexLock lock(&hosts_mu);
  std::vector<NodeHost*>& hosts = *Hosts();
  hosts.erase(std::remove(hosts.begin(), hosts.end(), host), hosts.end());
}

void NodeHost::ReloadAll() {
  absl::MutexLock lock(&hosts_mu);
  for (NodeHost* host : *Hosts()) {
    const HttpLimits& limits = host->options_.http_limits;
    if (host->access_log_ != nullptr) {
      if (absl::Status status = host->access_log_->Reopen(); !status.ok()) {
        base::LogError(absl::StrCat(host->options_.role, ": ", status.message(),
                                    "; the access log stays where it was"));
      }
    }
    if (limits.tls_cert_file.empty()) continue;
    absl::Status status = host->ReloadTls();
    if (status.ok()) {
      base::LogInfo(absl::StrCat(host->options_.role, ": TLS certificate reloaded from ",
                                 limits.tls_cert_file));
    } else {
      base::LogError(absl::StrCat(host->options_.role,
                                  ": TLS reload failed, the old certificate stays: ",
                                  status.message()));
    }
  }
}

NodeHost::NodeHost(NodeHostOptions options, NodeRole* role)
    : options_(std::move(options)), role_(role) {}

NodeHost::~NodeHost() { Stop(); }

absl::StatusOr<std::unique_ptr<NodeHost>> NodeHost::Start(NodeHostOptions options, NodeRole* role) {
  auto host = std::unique_ptr<NodeHost>(new NodeHost(std::move(options), role));
  if (absl::Status s = host->StartAll(); !s.ok()) {
    host->Stop();
    return s;
  }
  return host;
}

absl::Status NodeHost::StartAll() {
  absl::StatusOr<base::HostPort> http = base::ParseHostPort(options_.http_address);
  if (!http.ok()) return http.status();
  if (absl::Status s = base::ParseHostPort(options_.grpc_address).status(); !s.ok()) return s;

  if (!options_.http_limits.access_log.empty()) {
    absl::StatusOr<std::unique_ptr<AccessLog>> access_log =
        AccessLog::Open(options_.http_limits.access_log);
    if (!access_log.ok()) return access_log.status();
    access_log_ = *std::move(access_log);
  }
  metrics_ = std::make_unique<Metrics>(options_.role, [this] {
    MetricsSample sample = role_->Sample();
    if (feed_server_ != nullptr) sample.feed_streams = feed_server_->active_streams();
    for (const auto* server : {http_server_.get(), site_server_.get()}) {
      if (server == nullptr) continue;
      sample.http_connections += server->open_connections();
      sample.http_body_bytes += server->body_bytes_in_flight();
      sample.http_body_spooled_bytes += server->body_bytes_spooled();
    }
    if (event_stream_ != nullptr) {
      sample.sse_clients = event_stream_->clients();
      sample.sse_cutoffs = event_stream_->cutoffs();
    }
    return sample;
  });

  feed::GrpcServerOptions grpc_options;
  grpc_options.address = options_.grpc_address;
  grpc_options.max_message_bytes = options_.max_message_bytes;
  grpc_options.limits = options_.feed_limits;
  grpc_options.tls_cert_file = options_.http_limits.tls_cert_file;
  grpc_options.tls_key_file = options_.http_limits.tls_key_file;
  feed::FeedServiceOptions feed_options;
  feed_options.role = options_.role;
  feed_options.heartbeat_interval = options_.heartbeat_interval;
  feed_options.reports = options_.reports;
  absl::StatusOr<std::unique_ptr<feed::FeedServer>> feed_server =
      feed::FeedServer::Start(grpc_options, feed_options, role_->FeedLog());
  if (!feed_server.ok()) return feed_server.status();
  feed_server_ = *std::move(feed_server);

  const HttpLimits& limits = options_.http_limits;
  if (limits.sse_heartbeat <= absl::ZeroDuration() || limits.sse_max_lag == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sse-heartbeat (", absl::FormatDuration(limits.sse_heartbeat),
                     ") must be positive and --sse-max-lag (", limits.sse_max_lag,
                     ") at least 1"));
  }
  size_t max_connections = static_cast<size_t>(limits.max_connections);
  if (max_connections == 0) {
    absl::StatusOr<base::FdLimit> fds = base::RaiseOpenFileLimit();
    if (!fds.ok()) return fds.status();
    max_connections =
        base::DefaultMaxConnections(fds->soft, options_.site_address.empty() ? 1 : 2);
    base::LogInfo(absl::StrCat(options_.role, ": open-file limit ", fds->soft,
                               fds->before != fds->soft ? absl::StrCat(" (raised from ",
                                                                       fds->before, ")")
                                                        : "",
                               "; HTTP connections capped at ", max_connections,
                               " per listener, ", limits.max_connections_per_address,
                               " per client address"));
  }
  gateway::HttpServerOptions http_options;
  http_options.host = http->host;
  http_options.port = http->port;
  http_options.threads = options_.http_threads;
  http_options.loop_per_thread = options_.http_loop_per_thread;
  http_options.max_body_bytes = options_.max_body_bytes;
  http_options.screen = options_.screen;
  http_options.body_limit = options_.body_limit;
  // Each budget at least fits one body of the largest size allowed, which
  // holds spool_threshold bytes of memory at most.
  http_options.max_body_memory = std::max(
      limits.max_body_memory, std::min(options_.max_body_bytes, http_options.spool_threshold));
  http_options.max_body_disk = std::max(limits.max_body_disk, options_.max_body_bytes);
  if (!options_.data_dir.empty()) {
    // The data directory is on a disk the operator chose for the node, where
    // /tmp may be a small tmpfs (memory again).
    http_options.spool_dir = options_.data_dir + "/tmp";
    if (absl::Status s = base::MakeDirectories(http_options.spool_dir, 0700); !s.ok()) return s;
  }
  http_options.max_connections = max_connections;
  http_options.max_connections_per_address =
      static_cast<size_t>(limits.max_connections_per_address);
  http_options.tls_cert_file = limits.tls_cert_file;
  http_options.tls_key_file = limits.tls_key_file;
  absl::StatusOr<std::unique_ptr<gateway::HttpServer>> http_server = gateway::HttpServer::Start(
      http_options, [this](const gateway::Request& request) { return Dispatch(request); });
  if (!http_server.ok()) return http_server.status();
  http_server_ = *std::move(http_server);

  if (!options_.site_address.empty()) {
    absl::StatusOr<base::HostPort> site = base::ParseHostPort(options_.site_address);
    if (!site.ok()) return site.status();
    gateway::HttpServerOptions site_options = http_options;
    site_options.host = site->host;
    site_options.port = site->port;
    site_options.max_body_bytes = 64 << 10;  // the site takes no uploads, only queries
    site_options.screen = nullptr;
    site_options.body_limit = nullptr;
    absl::StatusOr<std::unique_ptr<gateway::HttpServer>> site_server = gateway::HttpServer::Start(
        site_options, [this](const gateway::Request& request) { return DispatchSite(request); });
    if (!site_server.ok()) {
      return absl::Status(site_server.status().code(),
                          absl::StrCat("site listener: ", site_server.status().message()));
    }
    site_server_ = *std::move(site_server);
  }

  const Listening listening{http->host, http_port(), grpc_port(), site_port()};
  if (absl::Status s = role_->AddRoutes(&router_, listening); !s.ok()) return s;
  EventStreamOptions stream_options;
  stream_options.heartbeat = limits.sse_heartbeat;
  stream_options.max_lag = limits.sse_max_lag;
  stream_options.max_clients = static_cast<size_t>(limits.sse_max_clients);
  stream_options.max_clients_per_address = static_cast<size_t>(limits.sse_max_clients_per_address);
  event_stream_ = std::make_unique<EventStream>(
      role_->FeedLog(), stream_options, !limits.tls_cert_file.empty(),
      absl::StrCat(http->host, ":", http_port()), limits.public_url);
  event_stream_->Start();
  router_.Handle("GET", "/feed", [this](const gateway::Request& request) {
    return event_stream_->Serve(request);
  });
  router_.Handle("OPTIONS", "/feed", [](const gateway::Request&) {
    return EventStream::Preflight();
  });
  router_.Handle("GET", "/_status",
                 [this](const gateway::Request& request) { return HandleStatus(request); });
  router_.Handle("GET", "/metrics", [this](const gateway::Request&) {
    gateway::Response response = gateway::TextResponse(200, metrics_->Render());
    response.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return response;
  });
  if (site_server_ != nullptr && options_.site_routes) {
    if (absl::Status s = options_.site_routes(&site_router_); !s.ok()) return s;
  }
  routes_ready_.store(true);

  if (absl::Status s =
          base::WritePortsFile(options_.data_dir, http_port(), grpc_port(), site_port());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<NodeStatus> now = role_->Status();
  const bool tls = !limits.tls_cert_file.empty();
  base::LogInfo(
      absl::StrCat(options_.role, " serving ", tls ? "HTTPS" : "HTTP", " on ", http->host, ":",
                   http_port(), " and the Feed", tls ? " over TLS" : "", " on port ", grpc_port(),
                   site_port() != 0 ? absl::StrCat(", the site on port ", site_port()) : "",
                   now.ok() ? absl::StrCat("; epoch ", now->epoch.empty() ? "-" : now->epoch,
                                           ", applied seq ", now->applied_seq)
                            : ""));
  role_->StartWork(*metrics_);
  List(this);
  return absl::OkStatus();
}

absl::Status NodeHost::ReloadTls() {
  absl::Status result;
  for (gateway::HttpServer* server : {http_server_.get(), site_server_.get()}) {
    if (server != nullptr) result.Update(server->ReloadTls());
  }
  if (feed_server_ != nullptr) result.Update(feed_server_->ReloadTls());
  return result;
}

void NodeHost::Stop() {
  if (stopped_) return;
  stopped_ = true;
  Unlist(this);
  // The event stream first: its last wake ends every stream while the HTTP
  // server's threads still run, and nothing posts to them once they stop.
  if (event_stream_ != nullptr) event_stream_->Stop();
  if (http_server_ != nullptr) http_server_->Stop();
  if (site_server_ != nullptr) site_server_->Stop();
  if (access_log_ != nullptr) access_log_->Stop();  // no request is answered now
  role_->StopWork();
  if (feed_server_ != nullptr) feed_server_->Shutdown();
  role_->Close();
}

int NodeHost::http_port() const { return http_server_ == nullptr ? 0 : http_server_->port(); }
int NodeHost::grpc_port() const { return feed_server_ == nullptr ? 0 : feed_server_->port(); }
int NodeHost::site_port() const { return site_server_ == nullptr ? 0 : site_server_->port(); }

gateway::Response NodeHost::Dispatch(const gateway::Request& request) const {
  if (!routes_ready_.load()) {
    return gateway::TextResponse(
        503, absl::StrCat("The ", options_.role, " is starting; try again shortly"));
  }
  return Answer(router_, request);
}

gateway::Response NodeHost::DispatchSite(const gateway::Request& request) const {
  if (!routes_ready_.load()) {
    return gateway::TextResponse(503, "The site is starting; try again shortly");
  }
  return Answer(site_router_, request);
}

gateway::Response NodeHost::Answer(const gateway::Router& router,
                                   const gateway::Request& request) const {
  if (access_log_ == nullptr) {
    gateway::Response response = router.Dispatch(request);
    metrics_->CountHttpRequest(response.status);
    return response;
  }
  const absl::Time start = absl::Now();
  gateway::Response response = router.Dispatch(request);
  metrics_->CountHttpRequest(response.status);
  const absl::Time end = absl::Now();
  access_log_->Record(request, response, end - start, end);
  return response;
}

gateway::Response NodeHost::HandleStatus(const gateway::Request& request) const {
  absl::StatusOr<NodeStatus> status = role_->Status();
  if (!status.ok()) return gateway::ErrorResponse(status.status(), request);
  status->role = options_.role;
  return gateway::JsonResponse(200, StatusJson(*status, absl::Now()));
}

void PrepareForSignals() { base::BlockTerminationSignals(); }

void ServeUntilSignal(const std::string& role, const std::function<void()>& stop) {
  int signal_number = base::WaitForTerminationSignal();
  while (signal_number == SIGHUP) {
    NodeHost::ReloadAll();
    signal_number = base::WaitForTerminationSignal();
  }
  base::LogInfo(absl::StrCat(role, " stopping on signal ", signal_number));
  stop();
  base::LogInfo(absl::StrCat(role, " stopped"));
}

}  // namespace pgxn::host
