#include "host/network_view.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "host/node_status.h"

namespace pgxn::host {
namespace {

// How many stated intervals a node may stay silent and still be live.
constexpr int kLiveIntervals = 3;

absl::Duration Window(const feed::v1::NodeReport& report) {
  const absl::Duration interval = std::clamp(absl::Seconds(report.report_interval_seconds()),
                                             absl::Seconds(1), absl::Hours(1));
  return kLiveIntervals * interval;
}

}  // namespace

std::string NormalizeUrl(absl::string_view url) {
  std::string normal = absl::AsciiStrToLower(url);
  while (!normal.empty() && normal.back() == '/') normal.pop_back();
  return normal;
}

NetworkView::NetworkView(size_t max_nodes, std::function<absl::Time()> clock)
    : max_nodes_(std::max<size_t>(max_nodes, 1)), clock_(std::move(clock)) {}

void NetworkView::Accept(std::vector<feed::v1::NodeReport> reports) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  for (feed::v1::NodeReport& report : reports) {
    // Checked to be at most a century (feed/node_report.h).
    const absl::Time seen = now - absl::Seconds(report.age_seconds());
    auto found = by_id_.find(report.node_id());
    if (found != by_id_.end()) {
      // A relayed report older than one already here does not replace it.
      if (found->second->last_seen > seen) continue;
      order_.erase(found->second);
      by_id_.erase(found);
    }
    std::string id = report.node_id();
    order_.push_front(Node{std::move(report), seen});
    by_id_[std::move(id)] = order_.begin();
    while (order_.size() > max_nodes_) {
      by_id_.erase(order_.back().report.node_id());
      order_.pop_back();
    }
  }
}

bool NetworkView::Live(const Node& node, absl::Time now) const {
  const absl::Duration window = Window(node.report);
  return now - node.last_seen <= window &&
         absl::Seconds(node.report.lag_seconds()) <= window;
}

NetworkView::Counts NetworkView::Count() const {
  const absl::Time now = clock_();
  Counts counts;
  absl::MutexLock lock(&mu_);
  counts.nodes = order_.size();
  for (const Node& node : order_) counts.live += Live(node, now) ? 1 : 0;
  return counts;
}

std::string NetworkView::Json(uint64_t head_seq, absl::string_view mirrors_json) const {
  const absl::Time now = clock_();
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  absl::flat_hash_set<std::string> live_urls;
  {
    absl::MutexLock lock(&mu_);
    for (const Node& node : order_) {
      const feed::v1::NodeReport& r = node.report;
      const bool live = Live(node, now);
      if (live && !r.public_url().empty()) live_urls.insert(NormalizeUrl(r.public_url()));
      nlohmann::ordered_json entry;
      entry["id"] = r.node_id();
      entry["role"] = r.role();
      entry["version"] = r.version();
      entry["upstream"] = r.upstream();
      entry["public_url"] = r.public_url();
      entry["via"] = nlohmann::ordered_json(std::vector<std::string>(r.via().begin(), r.via().end()));
      entry["applied_seq"] = r.applied_seq();
      entry["upstream_head_seq"] = r.upstream_head_seq();
      entry["lag_events"] = head_seq > r.applied_seq() ? head_seq - r.applied_seq() : 0;
      entry["lag_seconds"] = r.lag_seconds();
      entry["report_interval_seconds"] = r.report_interval_seconds();
      entry["last_seen"] = FormatUtcSeconds(node.last_seen);
      entry["seconds_since_seen"] = std::max(0.0, absl::ToDoubleSeconds(now - node.last_seen));
      entry["live"] = live;
      nodes.push_back(std::move(entry));
    }
  }
  nlohmann::ordered_json mirrors = nlohmann::ordered_json::array();
  const nlohmann::ordered_json registry =
      nlohmann::ordered_json::parse(mirrors_json, nullptr, /*allow_exceptions=*/false);
  if (registry.is_array()) {
    for (const nlohmann::ordered_json& mirror : registry) {
      if (!mirror.is_object()) continue;
      nlohmann::ordered_json entry = mirror;
      const auto uri = mirror.find("uri");
      entry["live"] = uri != mirror.end() && uri->is_string() &&
                      live_urls.contains(NormalizeUrl(uri->get<std::string>()));
      mirrors.push_back(std::move(entry));
    }
  }
  nlohmann::ordered_json doc;
  doc["generated"] = FormatUtcSeconds(now);
  doc["head_seq"] = head_seq;
  doc["nodes"] = std::move(nodes);
  doc["mirrors"] = std::move(mirrors);
  // Report strings are checked UTF-8 (feed/node_report.h); the registry's
  // came from the origin's own tree. Replace rather than throw regardless.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace pgxn::host
