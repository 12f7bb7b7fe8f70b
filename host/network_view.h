// The origin's view of the network (docs/operating.md, "The network view"):
// the newest report of each node below it, as the Feed's Report call brings
// them (feed/node_report.h), served as GET /meta/network.json. It replaces
// PGXN's daily check of its mirrors.
//
// The table is in memory only and bounded: past max_nodes, the node heard
// from least recently (by arrival) is dropped. Reports are display only;
// lag in events is computed when served, from the origin's head and the
// node's last reported applied seq, so a node that stops reporting is seen
// falling behind.
//
// A node is live when both hold at serving time:
//   - it was last seen within 3 report intervals (as it stated its interval,
//     taken as 1 s to 1 h), and
//   - its stated lag_seconds is within that window too (it is caught up, or
//     only just behind).
//
// Thread-safety: every method may be called from any thread.
#ifndef PGXN_HOST_NETWORK_VIEW_H_
#define PGXN_HOST_NETWORK_VIEW_H_

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "feed/node_report.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::host {

class NetworkView final : public feed::ReportSink {
 public:
  // `clock` gives the time reports arrive and documents are made.
  explicit NetworkView(size_t max_nodes, std::function<absl::Time()> clock = absl::Now);

  // Records each (checked) report as its node's newest, seen at now minus
  // the time relays held it.
  void Accept(std::vector<feed::v1::NodeReport> reports) override;

  // Nodes listed, and how many of them are live now.
  struct Counts {
    uint64_t nodes = 0;
    uint64_t live = 0;
  };
  Counts Count() const;

  // The document of GET /meta/network.json:
  //   {"generated", "head_seq", "nodes": [{"id", "role", "version",
  //    "upstream", "public_url", "via", "applied_seq", "upstream_head_seq",
  //    "lag_events", "lag_seconds", "report_interval_seconds", "last_seen",
  //    "live"}, ...] newest seen first,
  //    "mirrors": [each entry of `mirrors_json` (the registry's
  //    meta/mirrors.json) with "live": whether a live node states its uri as
  //    its public_url]}.
  // `mirrors_json` that is not a JSON array gives "mirrors": [].
  std::string Json(uint64_t head_seq, absl::string_view mirrors_json) const;

 private:
  struct Node {
    feed::v1::NodeReport report;
    absl::Time last_seen;
  };
  bool Live(const Node& node, absl::Time now) const;

  const size_t max_nodes_;
  const std::function<absl::Time()> clock_;
  mutable absl::Mutex mu_;
  // Most recently arrived first.
  std::list<Node> order_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::list<Node>::iterator> by_id_ ABSL_GUARDED_BY(mu_);
};

// A URL as the network view compares them: ASCII-lower-cased, without
// trailing slashes.
std::string NormalizeUrl(absl::string_view url);

}  // namespace pgxn::host

#endif  // PGXN_HOST_NETWORK_VIEW_H_
