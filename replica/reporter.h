// What a mirror or indexer tells the network about itself (docs/operating.md,
// "The network view"): every `interval` it sends its upstream, over the Feed's
// Report call, its own report and those its children sent it since the last
// round, each child's with this node added to `via` and the time it was held
// added to `age_seconds`. The origin lists them at /meta/network.json.
//
// With report_self false (--no-report) the node sends no report of its own
// and does not name itself in `via`, but still passes its children's on:
// they chose to be seen.
//
// Children's reports are held at most `max_held` at once (the newest of each
// node; past the bound, new nodes' reports are dropped until the next round)
// and sent in calls of at most feed::kMaxReportsPerRequest. A failed call is
// not retried: the next round carries fresher reports.
//
// Thread-safety: Accept and TakeRound from any thread; Start and Stop from
// the owner's.
#ifndef PGXN_REPLICA_REPORTER_H_
#define PGXN_REPLICA_REPORTER_H_

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "feed/node_report.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::replica {

struct ReporterOptions {
  absl::Duration interval = absl::Seconds(30);
  bool report_self = true;
  size_t max_held = 4096;
};

class Reporter final : public feed::ReportSink {
 public:
  // `self` gives this node's report (id and interval are filled in here);
  // `send` delivers one request upstream; `clock` times holding.
  Reporter(ReporterOptions options, std::string node_id,
           std::function<feed::v1::NodeReport()> self,
           std::function<absl::Status(const feed::v1::ReportRequest&)> send,
           std::function<absl::Time()> clock = absl::Now);
  ~Reporter() override;

  void Accept(std::vector<feed::v1::NodeReport> reports) override;

  // The requests of one round, and forgets the children's reports they
  // carry: this node's report first (with report_self), then the children's.
  std::vector<feed::v1::ReportRequest> TakeRound();

  // A thread that sends a round at once, then every interval.
  void Start();
  // Joins it; idempotent.
  void Stop();

 private:
  struct Held {
    feed::v1::NodeReport report;
    absl::Time received;
  };
  void Run();

  const ReporterOptions options_;
  const std::string node_id_;
  const std::function<feed::v1::NodeReport()> self_;
  const std::function<absl::Status(const feed::v1::ReportRequest&)> send_;
  const std::function<absl::Time()> clock_;
  std::thread thread_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, Held> held_ ABSL_GUARDED_BY(mu_);
};

// This node's id: DIR/node_id, created with a random one on first use.
absl::StatusOr<std::string> LoadOrCreateNodeId(const std::string& data_dir);

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_REPORTER_H_
