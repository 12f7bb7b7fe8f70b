#include "feed/node_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/utf8.h"

namespace pgxn::feed {
namespace {

// Numbers a report may state: finite, non-negative, and below a century of
// seconds, so that nothing downstream overflows converting them.
constexpr double kMaxReportSeconds = 100.0 * 365 * 24 * 3600;

absl::Status CheckText(size_t index, absl::string_view field, absl::string_view value,
                       size_t max_bytes) {
  auto refuse = [&](absl::string_view rule) {
    return absl::InvalidArgumentError(
        absl::StrCat("Report ", index, ": ", field, " ", rule));
  };
  if (value.size() > max_bytes) return refuse(absl::StrCat("is longer than ", max_bytes, " bytes"));
  if (!base::IsValidUtf8(value)) return refuse("is not UTF-8");
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return refuse("has a control character");
  }
  return absl::OkStatus();
}

absl::Status CheckSeconds(size_t index, absl::string_view field, double value) {
  if (!std::isfinite(value) || value < 0 || value > kMaxReportSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("Report ", index, ": ", field, " is not a number of seconds"));
  }
  return absl::OkStatus();
}

absl::Status CheckReport(size_t index, const v1::NodeReport& report) {
  if (!IsNodeId(report.node_id())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Report ", index, ": node_id is not ", kMinNodeIdBytes, " to ", kMaxNodeIdBytes,
        " of [0-9a-z-]"));
  }
  const std::pair<absl::string_view, const std::string*> texts[] = {
      {"version", &report.version()},
      {"upstream", &report.upstream()},
      {"public_url", &report.public_url()}};
  if (absl::Status s = CheckText(index, "role", report.role(), kMaxReportRoleBytes); !s.ok()) {
    return s;
  }
  for (const auto& [field, value] : texts) {
    if (absl::Status s = CheckText(index, field, *value, kMaxReportFieldBytes); !s.ok()) return s;
  }
  if (static_cast<size_t>(report.via_size()) > kMaxReportVia) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Report ", index, ": via lists more than ", kMaxReportVia, " relays"));
  }
  for (const std::string& relay : report.via()) {
    if (!IsNodeId(relay)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Report ", index, ": via holds something that is not a node id"));
    }
  }
  const std::pair<absl::string_view, double> numbers[] = {
      {"lag_seconds", report.lag_seconds()},
      {"report_interval_seconds", report.report_interval_seconds()},
      {"age_seconds", report.age_seconds()}};
  for (const auto& [field, value] : numbers) {
    if (absl::Status s = CheckSeconds(index, field, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

bool IsNodeId(absl::string_view id) {
  if (id.size() < kMinNodeIdBytes || id.size() > kMaxNodeIdBytes) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

absl::Status CheckReportRequest(const v1::ReportRequest& request) {
  if (static_cast<size_t>(request.reports_size()) > kMaxReportsPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("A Report call carries at most ", kMaxReportsPerRequest, " reports, not ",
                     request.reports_size()));
  }
  for (int i = 0; i < request.reports_size(); ++i) {
    if (absl::Status s = CheckReport(i, request.reports(i)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

ReportRate::ReportRate(uint64_t calls_per_minute, size_t max_peers)
    : calls_per_minute_(calls_per_minute), max_peers_(max_peers) {}

bool ReportRate::Admit(const std::string& peer, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (now - window_start_ >= absl::Minutes(1) || now < window_start_) {
    window_start_ = now;
    calls_.clear();
  }
  auto found = calls_.find(peer);
  if (found == calls_.end()) {
    if (calls_.size() >= max_peers_) return false;
    found = calls_.emplace(peer, 0).first;
  }
  if (found->second >= calls_per_minute_) return false;
  ++found->second;
  return true;
}

}  // namespace pgxn::feed
