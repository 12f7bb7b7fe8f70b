#include "origin/rebuild.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "origin/accounts/mirror_registry.h"
#include "origin/catalog/bootstrap.h"
#include "origin/intake/release_removal.h"
#include "origin/testing/test_postgres.h"
#include "origin/testing/test_releases.h"

namespace pgxn::origin {
namespace {

std::vector<std::string> Lines(const std::vector<TreeDifference>& differences) {
  std::vector<std::string> lines;
  for (const TreeDifference& difference : differences)
    lines.push_back(FormatDifference(difference));
  return lines;
}

// One cluster with a few releases, a removal and a mirror; each test damages
// the tree and leaves it repaired.
class RebuildTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new TestPostgres();
    if (!pg_->ok()) return;
    auto conn = pg_->Connect();
    // As the origin does when it starts.
    ASSERT_TRUE(PublishMetaFiles(*conn, TestPublishing()).ok());
    ASSERT_TRUE(AddTestUser(*conn, "bob").ok());
    ASSERT_TRUE(AddTestUser(*conn, "carol").ok());
    ASSERT_TRUE(AddTestUser(*conn, "root", /*admin=*/true).ok());
    ASSERT_TRUE(
        conn->Exec("INSERT INTO users (nickname, email) VALUES ('newbie', 'n@example.com')").ok());
    for (const auto& [user, meta, readme] :
         std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
             {"bob", TestMeta("pair", "1.0.0", {"pair"}, {"key value"}), "pair README"},
             {"bob",
              TestMeta("Pair", "1.1.0", {"pair", "pair_util"}, {"Key Value", "util"}, "testing"),
              ""},
             {"bob", TestMeta("pair", "1.2.0", {"pair"}, {"gone"}), "bye"},
             {"carol", TestMeta("semver", "0.2.0", {"semver"}, {"key value"}, "unstable"),
              "semver README"},
         }) {
      std::vector<std::pair<std::string, std::string>> files;
      if (!readme.empty()) files.emplace_back("README.md", readme);
      auto event = PublishTestRelease(*conn, user, meta, files);
      ASSERT_TRUE(event.ok()) << event.status();
    }
    ASSERT_TRUE(RemoveRelease(*conn, "root", "pair", "1.2.0", TestPublishing()).ok());
    MirrorFields mirror{{"uri", "https://pgxn.example.org/"},
                        {"email", "m@example.org"},
                        {"frequency", "daily"},
                        {"organization", "Org"},
                        {"location", "Here"},
                        {"timezone", "UTC"},
                        {"bandwidth", "1Gbps"},
                        {"src", "rsync://x/pgxn"}};
    ASSERT_TRUE(AddMirror(*conn, "root", mirror, TestPublishing()).ok());
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    conn_ = pg_->Connect();
    ASSERT_NE(conn_, nullptr);
  }
  void TearDown() override {
    absl::StatusOr<TreeCheck> check = CheckTree(*conn_);
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_TRUE(check->differences.empty()) << "left damaged: " << Lines(check->differences)[0];
  }

  std::vector<std::string> Check() {
    absl::StatusOr<TreeCheck> check = CheckTree(*conn_);
    EXPECT_TRUE(check.ok()) << check.status();
    return check.ok() ? Lines(check->differences) : std::vector<std::string>{"error"};
  }

  void Exec(const std::string& sql) {
    auto result = conn_->Exec(sql);
    ASSERT_TRUE(result.ok()) << sql << ": " << result.status();
  }

  static TestPostgres* pg_;
  std::unique_ptr<PgConnection> conn_;
};

TestPostgres* RebuildTest::pg_ = nullptr;

TEST_F(RebuildTest, APublishedTreeMatchesItsRows) {
  absl::StatusOr<TreeCheck> check = CheckTree(*conn_);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_TRUE(check->differences.empty()) << Lines(check->differences)[0];
  auto files = conn_->Exec("SELECT count(*) FROM tree_files");
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(check->files_expected, static_cast<size_t>(files->GetInt(0, 0)));
  // index.json, spec, origin.pub, mirrors, 5 stats; 3 releases of 2-3 files;
  // 2 dists, 3 extensions, 2 tags (key value, util), 3 users with files.
  EXPECT_EQ(check->files_expected, 9u + 8u + 2u + 3u + 2u + 3u);

  std::vector<TreeDifference> remaining;
  absl::StatusOr<v1::Event> event = FixTree(*conn_, "test", &remaining, TestPublishing());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->seq(), 0u) << "nothing to fix, nothing published";
  EXPECT_TRUE(remaining.empty());
}

TEST_F(RebuildTest, EveryDamageIsReportedAndFixed) {
  const struct {
    std::string name;
    std::vector<std::string> damage;
    std::vector<std::string> lines;
  } cases[] = {
      {"rewritten file",
       {"UPDATE tree_files SET sha256 = (SELECT sha256 FROM tree_files WHERE path = 'index.json')"
        " WHERE path = 'dist/pair.json'"},
       {"different dist/pair.json: stored content differs from the rows"}},
      {"lost files",
       {"DELETE FROM tree_files WHERE path IN ('tag/util.json', 'dist/semver/0.2.0/README.txt')"},
       {"missing dist/semver/0.2.0/README.txt", "missing tag/util.json"}},
      {"extra files",
       {"INSERT INTO tree_files (path, sha256, size, media_type, seq, updated_at)"
        " SELECT p, sha256, size, media_type, seq, updated_at FROM tree_files,"
        " unnest(ARRAY['dist/ghost.json', 'user/newbie.json', 'dist/pair/1.2.0/META.json']) p"
        " WHERE path = 'index.json'"},
       {"extra dist/ghost.json", "extra dist/pair/1.2.0/META.json", "extra user/newbie.json"}},
      {"damaged content",
       {"UPDATE blobs SET content = 'garbage' WHERE sha256 ="
        " (SELECT sha256 FROM tree_files WHERE path = 'user/carol.json')"},
       {"different user/carol.json: stored content does not match its sha256"}},
      {"wrong media type",
       {"UPDATE tree_files SET media_type = 'text/html' WHERE path = 'stats/tag.json'"},
       {"different stats/tag.json: stored as \"text/html\", expected \"application/json\""}},
      {"edited rows",
       {"UPDATE distributions SET meta = meta || ' ' WHERE name = 'semver'",
        "UPDATE mirrors SET location = 'There'",
        "UPDATE users SET full_name = 'Bobby' WHERE"
        " nickname = 'bob'"},
       {"different dist/semver/0.2.0/META.json: stored content differs from the rows",
        "different meta/mirrors.json: stored content differs from the rows",
        "different stats/dist.json: stored content differs from the rows",
        "different stats/extension.json: stored content differs from the rows",
        "different stats/user.json: stored content differs from the rows",
        "different user/bob.json: stored content differs from the rows"}},
  };
  for (const auto& c : cases) {
    for (const std::string& sql : c.damage) Exec(sql);
    EXPECT_EQ(Check(), c.lines) << c.name;
    std::vector<TreeDifference> remaining;
    absl::StatusOr<v1::Event> event = FixTree(*conn_, "test", &remaining, TestPublishing());
    ASSERT_TRUE(event.ok()) << c.name << ": " << event.status();
    EXPECT_TRUE(remaining.empty()) << c.name << ": " << Lines(remaining)[0];
    if (event->seq() > 0) {
      EXPECT_EQ(event->kind(), "meta") << c.name;
    }
    EXPECT_TRUE(Check().empty()) << c.name;
  }
}

TEST_F(RebuildTest, DamagedArchivesAreReportedButCannotBeFixed) {
  const std::string zip = "dist/pair/1.0.0/pair-1.0.0.zip";
  auto saved = conn_->Exec(
      "SELECT t.sha256, b.content FROM tree_files t JOIN blobs b ON b.sha256 = t.sha256"
      " WHERE t.path = $1",
      PgParams().Text(zip));
  ASSERT_TRUE(saved.ok() && saved->rows() == 1);
  const std::string sha256 = saved->GetString(0, 0), content = saved->GetString(0, 1);

  // Damaged: the README cannot be read from it either, so it is left alone.
  ASSERT_TRUE(conn_
                  ->Exec("UPDATE blobs SET content = 'not a zip' WHERE sha256 = $1",
                         PgParams().Bytes(sha256))
                  .ok());
  EXPECT_EQ(Check(), std::vector<std::string>{"different " + zip +
                                              ": stored content does not match its sha256"});
  std::vector<TreeDifference> remaining;
  ASSERT_TRUE(FixTree(*conn_, "test", &remaining, TestPublishing()).ok());
  EXPECT_EQ(
      Lines(remaining),
      std::vector<std::string>{"different " + zip + ": stored content does not match its sha256"});
  ASSERT_TRUE(conn_
                  ->Exec("UPDATE blobs SET content = $2 WHERE sha256 = $1",
                         PgParams().Bytes(sha256).Bytes(content))
                  .ok());

  // Not the release's archive.
  Exec(
      "UPDATE tree_files SET sha256 = (SELECT sha256 FROM tree_files WHERE path ="
      " 'dist/semver/0.2.0/semver-0.2.0.zip') WHERE path = 'dist/pair/1.0.0/pair-1.0.0.zip'");
  std::vector<std::string> lines = Check();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("different " + zip + ": stored archive has sha256 ", 0), 0u) << lines[0];
  ASSERT_TRUE(conn_
                  ->Exec("UPDATE tree_files SET sha256 = $1 WHERE path = $2",
                         PgParams().Bytes(sha256).Text(zip))
                  .ok());

  // Missing.
  Exec(
      "UPDATE tree_files SET path = 'elsewhere.zip' WHERE path = 'dist/pair/1.0.0/pair-1.0.0.zip'");
  EXPECT_EQ(Check(), (std::vector<std::string>{"missing " + zip, "extra elsewhere.zip"}));
  Exec(
      "UPDATE tree_files SET path = 'dist/pair/1.0.0/pair-1.0.0.zip' WHERE path = 'elsewhere.zip'");
}

}  // namespace
}  // namespace pgxn::origin
