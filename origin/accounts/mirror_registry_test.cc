#include "origin/accounts/mirror_registry.h"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "origin/testing/test_postgres.h"
#include "origin/testing/test_releases.h"

namespace pgxn::origin {
namespace {

using Json = nlohmann::json;

MirrorFields Complete(const std::string& uri = "https://pgxn.example.org/") {
  return MirrorFields{{"uri", uri},
                      {"email", "pgxn@example.org"},
                      {"frequency", "hourly"},
                      {"organization", "Example Org"},
                      {"location", "Basel, Switzerland"},
                      {"timezone", "Europe/Zurich"},
                      {"bandwidth", "1Gbps"},
                      {"src", "rsync://master.pgxn.org/pgxn/"}};
}

MirrorFields With(MirrorFields fields, const std::string& name, const std::string& value) {
  fields[name] = value;
  return fields;
}

MirrorFields Without(MirrorFields fields, const std::string& name) {
  fields.erase(name);
  return fields;
}

TEST(ParseMirrorTest, AcceptsPgxnFieldsAndRefusesEveryBadOneByName) {
  absl::StatusOr<MirrorRow> ok =
      ParseMirror(With(With(Complete(), "notes", " I2 and IPv6 "), "rsync", ""));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->uri, "https://pgxn.example.org/");
  EXPECT_EQ(ok->notes, "I2 and IPv6");
  EXPECT_FALSE(ok->rsync.has_value()) << "an empty optional field is absent";
  EXPECT_TRUE(ParseMirror(With(Complete(), "submit", "Add")).ok());
  EXPECT_TRUE(ParseMirror(With(Complete(), "notes", "line one\nline two")).ok());

  const struct {
    std::string name;
    MirrorFields fields;
    std::string message;
  } cases[] = {
      {"no uri", Without(Complete(), "uri"), "Missing required field \"uri\""},
      {"blank email", With(Complete(), "email", "  "), "Missing required field \"email\""},
      {"two missing", Without(Without(Complete(), "src"), "timezone"),
       "Missing required field \"timezone\"\nMissing required field \"src\""},
      {"nothing", MirrorFields{},
       "Missing required field \"uri\"\nMissing required field \"email\"\n"
       "Missing required field \"frequency\"\nMissing required field \"organization\"\n"
       "Missing required field \"location\"\nMissing required field \"timezone\"\n"
       "Missing required field \"bandwidth\"\nMissing required field \"src\""},
      {"ftp uri", With(Complete(), "uri", "ftp://pgxn.example.org/"),
       "Invalid field \"uri\": \"ftp://pgxn.example.org/\" is not an http or https URL"},
      {"uri without host", With(Complete(), "uri", "http:///x"),
       "Invalid field \"uri\": \"http:///x\" is not an http or https URL"},
      {"bad email", With(Complete(), "email", "pgxn.example.org"),
       "Invalid field \"email\": \"pgxn.example.org\" is not an email address"},
      {"bad rsync", With(Complete(), "rsync", "http://pgxn.example.org/"),
       "Invalid field \"rsync\": \"http://pgxn.example.org/\" is not an rsync:// URL"},
      {"control character", With(Complete(), "location", "Basel\x01"),
       "Invalid field \"location\": contains a control character"},
      {"line break outside notes", With(Complete(), "organization", "Example\nOrg"),
       "Invalid field \"organization\": contains a control character"},
      {"too long", With(Complete(), "bandwidth", std::string(1025, 'x')),
       "Invalid field \"bandwidth\": longer than 1024 bytes"},
      {"unknown field", With(Complete(), "freqency", "daily"), "Unknown field \"freqency\""},
  };
  for (const auto& c : cases) {
    absl::StatusOr<MirrorRow> mirror = ParseMirror(c.fields);
    EXPECT_TRUE(absl::IsInvalidArgument(mirror.status())) << c.name << ": " << mirror.status();
    EXPECT_EQ(mirror.status().message(), c.message) << c.name;
  }
}

class MirrorRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new TestPostgres();
    if (!pg_->ok()) return;
    auto conn = pg_->Connect();
    ASSERT_TRUE(AddTestUser(*conn, "root", /*admin=*/true).ok());
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    conn_ = pg_->Connect();
    ASSERT_NE(conn_, nullptr);
    ASSERT_TRUE(conn_->Exec("DELETE FROM mirrors").ok());
  }

  // A published file, parsed.
  Json File(const std::string& path) {
    auto rows = conn_->Exec(
        "SELECT b.content FROM tree_files t JOIN blobs b ON b.sha256 = t.sha256 WHERE t.path = $1",
        PgParams().Text(path));
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok() || rows->rows() == 0) return Json();
    return Json::parse(rows->GetString(0, 0), nullptr, false);
  }

  uint64_t Head() {
    auto rows = conn_->Exec("SELECT seq FROM feed_head");
    return rows.ok() ? static_cast<uint64_t>(rows->GetInt(0, 0)) : 0;
  }

  static TestPostgres* pg_;
  std::unique_ptr<PgConnection> conn_;
};

TestPostgres* MirrorRegistryTest::pg_ = nullptr;

TEST_F(MirrorRegistryTest, EachChangeIsOneMirrorsEventRewritingTheRegistryFiles) {
  absl::StatusOr<v1::Event> added =
      AddMirror(*conn_, "root", With(Complete(), "notes", "I2 and IPv6"), TestPublishing());
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->kind(), "mirrors");
  EXPECT_EQ(added->actor(), "root");
  std::vector<std::string> paths;
  for (const v1::Op& op : added->ops()) paths.push_back(op.path());
  EXPECT_EQ(paths, (std::vector<std::string>{"meta/mirrors.json", "stats/summary.json"}));
  EXPECT_EQ(File("meta/mirrors.json"), Json::parse(R"([{
      "uri": "https://pgxn.example.org/", "frequency": "hourly",
      "location": "Basel, Switzerland", "organization": "Example Org",
      "timezone": "Europe/Zurich", "email": "example.org|pgxn", "bandwidth": "1Gbps",
      "src": "rsync://master.pgxn.org/pgxn/", "notes": "I2 and IPv6"}])"));
  EXPECT_EQ(File("stats/summary.json")["mirrors"], 1);

  ASSERT_TRUE(
      AddMirror(*conn_, "root", Complete("http://second.example.net/pgxn/"), TestPublishing())
          .ok());
  EXPECT_EQ(File("stats/summary.json")["mirrors"], 2);

  absl::StatusOr<v1::Event> updated =
      UpdateMirror(*conn_, "root", "https://pgxn.example.org/",
                   MirrorFields{{"location", "Zurich"}, {"notes", ""}, {"rsync", "rsync://x/pgxn"}},
                   TestPublishing());
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_GT(updated->seq(), added->seq());
  Json first = File("meta/mirrors.json")[0];
  EXPECT_EQ(first["location"], "Zurich");
  EXPECT_EQ(first["rsync"], "rsync://x/pgxn");
  EXPECT_FALSE(first.contains("notes"));

  // A rename keeps the mirror's place in the list.
  ASSERT_TRUE(UpdateMirror(*conn_, "root", "https://pgxn.example.org/",
                           MirrorFields{{"uri", "https://renamed.example.org/"}}, TestPublishing())
                  .ok());
  EXPECT_EQ(File("meta/mirrors.json")[0]["uri"], "https://renamed.example.org/");

  const uint64_t head = Head();
  absl::StatusOr<v1::Event> same =
      UpdateMirror(*conn_, "root", "https://renamed.example.org/",
                   MirrorFields{{"location", "Zurich"}}, TestPublishing());
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->seq(), 0u) << "nothing changed, nothing published";
  EXPECT_EQ(Head(), head);

  absl::StatusOr<std::vector<RegisteredMirror>> listed = ListMirrors(*conn_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].mirror.email, "pgxn@example.org");
  EXPECT_EQ((*listed)[0].created_by, "root");

  absl::StatusOr<v1::Event> removed =
      RemoveMirror(*conn_, "root", "https://renamed.example.org/", TestPublishing());
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(File("meta/mirrors.json").size(), 1u);
  EXPECT_EQ(File("stats/summary.json")["mirrors"], 1);
}

TEST_F(MirrorRegistryTest, RefusedChangesChangeNothing) {
  ASSERT_TRUE(AddMirror(*conn_, "root", Complete("https://a.example.org/"), TestPublishing()).ok());
  ASSERT_TRUE(AddMirror(*conn_, "root", Complete("https://b.example.org/"), TestPublishing()).ok());
  const Json mirrors = File("meta/mirrors.json");
  const uint64_t head = Head();
  const struct {
    std::string name;
    absl::StatusOr<v1::Event> result;
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {"duplicate", AddMirror(*conn_, "root", Complete("https://a.example.org/"), TestPublishing()),
       absl::StatusCode::kAlreadyExists, "Mirror \"https://a.example.org/\" already exists"},
      {"invalid new mirror",
       AddMirror(*conn_, "root", Without(Complete(), "bandwidth"), TestPublishing()),
       absl::StatusCode::kInvalidArgument, "Missing required field \"bandwidth\""},
      {"update of an unknown mirror",
       UpdateMirror(*conn_, "root", "https://c.example.org/", MirrorFields{{"location", "x"}},
                    TestPublishing()),
       absl::StatusCode::kNotFound, "Mirror \"https://c.example.org/\" does not exist"},
      {"rename onto another",
       UpdateMirror(*conn_, "root", "https://a.example.org/",
                    MirrorFields{{"uri", "https://b.example.org/"}}, TestPublishing()),
       absl::StatusCode::kAlreadyExists, "Mirror \"https://b.example.org/\" already exists"},
      {"invalid update",
       UpdateMirror(*conn_, "root", "https://a.example.org/", MirrorFields{{"email", "nope"}},
                    TestPublishing()),
       absl::StatusCode::kInvalidArgument,
       "Invalid field \"email\": \"nope\" is not an email address"},
      {"required field emptied",
       UpdateMirror(*conn_, "root", "https://a.example.org/", MirrorFields{{"timezone", ""}},
                    TestPublishing()),
       absl::StatusCode::kInvalidArgument, "Missing required field \"timezone\""},
      {"empty update",
       UpdateMirror(*conn_, "root", "https://a.example.org/", MirrorFields{{"colour", "red"}},
                    TestPublishing()),
       absl::StatusCode::kInvalidArgument, "No mirror field to update\nUnknown field \"colour\""},
      {"removal of an unknown mirror",
       RemoveMirror(*conn_, "root", "https://c.example.org/", TestPublishing()),
       absl::StatusCode::kNotFound, "Mirror \"https://c.example.org/\" does not exist"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.result.status().code(), c.code) << c.name << ": " << c.result.status();
    EXPECT_EQ(c.result.status().message(), c.message) << c.name;
  }
  EXPECT_EQ(File("meta/mirrors.json"), mirrors);
  EXPECT_EQ(Head(), head);
}

}  // namespace
}  // namespace pgxn::origin
