// The origin's deferred stats (--stats-delay, origin/stats_refresher.h): the
// release events carry only the release's own files; one `stats` event
// publishes the stats files after the changes of a moment; a mirror ends with
// the origin's tree; stats pending when the origin stops go out on a clean
// stop, and on the next start after a crash.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/temp_dir.h"
#include "tests/support/cluster.h"
#include "tests/support/process.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "correct horse battery";
constexpr absl::Duration kDelay = absl::Seconds(3);

int64_t ReleasesInStats(const Node& node) {
  const nlohmann::json summary =
      nlohmann::json::parse(node.Get("/stats/summary.json").body, nullptr, false);
  return summary.is_object() ? summary.value("releases", int64_t{-1}) : -1;
}

// Waits (polling, bounded) until the origin's stats count `releases`.
bool WaitForStats(const Node& node, int64_t releases) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    if (ReleasesInStats(node) == releases) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class StatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_ = Node::Start("origin", dir_.path() + "/origin",
                          {"--unsafe-no-fsync", "--stats-delay=" + absl::FormatDuration(kDelay)});
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(AddUser(dir_.path() + "/origin", kUser, kPassword));
  }

  void Upload(const std::string& name) {
    const std::string zip = MakeDistZip(MakeMeta(name, "1.0.0", "A " + name + " type"), {});
    UploadResult result = UploadZip(origin_->url(), kUser, kPassword, zip, name + "-1.0.0.zip");
    ASSERT_EQ(result.status, 200) << name << ": " << result.body;
  }

  base::TempDir dir_;
  std::unique_ptr<Node> origin_;
};

TEST_F(StatsTest, OneStatsEventAfterABurstOfReleases) {
  auto mirror =
      Node::Start("mirror", dir_.path() + "/mirror", {"--upstream", origin_->grpc_address()});
  ASSERT_NE(mirror, nullptr);
  ASSERT_TRUE(WaitForStats(*origin_, 0));
  absl::StatusOr<std::vector<nlohmann::json>> earlier = TailEvents(*origin_, 0);
  ASSERT_TRUE(earlier.ok()) << earlier.status();
  const uint64_t before = earlier->size();

  const absl::Time start = absl::Now();
  constexpr int kReleases = 4;
  for (int i = 0; i < kReleases; ++i) Upload(absl::StrCat("burst", i));
  const bool within_delay = absl::Now() - start < kDelay;
  // Until the refresh, the stats are those of before the burst.
  if (within_delay) {
    EXPECT_EQ(ReleasesInStats(*origin_), 0);
  }
  ASSERT_TRUE(WaitForStats(*origin_, kReleases));

  absl::StatusOr<std::vector<nlohmann::json>> tailed = TailEvents(*origin_, before);
  ASSERT_TRUE(tailed.ok()) << tailed.status();
  const std::vector<nlohmann::json>& events = *tailed;
  int releases = 0, stats = 0;
  for (const nlohmann::json& event : events) {
    const std::vector<std::string> paths = event["paths"];
    const bool has_stats = std::any_of(paths.begin(), paths.end(), [](const std::string& path) {
      return path.rfind("stats/", 0) == 0;
    });
    if (event["kind"] == "release") {
      ++releases;
      EXPECT_FALSE(has_stats) << event;
    } else {
      EXPECT_EQ(event["kind"], "stats") << event;
      EXPECT_TRUE(has_stats) << event;
      EXPECT_EQ(event["user"], "pgxnd") << event;
      ++stats;
    }
  }
  EXPECT_EQ(releases, kReleases);
  EXPECT_GE(stats, 1);
  // Uploads that all came within one delay share one refresh.
  if (within_delay) {
    EXPECT_EQ(stats, 1);
  }
  EXPECT_EQ(events.back()["kind"], "stats");

  ASSERT_TRUE(mirror->WaitForSeq(before + events.size()));
  EXPECT_EQ(mirror->Tree(), origin_->Tree());
  EXPECT_EQ(mirror->Get("/stats/dist.json").body, origin_->Get("/stats/dist.json").body);
}

TEST_F(StatsTest, PendingStatsGoOutOnACleanStopAndAfterACrash) {
  ASSERT_TRUE(WaitForStats(*origin_, 0));
  Upload("clean");
  EXPECT_EQ(origin_->Stop(SIGTERM), 0);
  // Stopped: the tree on disk already has the refreshed stats.
  RunResult rebuild =
      RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", dir_.path() + "/origin"});
  EXPECT_EQ(rebuild.exit_code, 0) << rebuild.output;

  ASSERT_TRUE(origin_->Restart());
  ASSERT_TRUE(WaitForStats(*origin_, 1));
  Upload("crash");
  origin_->Stop(SIGKILL);
  RunResult stale =
      RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", dir_.path() + "/origin"});
  EXPECT_NE(stale.exit_code, 0) << "the crash left the stats of before the release";
  EXPECT_NE(stale.output.find("stats/"), std::string::npos) << stale.output;
  ASSERT_TRUE(origin_->Restart());
  ASSERT_TRUE(WaitForStats(*origin_, 2));
  EXPECT_EQ(origin_->Stop(SIGTERM), 0);
  RunResult fixed =
      RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", dir_.path() + "/origin"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
}

}  // namespace
}  // namespace pgxn::testing
