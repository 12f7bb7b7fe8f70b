#include "replica/reporter.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/log.h"

namespace pgxn::replica {

Reporter::Reporter(ReporterOptions options, std::string node_id,
                   std::function<feed::v1::NodeReport()> self,
                   std::function<absl::Status(const feed::v1::ReportRequest&)> send,
                   std::function<absl::Time()> clock)
    : options_(options),
      node_id_(std::move(node_id)),
      self_(std::move(self)),
      send_(std::move(send)),
      clock_(std::move(clock)) {}

Reporter::~Reporter() { Stop(); }

void Reporter::Accept(std::vector<feed::v1::NodeReport> reports) {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  for (feed::v1::NodeReport& report : reports) {
    // A loop in the relays (or a child pretending to be us) goes no further.
    if (report.node_id() == node_id_ ||
        std::find(report.via().begin(), report.via().end(), node_id_) != report.via().end()) {
      continue;
    }
    auto found = held_.find(report.node_id());
    if (found == held_.end() && held_.size() >= options_.max_held) continue;
    std::string id = report.node_id();
    held_[std::move(id)] = Held{std::move(report), now};
  }
}

std::vector<feed::v1::ReportRequest> Reporter::TakeRound() {
  absl::flat_hash_map<std::string, Held> held;
  {
    absl::MutexLock lock(&mu_);
    held.swap(held_);
  }
  const absl::Time now = clock_();
  std::vector<feed::v1::ReportRequest> requests(1);
  auto add = [&](feed::v1::NodeReport report) {
    if (static_cast<size_t>(requests.back().reports_size()) >= feed::kMaxReportsPerRequest) {
      requests.emplace_back();
    }
    *requests.back().add_reports() = std::move(report);
  };
  if (options_.report_self) {
    feed::v1::NodeReport own = self_();
    own.set_node_id(node_id_);
    own.set_report_interval_seconds(absl::ToDoubleSeconds(options_.interval));
    own.clear_via();
    own.set_age_seconds(0);
    add(std::move(own));
  }
  for (auto& [id, entry] : held) {
    feed::v1::NodeReport report = std::move(entry.report);
    if (options_.report_self) {
      // One more relay would break the limit every server checks.
      if (static_cast<size_t>(report.via_size()) >= feed::kMaxReportVia) continue;
      report.add_via(node_id_);
    }
    report.set_age_seconds(report.age_seconds() +
                           std::max(0.0, absl::ToDoubleSeconds(now - entry.received)));
    add(std::move(report));
  }
  if (requests.back().reports_size() == 0) requests.pop_back();
  return requests;
}

void Reporter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Reporter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Reporter::Run() {
  std::string last_error;
  while (true) {
    for (const feed::v1::ReportRequest& request : TakeRound()) {
      absl::Status sent = send_(request);
      // Said once per kind of failure, not every round: an upstream that
      // takes no reports (an older node) is no emergency.
      const std::string error = sent.ok() ? "" : sent.ToString();
      if (error != last_error && !error.empty()) base::LogWarning(absl::StrCat("Report: ", error));
      last_error = error;
      if (!sent.ok()) break;
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) return;
  }
}

absl::StatusOr<std::string> LoadOrCreateNodeId(const std::string& data_dir) {
  const std::string path = data_dir + "/node_id";
  if (absl::StatusOr<std::string> text = base::ReadFile(path); text.ok()) {
    std::string id(absl::StripAsciiWhitespace(*text));
    if (!feed::IsNodeId(id)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " does not hold a node id (8 to 64 of [0-9a-z-]); remove it to get a "
                             "new one"));
    }
    return id;
  } else if (!absl::IsNotFound(text.status())) {
    return text.status();
  }
  absl::BitGen random;
  std::string bytes(16, '\0');
  for (char& c : bytes) c = static_cast<char>(absl::Uniform<unsigned>(random, 0, 256));
  const std::string id = base::HexEncode(bytes);
  if (absl::Status s = base::WriteFileAtomically(path, id + "\n", 0644); !s.ok()) return s;
  return id;
}

}  // namespace pgxn::replica
