#include "origin/catalog/aggregate_draft.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "origin/catalog/catalog.h"
#include "origin/testing/test_postgres.h"
#include "origin/testing/test_releases.h"

namespace pgxn::origin {
namespace {

// Publishing as the origin does it: releases defer their tag and user files.
Publishing Deferring() {
  Publishing publishing = TestPublishing();
  publishing.on_stats_changed = [] {};
  return publishing;
}

absl::Status Release(PgConnection& conn, const std::string& dist, const Publishing& publishing) {
  return PublishTestRelease(conn, "bob", TestMeta(dist, "1.0.0", {dist}, {"shared"}), publishing)
      .status();
}

// The aggregate event for `draft`, as the AggregateRefresher publishes it.
absl::StatusOr<AggregateBatch> PublishDraft(PgConnection& conn, AggregateDraft draft) {
  AggregateBatch published;
  EventHeader header{feed::EventKind::kStats, "pgxnd", "", ""};
  absl::Status status =
      Publish(
          conn, header,
          [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
            absl::StatusOr<AggregateBatch> batch = FinishAggregates(conn, std::move(draft));
            if (!batch.ok()) return batch.status();
            published = *batch;
            return std::move(batch->files);
          },
          TestPublishing())
          .status();
  if (!status.ok()) return status;
  return published;
}

std::string TreeFile(PgConnection& conn, const std::string& path) {
  auto rows = conn.Exec(
      "SELECT b.content FROM tree_files t JOIN blobs b ON b.sha256 = t.sha256 WHERE t.path = $1",
      PgParams().Text(path));
  return rows.ok() && rows->rows() == 1 ? rows->GetString(0, 0) : "";
}

std::vector<std::string> Pending(PgConnection& conn) {
  absl::StatusOr<std::vector<std::string>> paths = QueryPendingAggregates(conn);
  return paths.ok() ? *paths : std::vector<std::string>{"(error)"};
}

class AggregateDraftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pg_.ok()) << pg_.error();
    conn_ = pg_.Connect();
    ASSERT_NE(conn_, nullptr);
    ASSERT_TRUE(AddTestUser(*conn_, "bob").ok());
  }
  TestPostgres pg_;
  std::unique_ptr<PgConnection> conn_;
};

TEST_F(AggregateDraftTest, AChangeAfterTheSnapshotStaysPendingForTheNextEvent) {
  ASSERT_TRUE(Release(*conn_, "alpha", Deferring()).ok());
  EXPECT_EQ(Pending(*conn_), (std::vector<std::string>{"tag/shared.json", "user/bob.json"}));
  absl::StatusOr<AggregateDraft> draft = DraftAggregates(*conn_);
  ASSERT_TRUE(draft.ok()) << draft.status();
  // Released between the draft's snapshot and its event: the draft cannot
  // list it, so its rows must survive the event.
  ASSERT_TRUE(Release(*conn_, "beta", Deferring()).ok());
  ASSERT_TRUE(PublishDraft(*conn_, *std::move(draft)).ok());
  const std::string first = TreeFile(*conn_, "tag/shared.json");
  EXPECT_TRUE(absl::StrContains(first, "\"alpha\"")) << first;
  EXPECT_FALSE(absl::StrContains(first, "\"beta\"")) << first;
  EXPECT_EQ(Pending(*conn_), (std::vector<std::string>{"tag/shared.json", "user/bob.json"}));

  absl::StatusOr<AggregateDraft> next = DraftAggregates(*conn_);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(PublishDraft(*conn_, *std::move(next)).ok());
  const std::string second = TreeFile(*conn_, "tag/shared.json");
  EXPECT_TRUE(absl::StrContains(second, "\"alpha\"")) << second;
  EXPECT_TRUE(absl::StrContains(second, "\"beta\"")) << second;
  EXPECT_TRUE(absl::StrContains(TreeFile(*conn_, "user/bob.json"), "\"beta\""));
  EXPECT_TRUE(Pending(*conn_).empty());
  // The stats followed too.
  EXPECT_TRUE(absl::StrContains(TreeFile(*conn_, "stats/dist.json"), "\"beta\""));
}

TEST_F(AggregateDraftTest, AFileAnotherEventWroteSinceTheSnapshotIsRenderedAgain) {
  ASSERT_TRUE(Release(*conn_, "alpha", Deferring()).ok());
  absl::StatusOr<AggregateDraft> draft = DraftAggregates(*conn_);
  ASSERT_TRUE(draft.ok()) << draft.status();
  // An event that writes the tag file itself (a publishing that does not
  // defer, as `origin rebuild --fix` or a tool would) after the snapshot:
  // the draft's older version must not replace it.
  ASSERT_TRUE(Release(*conn_, "beta", TestPublishing()).ok());
  ASSERT_TRUE(absl::StrContains(TreeFile(*conn_, "tag/shared.json"), "\"beta\""));
  absl::StatusOr<AggregateBatch> batch = PublishDraft(*conn_, *std::move(draft));
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_FALSE(batch->more);
  const std::string tag = TreeFile(*conn_, "tag/shared.json");
  EXPECT_TRUE(absl::StrContains(tag, "\"alpha\"")) << tag;
  EXPECT_TRUE(absl::StrContains(tag, "\"beta\"")) << tag;
  EXPECT_TRUE(absl::StrContains(TreeFile(*conn_, "stats/dist.json"), "\"beta\""));
  EXPECT_TRUE(Pending(*conn_).empty());
}

TEST_F(AggregateDraftTest, ARowDeletedAndDeferredAgainSinceTheSnapshotStaysPending) {
  ASSERT_TRUE(Release(*conn_, "alpha", Deferring()).ok());
  absl::StatusOr<AggregateDraft> draft = DraftAggregates(*conn_);
  ASSERT_TRUE(draft.ok()) << draft.status();
  // Another hand publishes and clears the pending rows (as `origin rebuild
  // --fix` does), then a release defers the same files again: their rows
  // are new, and must not pass for the ones the snapshot saw.
  ASSERT_TRUE(conn_->Exec("DELETE FROM aggregate_pending").ok());
  ASSERT_TRUE(Release(*conn_, "beta", Deferring()).ok());
  ASSERT_TRUE(PublishDraft(*conn_, *std::move(draft)).ok());
  EXPECT_EQ(Pending(*conn_), (std::vector<std::string>{"tag/shared.json", "user/bob.json"}));
  absl::StatusOr<AggregateDraft> next = DraftAggregates(*conn_);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(PublishDraft(*conn_, *std::move(next)).ok());
  EXPECT_TRUE(absl::StrContains(TreeFile(*conn_, "tag/shared.json"), "\"beta\""));
  EXPECT_TRUE(Pending(*conn_).empty());
}

TEST_F(AggregateDraftTest, ABatchLeavesTheRestForTheNextEvent) {
  for (const char* dist : {"alpha", "beta", "gamma"}) {
    ASSERT_TRUE(
        PublishTestRelease(*conn_, "bob", TestMeta(dist, "1.0.0", {dist}, {dist}), Deferring())
            .ok());
  }
  ASSERT_EQ(Pending(*conn_).size(), 4u);  // three tags and the user
  absl::StatusOr<AggregateDraft> draft = DraftAggregates(*conn_, 3);
  ASSERT_TRUE(draft.ok()) << draft.status();
  EXPECT_TRUE(draft->more);
  absl::StatusOr<AggregateBatch> batch = PublishDraft(*conn_, *std::move(draft));
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(batch->more);
  EXPECT_EQ(Pending(*conn_), (std::vector<std::string>{"user/bob.json"}));
}

}  // namespace
}  // namespace pgxn::origin
