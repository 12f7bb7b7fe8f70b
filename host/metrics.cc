#include "host/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace pgxn::host {

struct Metrics::Impl {
  std::function<MetricsSample()> sample;
  prometheus::Registry registry;
  // Requests by status class (1xx..5xx), created up front: no allocation or
  // lock on the request path.
  std::array<prometheus::Counter*, 5> http_by_class{};
  prometheus::Counter* applied = nullptr;
  prometheus::Counter* refused = nullptr;
  prometheus::Gauge* applied_seq = nullptr;
  prometheus::Gauge* head_seq = nullptr;
  prometheus::Gauge* lag = nullptr;
  prometheus::Gauge* streams = nullptr;
  prometheus::Gauge* stale = nullptr;
  prometheus::Gauge* http_connections = nullptr;
  prometheus::Gauge* http_body_bytes = nullptr;
  prometheus::Gauge* http_body_spooled_bytes = nullptr;
  prometheus::Gauge* sse_clients = nullptr;
  prometheus::Counter* sse_cutoffs = nullptr;
  // Created at the first scrape whose sample has logins (the network view's
  // gauges: has the view); scrapes may run concurrently.
  std::mutex logins_mu;
  prometheus::Counter* login_failures = nullptr;
  prometheus::Counter* logins_throttled = nullptr;
  prometheus::Counter* login_attacks = nullptr;
  prometheus::Gauge* under_attack = nullptr;
  // Created at the first scrape whose sample has the network view.
  prometheus::Gauge* network_nodes = nullptr;
  prometheus::Gauge* network_live = nullptr;
  prometheus::Labels labels;
  // The origin's webhooks: created with the origin's Metrics only.
  prometheus::Family<prometheus::Counter>* webhook_attempts = nullptr;
  prometheus::Histogram* webhook_latency = nullptr;
  prometheus::Counter* webhooks_disabled = nullptr;
};

namespace {

// A counter kept elsewhere, brought up to `value` (it only grows).
void RaiseTo(prometheus::Counter* counter, uint64_t value) {
  const double delta = static_cast<double>(value) - counter->Value();
  if (delta > 0) counter->Increment(delta);
}

}  // namespace

Metrics::Metrics(std::string role, std::function<MetricsSample()> sample)
    : impl_(std::make_unique<Impl>()) {
  impl_->sample = std::move(sample);
  const prometheus::Labels labels{{"role", role}};
  impl_->labels = labels;
  auto& http = prometheus::BuildCounter()
                   .Name("pgxn_http_requests_total")
                   .Help("HTTP requests answered, by status class")
                   .Register(impl_->registry);
  for (int i = 0; i < 5; ++i) {
    prometheus::Labels with_code = labels;
    with_code["code"] = absl::StrCat(i + 1, "xx");
    impl_->http_by_class[i] = &http.Add(with_code);
  }
  impl_->applied = &prometheus::BuildCounter()
                        .Name("pgxn_events_applied_total")
                        .Help("Events verified and applied by this node")
                        .Register(impl_->registry)
                        .Add(labels);
  impl_->refused = &prometheus::BuildCounter()
                        .Name("pgxn_events_refused_total")
                        .Help("Events refused (bad signature, chain, content or digest)")
                        .Register(impl_->registry)
                        .Add(labels);
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(impl_->registry).Add(labels);
  };
  impl_->applied_seq = gauge("pgxn_applied_seq", "Seq of the newest event this node holds");
  impl_->head_seq = gauge("pgxn_upstream_head_seq", "The origin's head as this node last heard");
  impl_->lag = gauge("pgxn_lag_events", "Events the origin has that this node does not");
  impl_->streams = gauge("pgxn_feed_streams", "Feed subscribers this node serves now");
  impl_->stale = gauge("pgxn_stale", "1 when no fresh signed heartbeat arrived in time");
  impl_->http_connections =
      gauge("pgxn_http_connections", "HTTP connections open now, all listeners");
  impl_->http_body_bytes =
      gauge("pgxn_http_body_bytes", "Request body bytes held in memory now (--max-body-memory)");
  impl_->http_body_spooled_bytes = gauge("pgxn_http_body_spooled_bytes",
                                         "Request body bytes in spool files now (--max-body-disk)");
  impl_->sse_clients =
      gauge("pgxn_sse_clients", "Server-Sent Events clients of GET /feed connected now");
  impl_->sse_cutoffs = &prometheus::BuildCounter()
                            .Name("pgxn_sse_cutoffs_total")
                            .Help("GET /feed clients closed for falling behind (--sse-max-lag)")
                            .Register(impl_->registry)
                            .Add(labels);
  if (role == "origin") {
    impl_->webhook_attempts = &prometheus::BuildCounter()
                                   .Name("pgxn_webhook_deliveries_total")
                                   .Help(
                                       "Webhook delivery attempts by outcome (delivered: 2xx; "
                                       "failed: another status; error: no answer; refused: "
                                       "no public address)")
                                   .Register(impl_->registry);
    for (const char* outcome : {"delivered", "failed", "error", "refused"}) {
      prometheus::Labels with_outcome = labels;
      with_outcome["outcome"] = outcome;
      impl_->webhook_attempts->Add(with_outcome);
    }
    impl_->webhook_latency =
        &prometheus::BuildHistogram()
             .Name("pgxn_webhook_delivery_seconds")
             .Help("Time from connecting to a webhook's receiver to its answer (or the failure)")
             .Register(impl_->registry)
             .Add(labels, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1,
                                                                  0.25, 0.5, 1, 2.5, 5, 10, 30});
    impl_->webhooks_disabled = &prometheus::BuildCounter()
                                    .Name("pgxn_webhooks_disabled_total")
                                    .Help(
                                        "Webhooks disabled after failing for "
                                        "--webhook-disable-after")
                                    .Register(impl_->registry)
                                    .Add(labels);
  }
}

Metrics::~Metrics() = default;

void Metrics::CountWebhookAttempt(const std::string& outcome, double seconds) {
  if (impl_->webhook_attempts == nullptr) return;
  prometheus::Labels with_outcome = impl_->labels;
  with_outcome["outcome"] = outcome;
  impl_->webhook_attempts->Add(with_outcome).Increment();
  impl_->webhook_latency->Observe(seconds);
}

void Metrics::CountWebhookDisabled() {
  if (impl_->webhooks_disabled != nullptr) impl_->webhooks_disabled->Increment();
}

void Metrics::CountHttpRequest(int status) {
  const int index = status / 100 - 1;
  if (index >= 0 && index < 5) impl_->http_by_class[index]->Increment();
}

void Metrics::CountEventApplied() { impl_->applied->Increment(); }
void Metrics::CountEventRefused() { impl_->refused->Increment(); }

std::string Metrics::Render() const {
  const MetricsSample sample = impl_->sample();
  const uint64_t head = std::max(sample.upstream_head_seq, sample.applied_seq);
  impl_->applied_seq->Set(static_cast<double>(sample.applied_seq));
  impl_->head_seq->Set(static_cast<double>(head));
  impl_->lag->Set(static_cast<double>(head - sample.applied_seq));
  impl_->streams->Set(static_cast<double>(sample.feed_streams));
  impl_->stale->Set(sample.stale ? 1 : 0);
  impl_->http_connections->Set(static_cast<double>(sample.http_connections));
  impl_->http_body_bytes->Set(static_cast<double>(sample.http_body_bytes));
  impl_->http_body_spooled_bytes->Set(static_cast<double>(sample.http_body_spooled_bytes));
  impl_->sse_clients->Set(static_cast<double>(sample.sse_clients));
  RaiseTo(impl_->sse_cutoffs, sample.sse_cutoffs);
  if (sample.logins.has_value()) {
    std::lock_guard<std::mutex> lock(impl_->logins_mu);
    if (impl_->login_failures == nullptr) {
      auto counter = [&](const char* name, const char* help) {
        return &prometheus::BuildCounter()
                    .Name(name)
                    .Help(help)
                    .Register(impl_->registry)
                    .Add(impl_->labels);
      };
      impl_->login_failures =
          counter("pgxn_login_failures_total", "Failed logins (wrong password, unknown account)");
      impl_->logins_throttled =
          counter("pgxn_logins_throttled_total", "Login attempts refused with 429 (throttled)");
      impl_->login_attacks = counter("pgxn_login_attacks_total",
                                     "Accounts that came under a password-guessing attack");
      impl_->under_attack = &prometheus::BuildGauge()
                                 .Name("pgxn_accounts_under_attack")
                                 .Help("Accounts under a password-guessing attack now")
                                 .Register(impl_->registry)
                                 .Add(impl_->labels);
    }
    RaiseTo(impl_->login_failures, sample.logins->failures);
    RaiseTo(impl_->logins_throttled, sample.logins->throttled);
    RaiseTo(impl_->login_attacks, sample.logins->attacks);
    impl_->under_attack->Set(static_cast<double>(sample.logins->accounts_under_attack));
  }
  if (sample.network.has_value()) {
    std::lock_guard<std::mutex> lock(impl_->logins_mu);
    if (impl_->network_nodes == nullptr) {
      auto gauge = [&](const char* name, const char* help) {
        return &prometheus::BuildGauge().Name(name).Help(help).Register(impl_->registry).Add(
            impl_->labels);
      };
      impl_->network_nodes =
          gauge("pgxn_network_nodes", "Nodes listed in /meta/network.json (reported lately)");
      impl_->network_live = gauge("pgxn_network_live_nodes",
                                  "Nodes of /meta/network.json that are live (reporting, caught up)");
    }
    impl_->network_nodes->Set(static_cast<double>(sample.network->nodes));
    impl_->network_live->Set(static_cast<double>(sample.network->live));
  }
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

}  // namespace pgxn::host
