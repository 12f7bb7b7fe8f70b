// The origin's deferred aggregate files (--aggregate-delay,
// origin/catalog/aggregate_refresher.h): the release events carry only the
// release's own files and name their tags; one `stats` event publishes the
// stats, tag and user files after the changes of a moment; a mirror ends with
// the origin's tree, which is what `origin rebuild` renders; a tag filter
// finds the release event itself; files pending when the origin stops go out
// on a clean stop, and on the next start after a crash.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/temp_dir.h"
#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "correct horse battery";

int64_t ReleasesInStats(const Node& node) {
  const nlohmann::json summary =
      nlohmann::json::parse(node.Get("/stats/summary.json").body, nullptr, false);
  return summary.is_object() ? summary.value("releases", int64_t{-1}) : -1;
}

bool WaitForStats(const Node& node, int64_t releases) {
  return WaitUntil([&] { return ReleasesInStats(node) == releases; });
}

class StatsTest : public ::testing::Test {
 protected:
  void StartOrigin(absl::Duration stats_delay) {
    origin_ =
        Node::Start("origin", dir_.path() + "/origin",
                    {"--unsafe-no-fsync", "--stats-delay=" + absl::FormatDuration(stats_delay)});
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(AddUser(dir_.path() + "/origin", kUser, kPassword));
  }

  void Upload(const std::string& name, const std::vector<std::string>& tags = {}) {
    nlohmann::json meta = MakeMeta(name, "1.0.0", "A " + name + " type");
    if (!tags.empty()) meta["tags"] = tags;
    const std::string zip = MakeDistZip(meta, {});
    UploadResult result = UploadZip(origin_->url(), kUser, kPassword, zip, name + "-1.0.0.zip");
    ASSERT_EQ(result.status, 200) << name << ": " << result.body;
  }

  base::TempDir dir_;
  std::unique_ptr<Node> origin_;
};

TEST_F(StatsTest, OneStatsEventAfterABurstOfReleases) {
  constexpr absl::Duration kDelay = absl::Seconds(3);
  StartOrigin(kDelay);
  if (HasFatalFailure()) return;
  auto mirror =
      Node::Start("mirror", dir_.path() + "/mirror", {"--upstream", origin_->grpc_address()});
  ASSERT_NE(mirror, nullptr);
  ASSERT_TRUE(WaitForStats(*origin_, 0)) << ReleasesInStats(*origin_);
  absl::StatusOr<std::vector<nlohmann::json>> earlier = TailEvents(*origin_, 0);
  ASSERT_TRUE(earlier.ok()) << earlier.status();
  const uint64_t before = earlier->size();

  constexpr int kReleases = 4;
  for (int i = 0; i < kReleases; ++i)
    Upload(absl::StrCat("burst", i), {"Burst", "only" + std::to_string(i)});
  const int64_t right_after = ReleasesInStats(*origin_);
  // Taken once the answer is in: if the refresh came later than this, the
  // answer was the stats of before the burst.
  const absl::Time answered = absl::Now();
  ASSERT_TRUE(WaitForStats(*origin_, kReleases)) << ReleasesInStats(*origin_);

  absl::StatusOr<std::vector<nlohmann::json>> tailed = TailEvents(*origin_, before);
  ASSERT_TRUE(tailed.ok()) << tailed.status();
  const std::vector<nlohmann::json>& events = *tailed;
  int releases = 0, stats = 0;
  bool release_after_stats = false;
  absl::Time first_release = absl::InfiniteFuture(), first_stats = absl::InfiniteFuture();
  for (const nlohmann::json& event : events) {
    const std::vector<std::string> paths = event["paths"];
    auto has = [&paths](const char* prefix) {
      return std::any_of(paths.begin(), paths.end(),
                         [prefix](const std::string& path) { return path.rfind(prefix, 0) == 0; });
    };
    const bool has_stats = has("stats/");
    if (event["kind"] == "release") {
      ++releases;
      EXPECT_FALSE(has_stats) << event;
      // The lists that grow with the catalog come later; the event names
      // the tags whose lists it changes.
      EXPECT_FALSE(has("tag/")) << event;
      EXPECT_FALSE(has("user/")) << event;
      EXPECT_EQ(event["tags"].size(), 2u) << event;
      EXPECT_EQ(event["tags"][0], "burst") << event;
      first_release = std::min(first_release, EventTime(event));
      if (stats > 0) release_after_stats = true;
    } else {
      EXPECT_EQ(event["kind"], "stats") << event;
      EXPECT_TRUE(has_stats) << event;
      EXPECT_EQ(event["user"], "pgxnd") << event;
      ++stats;
      first_stats = std::min(first_stats, EventTime(event));
    }
  }
  EXPECT_EQ(releases, kReleases);
  EXPECT_GE(stats, 1);
  EXPECT_EQ(events.back()["kind"], "stats");
  // The refresh waits the delay after the first change (both times by the
  // origin's clock: a slow machine only makes the gap longer).
  EXPECT_GE(first_stats - first_release, kDelay);
  // Until the refresh, the stats are those of before the burst.
  if (answered < first_stats) {
    EXPECT_EQ(right_after, 0);
  }
  // One refresh covers every change made before it: with the whole burst
  // ahead of it (the burst takes far less than the delay unless the machine
  // is very slow) there is no other.
  if (!release_after_stats) {
    EXPECT_EQ(stats, 1);
  }

  ASSERT_TRUE(mirror->WaitForSeq(before + events.size()));
  EXPECT_EQ(mirror->Tree(), origin_->Tree());
  EXPECT_EQ(mirror->Get("/stats/dist.json").body, origin_->Get("/stats/dist.json").body);
  // The tag and user files the stats event wrote list the whole burst, and
  // are what the rows render.
  const nlohmann::json tag = nlohmann::json::parse(mirror->Get("/tag/burst.json").body, nullptr,
                                                   /*allow_exceptions=*/false);
  ASSERT_TRUE(tag.is_object()) << mirror->Get("/tag/burst.json").body;
  EXPECT_EQ(tag["releases"].size(), static_cast<size_t>(kReleases)) << tag;
  EXPECT_EQ(mirror->Get("/tag/only3.json").status, 200);
  EXPECT_EQ(mirror->Get(absl::StrCat("/user/", kUser, ".json")).body,
            origin_->Get(absl::StrCat("/user/", kUser, ".json")).body);
  RunResult rebuild =
      RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", dir_.path() + "/origin"});
  EXPECT_EQ(rebuild.exit_code, 0) << rebuild.output;

  // A tag filter finds the release itself, not only the later stats event.
  RunResult tagged = RunProgram({PgxndPath(), "tail", "--upstream", mirror->grpc_address(),
                                 "--since", std::to_string(before), "--tag", "ONLY2"});
  ASSERT_EQ(tagged.exit_code, 0) << tagged.output;
  EXPECT_NE(tagged.output.find("\"kind\":\"release\",\"dist\":\"burst2\""), std::string::npos)
      << tagged.output;
  EXPECT_EQ(tagged.output.find("\"dist\":\"burst1\""), std::string::npos) << tagged.output;
}

TEST_F(StatsTest, PendingStatsGoOutOnACleanStopAndAfterACrash) {
  // A delay longer than the test: only stops and starts publish the stats, so
  // the crash below surely comes before the refresh, however slow the machine.
  StartOrigin(absl::Hours(1));
  if (HasFatalFailure()) return;
  ASSERT_TRUE(WaitForStats(*origin_, 0));
  Upload("clean");
  EXPECT_EQ(origin_->Stop(SIGTERM), 0);
  // Stopped: the tree on disk already has the refreshed stats.
  RunResult rebuild =
      RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", dir_.path() + "/origin"});
  EXPECT_EQ(rebuild.exit_code, 0) << rebuild.output;

  ASSERT_TRUE(origin_->Restart());
  ASSERT_TRUE(WaitForStats(*origin_, 1));
  Upload("crash", {"crashtag"});
  EXPECT_EQ(origin_->Get("/tag/crashtag.json").status, 404);  // not before its stats event
  origin_->Stop(SIGKILL);
  RunResult stale =
      RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", dir_.path() + "/origin"});
  EXPECT_NE(stale.exit_code, 0) << "the crash left the stats of before the release";
  EXPECT_NE(stale.output.find("stats/"), std::string::npos) << stale.output;
  // The tag and user files the crash kept from going out are pending, not lost.
  EXPECT_EQ(stale.output.find("tag/crashtag.json"), std::string::npos) << stale.output;
  EXPECT_NE(stale.output.find("2 tag or user files pending publication"), std::string::npos)
      << stale.output;
  ASSERT_TRUE(origin_->Restart());
  ASSERT_TRUE(WaitForStats(*origin_, 2));
  EXPECT_EQ(origin_->Get("/tag/crashtag.json").status, 200);
  EXPECT_EQ(origin_->Stop(SIGTERM), 0);
  RunResult fixed =
      RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", dir_.path() + "/origin"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
}

}  // namespace
}  // namespace pgxn::testing
