#include "origin/publishing/publisher.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/digest.h"
#include "gtest/gtest.h"
#include "origin/pg/migrations.h"
#include "origin/publishing/pg_event_log.h"
#include "origin/testing/test_postgres.h"

namespace pgxn::origin {
namespace {

// One Postgres cluster for the whole suite: initdb is the slow part.
class PublisherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pg_ = new TestPostgres(); }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    conn_ = pg_->Connect();
    ASSERT_NE(conn_, nullptr);
  }
  absl::StatusOr<v1::Event> PublishFile(PgConnection& conn, const std::string& path,
                                        const std::string& content) {
    return Publish(
        conn, EventHeader{feed::EventKind::kMeta, "test", "", ""},
        [&](absl::Time) {
          return absl::StatusOr<std::vector<FileChange>>(
              std::vector<FileChange>{{path, content, ""}});
        },
        TestPublishing());
  }
  // Every event in the log, checked link by link as a node would.
  std::vector<v1::Event> VerifiedLog() {
    PgPool pool(pg_->dsn(), 2);
    auto log = PgEventLog::Start(&pool, TestPublishing().key);
    EXPECT_TRUE(log.ok()) << log.status();
    auto events = (*log)->ReadAfter(0, 100000, SIZE_MAX, /*include_content=*/true);
    EXPECT_TRUE(events.ok()) << events.status();
    feed::ChainTip tip;
    for (const v1::Event& event : *events) {
      absl::Status s = feed::VerifyEvent(event, tip, true, TestPublishing().key->public_key);
      EXPECT_TRUE(s.ok()) << s;
      tip = feed::TipAfter(event);
    }
    return *events;
  }

  static TestPostgres* pg_;
  std::unique_ptr<PgConnection> conn_;
};

TestPostgres* PublisherTest::pg_ = nullptr;

TEST_F(PublisherTest, ConcurrentPublishersGetGaplessSeqsInCommitOrder) {
  const uint64_t before = ReadFeedHead(*conn_)->seq;
  constexpr int kPerThread = 40;
  absl::Mutex mu;
  std::vector<uint64_t> committed;  // seqs in the order Publish returned
  auto publisher = [&](int id) {
    auto conn = pg_->Connect();
    ASSERT_NE(conn, nullptr);
    for (int i = 0; i < kPerThread; ++i) {
      auto event = PublishFile(*conn, absl::StrCat("race/", id, ".json"), absl::StrCat(i));
      ASSERT_TRUE(event.ok()) << event.status();
      absl::MutexLock lock(&mu);
      committed.push_back(event->seq());
    }
  };
  std::thread a(publisher, 1), b(publisher, 2);
  a.join();
  b.join();
  ASSERT_EQ(committed.size(), 2u * kPerThread);
  std::vector<uint64_t> sorted = committed;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], before + 1 + i) << "gap";
  // The chain links every event to the one committed before it.
  std::vector<v1::Event> log = VerifiedLog();
  ASSERT_EQ(log.size(), before + 2 * kPerThread);
}

TEST_F(PublisherTest, AFailedBuildWritesNothing) {
  const feed::ChainTip before = *ReadFeedHead(*conn_);
  auto failed = Publish(
      *conn_, EventHeader{feed::EventKind::kRelease, "test", "x", "1.0.0"},
      [&](absl::Time) {
        auto r =
            conn_->Exec("INSERT INTO users (nickname, email) VALUES ('ghost', 'g@example.com')");
        EXPECT_TRUE(r.ok()) << r.status();
        return absl::StatusOr<std::vector<FileChange>>(
            absl::FailedPreconditionError("Distribution \"x 1.0.0\" already exists"));
      },
      TestPublishing());
  EXPECT_EQ(failed.status().message(), "Distribution \"x 1.0.0\" already exists");
  const feed::ChainTip after = *ReadFeedHead(*conn_);
  EXPECT_EQ(after.seq, before.seq);
  EXPECT_EQ(after.hash, before.hash);
  auto ghost = conn_->Exec("SELECT count(*) FROM users WHERE nickname = 'ghost'");
  ASSERT_TRUE(ghost.ok());
  EXPECT_EQ(ghost->GetInt(0, 0), 0);
  auto events = conn_->Exec("SELECT count(*) FROM events WHERE seq > $1",
                            PgParams().Int(static_cast<int64_t>(before.seq)));
  EXPECT_EQ(events->GetInt(0, 0), 0);
}

TEST_F(PublisherTest, UnchangedFilesAreLeftOutAndContentsStoredOnce) {
  auto first = PublishFile(*conn_, "same/a.json", "{\"a\":1}");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->ops_size(), 1);
  auto again = Publish(
      *conn_, EventHeader{feed::EventKind::kMeta, "test", "", ""},
      [&](absl::Time) {
        return absl::StatusOr<std::vector<FileChange>>(std::vector<FileChange>{
            {"same/a.json", "{\"a\":1}", ""}, {"same/b.json", "{\"a\":1}", ""}});
      },
      TestPublishing());
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->ops_size(), 1);
  EXPECT_EQ(again->ops(0).path(), "same/b.json");
  auto blobs = conn_->Exec("SELECT count(*) FROM blobs WHERE sha256 = $1",
                           PgParams().Bytes(base::Sha256("{\"a\":1}")));
  EXPECT_EQ(blobs->GetInt(0, 0), 1);

  EventHeader quiet{feed::EventKind::kMeta, "test", "", ""};
  quiet.skip_if_unchanged = true;
  const uint64_t head = ReadFeedHead(*conn_)->seq;
  auto nothing = Publish(
      *conn_, quiet,
      [&](absl::Time) {
        return absl::StatusOr<std::vector<FileChange>>(
            std::vector<FileChange>{{"same/a.json", "{\"a\":1}", ""}});
      },
      TestPublishing());
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_EQ(nothing->seq(), 0u);
  EXPECT_EQ(ReadFeedHead(*conn_)->seq, head);
}

TEST_F(PublisherTest, EventsNodesWouldRefuseAreNotPublished) {
  const feed::ChainTip before = *ReadFeedHead(*conn_);
  auto too_many = Publish(
      *conn_, EventHeader{feed::EventKind::kRelease, "test", "x", "1.0.0"},
      [&](absl::Time) {
        std::vector<FileChange> files;
        for (size_t i = 0; i <= feed::kMaxOpsPerEvent; ++i) {
          files.push_back({absl::StrCat("many/", i, ".json"), absl::StrCat(i), ""});
        }
        return absl::StatusOr<std::vector<FileChange>>(std::move(files));
      },
      TestPublishing());
  EXPECT_TRUE(absl::IsFailedPrecondition(too_many.status())) << too_many.status();
  EXPECT_EQ(too_many.status().message(),
            "This change touches 10001 files, more than the 10000 one event may carry");
  EXPECT_EQ(ReadFeedHead(*conn_)->seq, before.seq);
  auto files = conn_->Exec("SELECT count(*) FROM tree_files WHERE path LIKE 'many/%'");
  EXPECT_EQ(files->GetInt(0, 0), 0);
}

TEST_F(PublisherTest, RemovalsBecomeDeleteOps) {
  ASSERT_TRUE(PublishFile(*conn_, "gone/x.json", "x").ok());
  auto removed = Publish(
      *conn_, EventHeader{feed::EventKind::kDelete, "test", "", ""},
      [&](absl::Time) {
        return absl::StatusOr<std::vector<FileChange>>(std::vector<FileChange>{
            {"gone/x.json", "", "", true}, {"gone/never.json", "", "", true}});
      },
      TestPublishing());
  ASSERT_TRUE(removed.ok()) << removed.status();
  ASSERT_EQ(removed->ops_size(), 1);
  EXPECT_EQ(removed->ops(0).type(), v1::Op::DELETE);
  auto rows = conn_->Exec("SELECT count(*) FROM tree_files WHERE path = 'gone/x.json'");
  EXPECT_EQ(rows->GetInt(0, 0), 0);
}

TEST_F(PublisherTest, EventsStateTheTreeSize) {
  // Adds, a replacement of another size and a removal: each event's figures
  // must match what tree_files holds once it commits.
  auto tree_size = [&] {
    auto rows = conn_->Exec("SELECT count(*), coalesce(sum(size), 0)::bigint FROM tree_files");
    EXPECT_TRUE(rows.ok()) << rows.status();
    return std::make_pair(static_cast<uint64_t>(rows->GetInt(0, 0)),
                          static_cast<uint64_t>(rows->GetInt(0, 1)));
  };
  auto check = [&](const absl::StatusOr<v1::Event>& event, const std::string& step) {
    ASSERT_TRUE(event.ok()) << step << ": " << event.status();
    EXPECT_TRUE(feed::HasTreeSize(*event)) << step;
    EXPECT_EQ(std::make_pair(event->tree_files(), event->tree_bytes()), tree_size()) << step;
  };
  check(PublishFile(*conn_, "size/a.json", "12345"), "add");
  check(PublishFile(*conn_, "size/a.json", "123"), "replace");
  check(PublishFile(*conn_, "size/b.json", "1234567"), "another");
  check(Publish(
            *conn_, EventHeader{feed::EventKind::kDelete, "test", "", ""},
            [&](absl::Time) {
              return absl::StatusOr<std::vector<FileChange>>(
                  std::vector<FileChange>{{"size/a.json", "", "", true}});
            },
            TestPublishing()),
        "remove");
}

TEST_F(PublisherTest, ListenersAreWokenByCommits) {
  PgPool pool(pg_->dsn(), 2);
  // No periodic re-read: only the NOTIFY can wake the log.
  auto log = PgEventLog::Start(&pool, TestPublishing().key, absl::InfiniteDuration());
  ASSERT_TRUE(log.ok()) << log.status();
  const uint64_t head = (*log)->Head()->seq;
  // Published on another connection without telling the log directly: only
  // NOTIFY can wake it.
  std::thread publisher([&] {
    auto conn = pg_->Connect();
    ASSERT_TRUE(PublishFile(*conn, "notify/x.json", "1").ok());
  });
  EXPECT_EQ((*log)->WaitForHeadAbove(head, absl::Now() + absl::Seconds(60)), head + 1);
  publisher.join();
  auto events = (*log)->ReadAfter(head, 10, 1 << 20, true);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].ops(0).content(), "1");
}

TEST_F(PublisherTest, MigrationsAreIdempotent) {
  auto again = ApplyMigrations(*conn_, EmbeddedMigrations());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 0);
  auto newer = conn_->Exec("INSERT INTO schema_migrations (version, name) VALUES (9999, 'x')");
  ASSERT_TRUE(newer.ok());
  auto refused = ApplyMigrations(*conn_, EmbeddedMigrations());
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  ASSERT_TRUE(conn_->Exec("DELETE FROM schema_migrations WHERE version = 9999").ok());
}

}  // namespace
}  // namespace pgxn::origin
