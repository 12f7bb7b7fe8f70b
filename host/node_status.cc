#include "host/node_status.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "base/digest.h"
#include "feed/signing.h"

namespace pgxn::host {

std::string FormatUtcSeconds(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

namespace {

uint64_t HeadSeq(const NodeStatus& status) {
  return status.role == "origin" ? status.applied_seq
                                 : std::max(status.upstream_head_seq, status.applied_seq);
}

}  // namespace

double LagSeconds(const NodeStatus& status, absl::Time now) {
  const uint64_t head = HeadSeq(status);
  double lag_seconds = 0;
  if (head > status.applied_seq && status.caught_up_at != absl::InfinitePast()) {
    lag_seconds = absl::ToDoubleSeconds(now - status.caught_up_at);
  } else if (head > status.applied_seq && status.last_event_time != absl::InfinitePast()) {
    // Behind since before this process started: the age of the newest applied
    // event bounds the lag from above.
    lag_seconds = absl::ToDoubleSeconds(now - status.last_event_time);
  }
  return lag_seconds;
}

std::string StatusJson(const NodeStatus& status, absl::Time now) {
  const bool is_origin = status.role == "origin";
  const uint64_t head = HeadSeq(status);
  const double lag_seconds = LagSeconds(status, now);
  nlohmann::ordered_json doc;
  doc["role"] = status.role;
  doc["version"] = kVersion;
  doc["epoch"] = status.epoch;
  doc["applied_seq"] = status.applied_seq;
  doc["upstream_head_seq"] = head;
  doc["lag_events"] = head - status.applied_seq;
  doc["lag_seconds"] = lag_seconds;
  doc["last_event_time"] = status.last_event_time == absl::InfinitePast()
                               ? nlohmann::ordered_json(nullptr)
                               : nlohmann::ordered_json(FormatUtcSeconds(status.last_event_time));
  doc["origin_key"] =
      status.origin_key.empty()
          ? std::string()
          : std::string(absl::StripAsciiWhitespace(feed::FormatPublicKey(status.origin_key)));
  if (status.stored_seq > status.applied_seq) doc["stored_seq"] = status.stored_seq;
  doc["log_start"] = status.log_start;
  doc["tree_digest"] = base::HexEncode(status.tree_digest);
  if (!is_origin) {
    doc["upstream"] = status.upstream;
    doc["connected"] = status.connected;
    doc["stale"] = now - status.last_fresh_heartbeat > status.stale_after;
    doc["last_error"] = status.last_error;
  }
  if (!status.extras_json.empty()) {
    const nlohmann::ordered_json extras =
        nlohmann::ordered_json::parse(status.extras_json, nullptr, /*allow_exceptions=*/false);
    if (extras.is_object()) {
      for (const auto& [key, value] : extras.items()) {
        if (!doc.contains(key)) doc[key] = value;
      }
    }
  }
  return doc.dump(2) + "\n";
}

}  // namespace pgxn::host
