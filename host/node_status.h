// The JSON document every node serves at GET /_status (docs/architecture.md §5): what it
// holds and how far behind its upstream it is. Pure formatting; thread-safe.
#ifndef PGXN_HOST_NODE_STATUS_H_
#define PGXN_HOST_NODE_STATUS_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace pgxn::host {

inline constexpr char kVersion[] = PGXND_VERSION;

struct NodeStatus {
  std::string role;  // origin, mirror, indexer
  std::string epoch;
  // The newest seq everything the node serves reflects (for an indexer, its
  // search index and API documents too).
  uint64_t applied_seq = 0;
  // The newest seq its store holds, when a role's own work lags behind it;
  // shown as "stored_seq" only then.
  uint64_t stored_seq = 0;
  absl::Time last_event_time = absl::InfinitePast();  // time of the applied tip event
  // Upstream side; empty/zero on the origin, whose head is its applied seq.
  std::string upstream;
  bool connected = false;
  uint64_t upstream_head_seq = 0;
  absl::Time last_message = absl::InfinitePast();  // last event or heartbeat received
  // When the newest signed heartbeat of the origin arrived: a node is stale
  // when none newer came within stale_after.
  absl::Time last_fresh_heartbeat = absl::InfinitePast();
  absl::Time caught_up_at = absl::InfinitePast();  // last time applied reached the head
  absl::Duration stale_after = absl::InfiniteDuration();
  std::string last_error;
  std::string origin_key;   // 32 bytes; shown as ed25519:<hex>
  uint64_t log_start = 0;   // first seq after which this node can stream events
  std::string tree_digest;  // 32 bytes: feed/tree_digest.h of the tree it holds
  // A JSON object whose members are added to the document after the others
  // (a role's own state, e.g. the indexer's doc converters); "" for none.
  std::string extras_json;
};

// {"role","version","epoch","applied_seq",["stored_seq",]"upstream_head_seq","lag_events",
//  "lag_seconds","last_event_time","origin_key","log_start","tree_digest",
//  "upstream","connected","stale","last_error", then extras_json's members}.
// lag_seconds is how long the node has been behind its upstream's head (0 when
// caught up; when it was already behind at start, the age of its newest event);
// stale is true when no new signed heartbeat of the origin arrived within
// stale_after.
std::string StatusJson(const NodeStatus& status, absl::Time now);

// The lag_seconds of StatusJson (above), for the report a node sends.
double LagSeconds(const NodeStatus& status, absl::Time now);

// RFC 3339 UTC with seconds, e.g. 2010-10-19T03:59:54Z (PGXN's date format).
std::string FormatUtcSeconds(absl::Time time);

}  // namespace pgxn::host

#endif  // PGXN_HOST_NODE_STATUS_H_
