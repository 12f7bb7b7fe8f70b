// The numbers every node serves at GET /metrics in Prometheus' text format:
// HTTP requests by status, events applied and refused, feed subscribers, and
// the gauges of /_status (applied seq, upstream head, lag) sampled at scrape
// time, and on the origin the login guard's counters and the webhooks'. prometheus-cpp stays inside metrics.cc.
//
// Thread-safety: every method may be called from any thread.
#ifndef PGXN_HOST_METRICS_H_
#define PGXN_HOST_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace pgxn::host {

// Values read when /metrics is scraped.
struct MetricsSample {
  uint64_t applied_seq = 0;
  uint64_t upstream_head_seq = 0;
  uint64_t feed_streams = 0;  // Subscribe streams this node serves now
  uint64_t http_connections = 0;  // open on every HTTP listener
  uint64_t http_body_bytes = 0;   // request bodies held in memory now
  uint64_t http_body_spooled_bytes = 0;  // and in spool files
  uint64_t sse_clients = 0;  // GET /feed streams open now
  uint64_t sse_cutoffs = 0;  // and closed for falling behind, since start
  bool stale = false;
  // The origin's login guard (origin/accounts/login_guard.h); other roles
  // leave it empty and show no pgxn_login_* series.
  struct Logins {
    uint64_t failures = 0;   // wrong passwords, unknown or inactive accounts
    uint64_t throttled = 0;  // attempts refused with 429
    uint64_t attacks = 0;    // accounts that came under attack
    uint64_t accounts_under_attack = 0;
  };
  std::optional<Logins> logins;
  // The origin's network view (host/network_view.h): nodes listed, and of
  // them the live ones; other roles leave it empty and show no
  // pgxn_network_* series.
  struct Network {
    uint64_t nodes = 0;
    uint64_t live = 0;
  };
  std::optional<Network> network;
};

class Metrics {
 public:
  // `role` becomes a label on every series; `sample` is called per scrape.
  Metrics(std::string role, std::function<MetricsSample()> sample);
  ~Metrics();

  void CountHttpRequest(int status);
  void CountEventApplied();
  void CountEventRefused();
  // The origin's webhooks (origin/webhooks/dispatcher.h): one attempt by
  // outcome ("delivered", "failed", "error", "refused") and its latency; a
  // hook disabled after its failures. Other roles show no such series.
  void CountWebhookAttempt(const std::string& outcome, double seconds);
  void CountWebhookDisabled();

  // The exposition text for GET /metrics.
  std::string Render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgxn::host

#endif  // PGXN_HOST_METRICS_H_
