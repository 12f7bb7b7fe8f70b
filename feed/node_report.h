// The reports nodes send towards the origin over the Feed's Report call
// (docs/architecture.md §3): what a well-formed one is, who takes them on a
// server, and how often one peer may send them. Reports come from the
// network and are hostile until checked here; even then they are only ever
// displayed (/meta/network.json), never trusted for anything.
//
// Thread-safety: CheckReportRequest is pure; ReportRate is thread-safe.
#ifndef PGXN_FEED_NODE_REPORT_H_
#define PGXN_FEED_NODE_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::feed {

// Most reports in one Report call: a relay with more children passes the
// rest on in its next call.
constexpr size_t kMaxReportsPerRequest = 256;
// Most relays a report may have passed through.
constexpr size_t kMaxReportVia = 16;
constexpr size_t kMinNodeIdBytes = 8;
constexpr size_t kMaxNodeIdBytes = 64;
constexpr size_t kMaxReportRoleBytes = 16;
// version, upstream and public_url.
constexpr size_t kMaxReportFieldBytes = 256;

// OK when `request` holds at most kMaxReportsPerRequest reports, each with a
// node id of kMinNodeIdBytes to kMaxNodeIdBytes of [0-9a-z-], every string
// within its limit and valid UTF-8 without control characters, via ids that
// are node ids, at most kMaxReportVia of them, and finite, non-negative
// numbers; InvalidArgument naming the first report and field that is not.
absl::Status CheckReportRequest(const v1::ReportRequest& request);

// Whether `id` is a well-formed node id.
bool IsNodeId(absl::string_view id);

// Where a Feed server hands the reports it accepted (checked already).
// Called on gRPC's threads, concurrently; must not block.
class ReportSink {
 public:
  virtual ~ReportSink() = default;
  virtual void Accept(std::vector<v1::NodeReport> reports) = 0;
};

// How many Report calls one peer (IP address) may make per minute, with at
// most `max_peers` peers tracked in a minute: past either the call is
// refused. Memory stays bounded by max_peers whatever the callers do.
class ReportRate {
 public:
  ReportRate(uint64_t calls_per_minute, size_t max_peers);
  // Counts a call of `peer` at `now`; false when it is over the rate.
  bool Admit(const std::string& peer, absl::Time now);

 private:
  const uint64_t calls_per_minute_;
  const size_t max_peers_;
  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::flat_hash_map<std::string, uint64_t> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_NODE_REPORT_H_
