#include "origin/pg/pg.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "origin/testing/test_postgres.h"

namespace pgxn::origin {
namespace {

class PgErrorTest : public ::testing::Test {
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
  static TestPostgres* pg_;
  std::unique_ptr<PgConnection> conn_;
};

TestPostgres* PgErrorTest::pg_ = nullptr;

TEST_F(PgErrorTest, InvalidUtf8KeepsTheServersTextForTheLogOnly) {
  absl::StatusOr<PgResult> result =
      conn_->Exec("SELECT nickname FROM users WHERE nickname = $1", PgParams().Text("\xff"));
  ASSERT_FALSE(result.ok());
  const absl::Status& status = result.status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(SqlStateOf(status), "22021");
  EXPECT_TRUE(absl::StrContains(status.message(), "invalid byte sequence")) << status;
  EXPECT_EQ(PublicDatabaseMessage(status),
            "Bad request: a value is not valid UTF-8 text or contains a NUL character");
}

TEST_F(PgErrorTest, EveryServerErrorIsMarked) {
  const struct {
    const char* sql;
    absl::StatusCode code;
    const char* public_message;
  } cases[] = {
      {"SELECT 1/0", absl::StatusCode::kInvalidArgument,
       "Bad request: a value is malformed or out of range"},
      {"SELECT * FROM no_such_table", absl::StatusCode::kInternal,
       "Internal error; the origin's log has the details"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<PgResult> result = conn_->Exec(c.sql);
    ASSERT_FALSE(result.ok()) << c.sql;
    EXPECT_EQ(result.status().code(), c.code) << c.sql << ": " << result.status();
    EXPECT_FALSE(SqlStateOf(result.status()).empty()) << c.sql;
    EXPECT_EQ(PublicDatabaseMessage(result.status()), c.public_message) << c.sql;
  }
  EXPECT_EQ(SqlStateOf(absl::InvalidArgumentError("Field email: ...")), "");
  EXPECT_EQ(PublicDatabaseMessage(absl::InternalError("ours")), "");
}

TEST_F(PgErrorTest, AFailedConnectionIsMarked) {
  absl::StatusOr<std::unique_ptr<PgConnection>> conn =
      PgConnection::Connect("host=/nonexistent-socket-dir dbname=x connect_timeout=1");
  ASSERT_FALSE(conn.ok());
  EXPECT_TRUE(absl::IsUnavailable(conn.status())) << conn.status();
  EXPECT_EQ(PublicDatabaseMessage(conn.status()), "The database is unavailable; try again shortly");
}

}  // namespace
}  // namespace pgxn::origin
