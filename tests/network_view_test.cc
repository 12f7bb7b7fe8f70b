// The network view (issue 16) through real processes: an origin, a mirror
// reporting every second, a mirror of that mirror (whose reports the first
// relays) and a mirror that opts out with --no-report. The origin's
// /meta/network.json lists the reporting ones and the registry's mirrors with
// whether they are live; a mirror paused with SIGSTOP shows lagging and not
// live while the origin publishes, and live again after SIGCONT. A second
// origin keeps at most one node (--network-max-nodes 1).
#include <signal.h>

#include <algorithm>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

using Json = nlohmann::json;

constexpr char kPassword[] = "correct horse battery";
const std::vector<std::string> kForm = {"Content-Type: application/x-www-form-urlencoded"};

std::string NodeId(const Node& node) {
  return std::string(absl::StripAsciiWhitespace(ReadWholeFile(node.dir() + "/node_id")));
}

Json Network(const Node& origin) {
  HttpResult result = origin.Get("/meta/network.json");
  if (result.status != 200) return nullptr;
  return Json::parse(result.body, nullptr, false);
}

// The entry of node `id` in `doc`, or null.
Json Entry(const Json& doc, const std::string& id) {
  if (!doc.is_object() || !doc["nodes"].is_array()) return nullptr;
  for (const Json& node : doc["nodes"]) {
    if (node["id"] == id) return node;
  }
  return nullptr;
}

class NetworkViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string data = dir_.path() + "/origin";
    // Every node of the test reports from 127.0.0.1, one address.
    origin_ = Node::Start("origin", data,
                          {"--unsafe-no-fsync", "--feed-max-reports-per-peer", "10000"});
    ASSERT_NE(origin_, nullptr);
    RunResult admin =
        RunProgram({PgxndPath(), "user", "add", "--data-dir", data, "root", "--email",
                    "root@example.com", "--name", "Root", "--admin", "--password-stdin"},
                   std::string(kPassword) + "\n");
    ASSERT_EQ(admin.exit_code, 0) << admin.output;
    // The registry: one mirror that will report under its public URL, one
    // that never does.
    for (const char* uri : {"https%3A%2F%2Fm.example.org%2F", "https%3A%2F%2Fgone.example.org%2F"}) {
      HttpResult added = HttpRequest(
          "POST", origin_->url() + "/admin/mirrors",
          absl::StrCat("uri=", uri,
                       "&email=pgxn%40example.org&frequency=hourly&organization=Example"
                       "&location=Basel&timezone=Europe%2FZurich&bandwidth=1Gbps"
                       "&src=rsync%3A%2F%2Fmaster.pgxn.org%2Fpgxn%2F"),
          {"Content-Type: application/x-www-form-urlencoded", BasicAuthHeader("root", kPassword)});
      ASSERT_EQ(added.status, 201) << added.body;
    }
    mirror_ = Node::Start("mirror", dir_.path() + "/mirror",
                          {"--upstream", origin_->grpc_address(), "--report-interval", "1s",
                           "--public-url", "https://M.example.org",
                           "--feed-max-reports-per-peer", "10000"});
    ASSERT_NE(mirror_, nullptr);
    child_ = Node::Start("mirror", dir_.path() + "/child",
                         {"--upstream", mirror_->grpc_address(), "--report-interval", "1s"});
    ASSERT_NE(child_, nullptr);
    silent_ = Node::Start("mirror", dir_.path() + "/silent",
                          {"--upstream", origin_->grpc_address(), "--report-interval", "1s",
                           "--no-report"});
    ASSERT_NE(silent_, nullptr);
  }

  void TearDown() override {
    // A paused node would not stop.
    if (mirror_ != nullptr) kill(mirror_->pid(), SIGCONT);
  }

  // Waits until node `id` is listed and `holds` of its entry; false (with
  // the last document) otherwise.
  bool WaitForEntry(const std::string& id, const std::function<bool(const Json&)>& holds) {
    return WaitUntil(
        [&] {
          last_ = Network(*origin_);
          const Json entry = Entry(last_, id);
          return !entry.is_null() && holds(entry);
        },
        kWaitTimeout, absl::Milliseconds(100));
  }

  base::TempDir dir_;
  std::unique_ptr<Node> origin_;
  std::unique_ptr<Node> mirror_;
  std::unique_ptr<Node> child_;
  std::unique_ptr<Node> silent_;
  Json last_;
};

TEST_F(NetworkViewTest, ListsMirrorsAndTheirChildrenAndFollowsAPausedOne) {
  const std::string mirror_id = NodeId(*mirror_);
  const std::string child_id = NodeId(*child_);
  const std::string silent_id = NodeId(*silent_);
  ASSERT_NE(mirror_id, child_id);

  const uint64_t head = origin_->AppliedSeq();
  ASSERT_TRUE(WaitForEntry(mirror_id, [&](const Json& e) {
    return e["live"] == true && e["applied_seq"] == head && e["lag_events"] == 0;
  })) << last_.dump(2);
  Json entry = Entry(last_, mirror_id);
  EXPECT_EQ(entry["role"], "mirror");
  EXPECT_EQ(entry["upstream"], origin_->grpc_address());
  EXPECT_EQ(entry["via"], Json::array());
  EXPECT_EQ(entry["public_url"], "https://M.example.org");
  EXPECT_FALSE(entry["version"].get<std::string>().empty());
  EXPECT_EQ(entry["report_interval_seconds"], 1);

  // The child reports through the mirror.
  ASSERT_TRUE(WaitForEntry(child_id, [&](const Json& e) {
    return e["live"] == true && e["applied_seq"] == head;
  })) << last_.dump(2);
  entry = Entry(last_, child_id);
  EXPECT_EQ(entry["upstream"], mirror_->grpc_address());
  EXPECT_EQ(entry["via"], Json::array({mirror_id}));

  // The registry's mirrors: the one whose URL a live node states is live.
  ASSERT_TRUE(last_["mirrors"].is_array() && last_["mirrors"].size() == 2) << last_.dump(2);
  for (const Json& registered : last_["mirrors"]) {
    EXPECT_EQ(registered["live"], registered["uri"] == "https://m.example.org/") << registered;
  }
  const std::string metrics = origin_->Get("/metrics").body;
  EXPECT_TRUE(absl::StrContains(metrics, "pgxn_network_nodes{")) << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "pgxn_network_live_nodes{")) << metrics;

  // Paused, the mirror stops reporting while the origin publishes.
  ASSERT_EQ(kill(mirror_->pid(), SIGSTOP), 0);
  ASSERT_TRUE(AddUser(origin_->dir(), "alice", kPassword));
  UploadResult uploaded =
      UploadZip(origin_->url(), "alice", kPassword,
                MakeDistZip(MakeMeta("pair", "0.1.0", "A key/value pair"), {}), "pair.zip");
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  const uint64_t published = origin_->AppliedSeq();
  ASSERT_GT(published, head);
  ASSERT_TRUE(WaitForEntry(mirror_id, [&](const Json& e) {
    return e["live"] == false && e["lag_events"].get<uint64_t>() >= 1;
  })) << last_.dump(2);
  EXPECT_EQ(Entry(last_, mirror_id)["applied_seq"], head);
  for (const Json& registered : last_["mirrors"]) EXPECT_EQ(registered["live"], false) << registered;

  // Resumed, it catches up and reports again; so does its child.
  ASSERT_EQ(kill(mirror_->pid(), SIGCONT), 0);
  ASSERT_TRUE(WaitForEntry(mirror_id, [&](const Json& e) {
    return e["live"] == true && e["lag_events"] == 0;
  })) << last_.dump(2);
  ASSERT_TRUE(WaitForEntry(child_id, [&](const Json& e) {
    return e["live"] == true && e["lag_events"] == 0;
  })) << last_.dump(2);

  // All along, the node that opted out was never listed, though it follows
  // the same origin and its reports would have come straight to it.
  ASSERT_TRUE(silent_->WaitForSeq(published));
  EXPECT_TRUE(Entry(Network(*origin_), silent_id).is_null()) << last_.dump(2);
}

TEST(NetworkViewBoundTest, KeepsAtMostTheConfiguredNumberOfNodes) {
  base::TempDir dir;
  std::unique_ptr<Node> origin = Node::Start(
      "origin", dir.path() + "/origin",
      {"--unsafe-no-fsync", "--network-max-nodes", "1", "--feed-max-reports-per-peer", "10000"});
  ASSERT_NE(origin, nullptr);
  std::vector<std::unique_ptr<Node>> mirrors;
  std::set<std::string> ids;
  for (const char* name : {"a", "b"}) {
    mirrors.push_back(Node::Start("mirror", dir.path() + "/" + name,
                                  {"--upstream", origin->grpc_address(), "--report-interval", "1s"}));
    ASSERT_NE(mirrors.back(), nullptr);
    ids.insert(NodeId(*mirrors.back()));
  }
  // Both report every second: each is listed in turn, never both at once.
  std::set<std::string> seen;
  size_t most = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const Json doc = Network(*origin);
        if (!doc.is_object()) return false;
        most = std::max(most, doc["nodes"].size());
        for (const Json& node : doc["nodes"]) seen.insert(node["id"].get<std::string>());
        return seen == ids;
      },
      kWaitTimeout, absl::Milliseconds(50)));
  EXPECT_EQ(most, 1u);
}

}  // namespace
}  // namespace pgxn::testing
