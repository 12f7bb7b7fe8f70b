#include "origin/intake/release_removal.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "base/digest.h"
#include "gtest/gtest.h"
#include "origin/testing/test_postgres.h"
#include "origin/testing/test_releases.h"

namespace pgxn::origin {
namespace {

using Tree = std::map<std::string, std::string>;  // path → sha256 hex

class ReleaseRemovalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new TestPostgres();
    if (!pg_->ok()) return;
    auto conn = pg_->Connect();
    for (const char* nick : {"bob", "carol"}) ASSERT_TRUE(AddTestUser(*conn, nick).ok());
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

  Tree Snapshot() {
    Tree tree;
    auto rows = conn_->Exec("SELECT path, sha256 FROM tree_files");
    EXPECT_TRUE(rows.ok()) << rows.status();
    for (int i = 0; rows.ok() && i < rows->rows(); ++i) {
      tree[rows->GetString(i, 0)] = base::HexEncode(rows->Get(i, 1));
    }
    return tree;
  }

  int64_t Count(const std::string& sql) {
    auto rows = conn_->Exec(sql);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? rows->GetInt(0, 0) : -1;
  }

  uint64_t Head() {
    auto rows = conn_->Exec("SELECT seq FROM feed_head");
    return rows.ok() ? static_cast<uint64_t>(rows->GetInt(0, 0)) : 0;
  }

  static TestPostgres* pg_;
  std::unique_ptr<PgConnection> conn_;
};

TestPostgres* ReleaseRemovalTest::pg_ = nullptr;

TEST_F(ReleaseRemovalTest, TheTreeIsAsIfTheReleaseWasNeverPublished) {
  ASSERT_TRUE(PublishTestRelease(*conn_, "bob", TestMeta("pair", "1.0.0", {"pair"}, {"Key Value"}),
                                 {{"README.md", "pair, the first"}})
                  .ok());
  const Tree before = Snapshot();
  ASSERT_TRUE(PublishTestRelease(*conn_, "bob",
                                 TestMeta("Pair", "1.1.0", {"pair", "pair_extra"},
                                          {"key value", "only here"}, "testing"),
                                 {{"README", "pair, the second"}})
                  .ok());
  ASSERT_NE(Snapshot(), before);

  absl::StatusOr<v1::Event> event =
      RemoveRelease(*conn_, "root", "PAIR", "1.1.0", TestPublishing());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->kind(), "delete");
  EXPECT_EQ(event->actor(), "root");
  EXPECT_EQ(event->subject().dist(), "Pair");
  EXPECT_EQ(event->subject().version(), "1.1.0");
  std::map<std::string, v1::Op::Type> ops;
  for (const v1::Op& op : event->ops()) ops[op.path()] = op.type();
  for (const char* removed :
       {"dist/pair/1.1.0/pair-1.1.0.zip", "dist/pair/1.1.0/META.json", "dist/pair/1.1.0/README.txt",
        "extension/pair_extra.json", "tag/only here.json"}) {
    EXPECT_EQ(ops[removed], v1::Op::DELETE) << removed;
  }
  for (const char* rewritten : {"dist/pair.json", "extension/pair.json", "tag/key value.json",
                                "user/bob.json", "stats/summary.json"}) {
    EXPECT_EQ(ops[rewritten], v1::Op::PUT) << rewritten;
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Count("SELECT count(*) FROM distributions WHERE name = 'Pair'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM distribution_tags WHERE dist_name = 'Pair'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM distribution_extensions WHERE dist_name = 'Pair'"), 0);
}

TEST_F(ReleaseRemovalTest, RemovingTheOnlyReleaseKeepsTheExtensionsOwned) {
  ASSERT_TRUE(
      PublishTestRelease(*conn_, "bob", TestMeta("lonely", "0.1.0", {"lonely"}, {"alone"})).ok());
  const std::string tree_before_user = Snapshot()["user/bob.json"];
  absl::StatusOr<v1::Event> event =
      RemoveRelease(*conn_, "root", "lonely", "0.1.0", TestPublishing());
  ASSERT_TRUE(event.ok()) << event.status();
  const Tree after = Snapshot();
  for (const char* gone : {"dist/lonely.json", "extension/lonely.json", "tag/alone.json",
                           "dist/lonely/0.1.0/META.json", "dist/lonely/0.1.0/lonely-0.1.0.zip"}) {
    EXPECT_EQ(after.count(gone), 0u) << gone;
  }
  // bob is active: his file stays, without the release.
  ASSERT_EQ(after.count("user/bob.json"), 1u);
  EXPECT_NE(after.at("user/bob.json"), tree_before_user);

  auto owner = conn_->Exec("SELECT owner FROM extensions WHERE name = 'lonely'");
  ASSERT_TRUE(owner.ok()) << owner.status();
  ASSERT_EQ(owner->rows(), 1);
  EXPECT_EQ(owner->GetString(0, 0), "bob");
  EXPECT_EQ(PublishTestRelease(*conn_, "carol", TestMeta("other", "1.0.0", {"lonely"}))
                .status()
                .message(),
            "User \"carol\" does not own all provided extensions");
  // The same version can be released again.
  EXPECT_TRUE(PublishTestRelease(*conn_, "bob", TestMeta("lonely", "0.1.0", {"lonely"})).ok());
}

TEST_F(ReleaseRemovalTest, AnInactiveUploaderLosesTheirFileWithTheirLastRelease) {
  ASSERT_TRUE(AddTestUser(*conn_, "leaver").ok());
  ASSERT_TRUE(
      PublishTestRelease(*conn_, "leaver", TestMeta("leftover", "1.0.0", {"leftover"})).ok());
  ASSERT_TRUE(conn_->Exec("UPDATE users SET status = 'inactive' WHERE nickname = 'leaver'").ok());
  ASSERT_TRUE(RemoveRelease(*conn_, "root", "leftover", "1.0.0", TestPublishing()).ok());
  EXPECT_EQ(Snapshot().count("user/leaver.json"), 0u);
}

TEST_F(ReleaseRemovalTest, UnknownReleasesAreNotFoundAndChangeNothing) {
  ASSERT_TRUE(PublishTestRelease(*conn_, "bob", TestMeta("known", "1.0.0", {"known"})).ok());
  const Tree before = Snapshot();
  const uint64_t head = Head();
  const struct {
    std::string dist, version, message;
  } cases[] = {
      {"nosuch", "1.0.0", "Distribution \"nosuch 1.0.0\" does not exist"},
      {"known", "2.0.0", "Distribution \"known 2.0.0\" does not exist"},
      {"known", "", "Distribution \"known \" does not exist"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<v1::Event> event =
        RemoveRelease(*conn_, "root", c.dist, c.version, TestPublishing());
    EXPECT_TRUE(absl::IsNotFound(event.status())) << c.dist << " " << c.version;
    EXPECT_EQ(event.status().message(), c.message);
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Head(), head);
  ASSERT_TRUE(RemoveRelease(*conn_, "root", "known", "1.0.0", TestPublishing()).ok());
  absl::StatusOr<v1::Event> again =
      RemoveRelease(*conn_, "root", "known", "1.0.0", TestPublishing());
  EXPECT_EQ(again.status().message(), "Distribution \"known 1.0.0\" does not exist");
}

}  // namespace
}  // namespace pgxn::origin
