#include "host/node_status.h"

#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace pgxn::host {
namespace {

TEST(NodeStatusTest, MirrorBehindItsUpstream) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'100);
  NodeStatus status;
  status.role = "mirror";
  status.epoch = "e";
  status.applied_seq = 7;
  status.last_event_time = absl::FromUnixSeconds(1'700'000'000);
  status.upstream = "127.0.0.1:1";
  status.connected = true;
  status.upstream_head_seq = 10;
  status.last_message = now - absl::Seconds(1);
  status.last_fresh_heartbeat = now - absl::Seconds(2);
  status.caught_up_at = now - absl::Seconds(3);
  status.stale_after = absl::Seconds(10);
  auto doc = nlohmann::json::parse(StatusJson(status, now));
  EXPECT_EQ(doc["role"], "mirror");
  EXPECT_EQ(doc["applied_seq"], 7);
  EXPECT_EQ(doc["upstream_head_seq"], 10);
  EXPECT_EQ(doc["lag_events"], 3);
  EXPECT_DOUBLE_EQ(doc["lag_seconds"].get<double>(), 3.0);
  EXPECT_EQ(doc["last_event_time"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(doc["stale"], false);
  EXPECT_EQ(doc["upstream"], "127.0.0.1:1");
}

TEST(NodeStatusTest, ARolesOwnStateComesLastAndCannotReplaceAField) {
  NodeStatus status;
  status.role = "indexer";
  status.extras_json = R"({"converters": {"rst": {"available": true}}, "role": "spoofed"})";
  auto doc = nlohmann::json::parse(StatusJson(status, absl::Now()));
  EXPECT_EQ(doc["converters"]["rst"]["available"], true);
  EXPECT_EQ(doc["role"], "indexer");
  status.extras_json = "not json";
  EXPECT_FALSE(nlohmann::json::parse(StatusJson(status, absl::Now())).contains("converters"));
}

TEST(NodeStatusTest, SilentUpstreamIsStale) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'100);
  NodeStatus status;
  status.role = "mirror";
  status.last_message = now;  // a relay still repeats an old heartbeat
  status.last_fresh_heartbeat = now - absl::Seconds(11);
  status.stale_after = absl::Seconds(10);
  auto doc = nlohmann::json::parse(StatusJson(status, now));
  EXPECT_EQ(doc["stale"], true);
  EXPECT_EQ(doc["lag_events"], 0);
  EXPECT_EQ(doc["lag_seconds"], 0.0);
  EXPECT_TRUE(doc["last_event_time"].is_null());
}

TEST(NodeStatusTest, OriginHasNoUpstreamFields) {
  NodeStatus status;
  status.role = "origin";
  status.applied_seq = 4;
  auto doc = nlohmann::json::parse(StatusJson(status, absl::Now()));
  EXPECT_EQ(doc["upstream_head_seq"], 4);
  EXPECT_FALSE(doc.contains("upstream"));
  EXPECT_FALSE(doc.contains("stale"));
}

}  // namespace
}  // namespace pgxn::host
