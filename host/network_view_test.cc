#include "host/network_view.h"

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"

namespace pgxn::host {
namespace {

feed::v1::NodeReport Report(const std::string& id, uint64_t applied, double interval = 10) {
  feed::v1::NodeReport report;
  report.set_node_id(id);
  report.set_role("mirror");
  report.set_version("0.1.0");
  report.set_upstream("127.0.0.1:7001");
  report.set_applied_seq(applied);
  report.set_upstream_head_seq(applied);
  report.set_report_interval_seconds(interval);
  return report;
}

class NetworkViewTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1'700'000'000);
  std::function<absl::Time()> clock_ = [this] { return now_; };

  static nlohmann::json Node(const nlohmann::json& doc, const std::string& id) {
    for (const nlohmann::json& node : doc["nodes"]) {
      if (node["id"] == id) return node;
    }
    return nullptr;
  }
};

TEST_F(NetworkViewTest, ListsANodeWithItsLagComputedAtServing) {
  NetworkView view(10, clock_);
  view.Accept({Report("aaaaaaaa", 5)});
  nlohmann::json doc = nlohmann::json::parse(view.Json(5, "[]"));
  EXPECT_EQ(doc["head_seq"], 5);
  nlohmann::json node = Node(doc, "aaaaaaaa");
  ASSERT_FALSE(node.is_null()) << doc.dump();
  EXPECT_EQ(node["role"], "mirror");
  EXPECT_EQ(node["lag_events"], 0);
  EXPECT_EQ(node["live"], true);

  // The origin publishes; the node has not reported since.
  doc = nlohmann::json::parse(view.Json(8, "[]"));
  EXPECT_EQ(Node(doc, "aaaaaaaa")["lag_events"], 3);
}

TEST_F(NetworkViewTest, ANodeSilentForThreeIntervalsIsNotLive) {
  NetworkView view(10, clock_);
  view.Accept({Report("aaaaaaaa", 5, /*interval=*/10)});
  now_ += absl::Seconds(30);
  EXPECT_EQ(Node(nlohmann::json::parse(view.Json(5, "[]")), "aaaaaaaa")["live"], true);
  now_ += absl::Seconds(1);
  EXPECT_EQ(Node(nlohmann::json::parse(view.Json(5, "[]")), "aaaaaaaa")["live"], false);
  EXPECT_EQ(view.Count().live, 0u);
  EXPECT_EQ(view.Count().nodes, 1u);
  // It reports again.
  view.Accept({Report("aaaaaaaa", 5, 10)});
  EXPECT_EQ(Node(nlohmann::json::parse(view.Json(5, "[]")), "aaaaaaaa")["live"], true);
}

TEST_F(NetworkViewTest, ANodeLongBehindIsNotLive) {
  NetworkView view(10, clock_);
  feed::v1::NodeReport report = Report("aaaaaaaa", 5, 10);
  report.set_lag_seconds(31);
  view.Accept({report});
  EXPECT_EQ(Node(nlohmann::json::parse(view.Json(9, "[]")), "aaaaaaaa")["live"], false);
}

TEST_F(NetworkViewTest, RelayedReportsAreDatedByTheirAge) {
  NetworkView view(10, clock_);
  feed::v1::NodeReport report = Report("bbbbbbbb", 5, 10);
  report.add_via("aaaaaaaa");
  report.set_age_seconds(40);
  view.Accept({report});
  nlohmann::json node = Node(nlohmann::json::parse(view.Json(5, "[]")), "bbbbbbbb");
  EXPECT_EQ(node["via"], nlohmann::json::array({"aaaaaaaa"}));
  EXPECT_EQ(node["live"], false);
  EXPECT_EQ(node["seconds_since_seen"], 40);
  // An older copy arriving by another path does not replace a newer one.
  report.set_age_seconds(0);
  report.set_applied_seq(6);
  view.Accept({report});
  report.set_age_seconds(20);
  report.set_applied_seq(4);
  view.Accept({report});
  EXPECT_EQ(Node(nlohmann::json::parse(view.Json(6, "[]")), "bbbbbbbb")["applied_seq"], 6);
}

TEST_F(NetworkViewTest, IsBoundedDroppingTheLeastRecentlySeen) {
  NetworkView view(2, clock_);
  view.Accept({Report("aaaaaaaa", 1)});
  now_ += absl::Seconds(1);
  view.Accept({Report("bbbbbbbb", 1)});
  now_ += absl::Seconds(1);
  view.Accept({Report("aaaaaaaa", 1)});  // seen again: now b is the oldest
  now_ += absl::Seconds(1);
  view.Accept({Report("cccccccc", 1)});
  nlohmann::json doc = nlohmann::json::parse(view.Json(1, "[]"));
  ASSERT_EQ(doc["nodes"].size(), 2u) << doc.dump();
  EXPECT_EQ(doc["nodes"][0]["id"], "cccccccc");
  EXPECT_EQ(doc["nodes"][1]["id"], "aaaaaaaa");
  EXPECT_EQ(view.Count().nodes, 2u);
}

TEST_F(NetworkViewTest, MarksRegistryMirrorsLiveByPublicUrl) {
  NetworkView view(10, clock_);
  feed::v1::NodeReport report = Report("aaaaaaaa", 1);
  report.set_public_url("HTTPS://mirror.example.org");
  view.Accept({report});
  const std::string registry =
      R"([{"uri": "https://mirror.example.org/", "frequency": "hourly"},
          {"uri": "https://gone.example.org/"}, 7])";
  nlohmann::json doc = nlohmann::json::parse(view.Json(1, registry));
  ASSERT_EQ(doc["mirrors"].size(), 2u) << doc.dump();
  EXPECT_EQ(doc["mirrors"][0]["frequency"], "hourly");
  EXPECT_EQ(doc["mirrors"][0]["live"], true);
  EXPECT_EQ(doc["mirrors"][1]["live"], false);
  EXPECT_EQ(nlohmann::json::parse(view.Json(1, "not json"))["mirrors"], nlohmann::json::array());
}

}  // namespace
}  // namespace pgxn::host
