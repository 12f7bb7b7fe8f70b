// POST /upload against a real origin, as pgxn-release and browsers call it:
// the success answers, and every kind of bad request with its status and
// message, each leaving no row, no tree file and no event behind.
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "origin/pg/embedded_postgres.h"
#include "origin/pg/pg.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "bob";
constexpr char kPassword[] = "bobs secret password";

// What an upload could leave behind, to compare before and after.
struct Footprint {
  int64_t distributions = -1;
  int64_t extensions = -1;
  int64_t blobs = -1;
  std::string tree;
  uint64_t seq = 0;
  bool operator==(const Footprint& o) const {
    return distributions == o.distributions && extensions == o.extensions && blobs == o.blobs &&
           tree == o.tree && seq == o.seq;
  }
};

class UploadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    // The account is created before the origin ever ran: `user add` brings up
    // the embedded cluster itself, applies the schema and stops it again.
    user_added_ = AddUser(dir_->path() + "/origin", kUser, kPassword);
    origin_ = Node::Start("origin", dir_->path() + "/origin",
                          {"--unsafe-no-fsync", "--max-upload", "1M", "--max-entries", "50"})
                  .release();
  }
  static void TearDownTestSuite() {
    delete origin_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(user_added_);
    ASSERT_NE(origin_, nullptr);
  }

  Footprint Measure() {
    Footprint f;
    auto conn = origin::PgConnection::Connect(
        origin::EmbeddedPostgresDsn(dir_->path() + "/origin/postgres"));
    EXPECT_TRUE(conn.ok()) << conn.status();
    if (!conn.ok()) return f;
    auto counts = (*conn)->Exec(
        "SELECT (SELECT count(*) FROM distributions), (SELECT count(*) FROM extensions),"
        " (SELECT count(*) FROM blobs)");
    EXPECT_TRUE(counts.ok()) << counts.status();
    f.distributions = counts->GetInt(0, 0);
    f.extensions = counts->GetInt(0, 1);
    f.blobs = counts->GetInt(0, 2);
    f.tree = origin_->Get("/_tree").body;
    f.seq = origin_->AppliedSeq();
    return f;
  }

  UploadResult UploadZip(const std::string& zip, const std::string& filename,
                         const std::vector<std::string>& extra = {}) {
    return UploadWithCurl(origin_->url(), kUser, kPassword, zip, filename, dir_->path(), extra);
  }

  // Asserts that an upload was refused with `status` and a body containing
  // `message`, and that it changed nothing.
  void ExpectRefused(const std::string& name, const std::function<UploadResult()>& upload,
                     int status, const std::string& message) {
    const Footprint before = Measure();
    UploadResult result = upload();
    EXPECT_EQ(result.status, status) << name << ": " << result.body;
    EXPECT_TRUE(absl::StrContains(result.body, message))
        << name << ": expected \"" << message << "\" in: " << result.body;
    EXPECT_TRUE(Measure() == before) << name << " left something behind";
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static bool user_added_;
};

base::TempDir* UploadTest::dir_ = nullptr;
bool UploadTest::user_added_ = false;
Node* UploadTest::origin_ = nullptr;

TEST_F(UploadTest, XhrUploadSucceedsAndBrowserUploadRedirects) {
  const Footprint before = Measure();
  UploadResult xhr =
      UploadZip(MakeDistZip(MakeMeta("okdist", "1.0.0", "Fine"), {}), "okdist-1.0.0.zip");
  EXPECT_EQ(xhr.status, 200) << xhr.body;
  EXPECT_EQ(xhr.body, "Success");
  const Footprint after = Measure();
  EXPECT_EQ(after.distributions, before.distributions + 1);
  EXPECT_EQ(after.seq, before.seq + 1);
  HttpResult meta = origin_->Get("/dist/okdist/1.0.0/META.json");
  EXPECT_EQ(meta.status, 200);
  EXPECT_TRUE(absl::StrContains(meta.body, "\"user\": \"bob\"")) << meta.body;

  // A browser form post (no XHR header) is sent to the release's page.
  const std::string zip = MakeDistZip(MakeMeta("okdist", "1.0.1", "Fine"), {});
  WriteWholeFile(dir_->path() + "/browser.zip", zip);
  RunResult browser =
      RunProgram({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--user",
                  std::string(kUser) + ":" + kPassword, "-F",
                  "archive=@" + dir_->path() + "/browser.zip", origin_->url() + "/upload"});
  EXPECT_TRUE(absl::StartsWith(browser.output, "303 ")) << browser.output;
  EXPECT_TRUE(absl::StrContains(browser.output, "/distributions/okdist/1.0.1")) << browser.output;
}

TEST_F(UploadTest, AccountsAddedBeforeTheOriginStartedArePublished) {
  HttpResult user = origin_->Get("/user/bob.json");
  ASSERT_EQ(user.status, 200);
  nlohmann::json doc = nlohmann::json::parse(user.body);
  EXPECT_EQ(doc["nickname"], "bob");
  EXPECT_EQ(doc["email"], "bob@example.com");
  // Taken nicknames are refused, also while the origin runs.
  RunResult again =
      RunProgram({PgxndPath(), "user", "add", "--data-dir", dir_->path() + "/origin", "bob",
                  "--email", "other@example.com", "--name", "B", "--password-stdin"},
                 "another password\n");
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_TRUE(absl::StrContains(again.output, "Nickname \"bob\" is already taken")) << again.output;
  RunResult short_password =
      RunProgram({PgxndPath(), "user", "add", "--data-dir", dir_->path() + "/origin", "carol",
                  "--email", "carol@example.com", "--name", "C", "--password-stdin"},
                 "short\n");
  EXPECT_EQ(short_password.exit_code, 1) << short_password.output;
  EXPECT_TRUE(absl::StrContains(short_password.output, "at least 8 characters"))
      << short_password.output;
}

TEST_F(UploadTest, BadCredentialsAre401) {
  const std::string zip = MakeDistZip(MakeMeta("authdist", "1.0.0", "x"), {});
  ExpectRefused(
      "no credentials",
      [&] { return UploadWithCurl(origin_->url(), "", "", zip, "a.zip", dir_->path()); }, 401,
      "Authorization required");
  ExpectRefused(
      "wrong password",
      [&] {
        return UploadWithCurl(origin_->url(), kUser, "wrong password!", zip, "a.zip", dir_->path());
      },
      401, "Authorization required");
  ExpectRefused(
      "unknown user",
      [&] {
        return UploadWithCurl(origin_->url(), "nobody", kPassword, zip, "a.zip", dir_->path());
      },
      401, "Authorization required");
  RunResult challenge = RunProgram(
      {"curl", "-sS", "-D", "-", "-o", "/dev/null", "-X", "POST", origin_->url() + "/upload"});
  EXPECT_TRUE(
      absl::StrContains(challenge.output, "WWW-Authenticate: Basic realm=\"PGXN Users Only\""))
      << challenge.output;
}

TEST_F(UploadTest, MissingArchiveFieldIs400) {
  ExpectRefused(
      "no archive field",
      [&] {
        RunResult r =
            RunProgram({"curl", "-sS", "-o", dir_->path() + "/body", "-w", "%{http_code}", "--user",
                        std::string(kUser) + ":" + kPassword, "-F", "submit=Release It!", "-H",
                        "X-Requested-With: XMLHttpRequest", origin_->url() + "/upload"});
        return UploadResult{std::atoi(r.output.c_str()), ReadWholeFile(dir_->path() + "/body")};
      },
      400, "Bad request: no archive parameter.");
}

TEST_F(UploadTest, BadArchivesAre409WithTheReason) {
  nlohmann::json no_abstract = MakeMeta("noabs", "1.0.0", "x");
  no_abstract.erase("abstract");
  nlohmann::json bad_version = MakeMeta("badver", "2.5", "x");
  bad_version["provides"]["badver"]["version"] = "1.0.0";
  const struct {
    std::string name;
    std::string zip;
    std::string message;
  } cases[] = {
      {"not an archive", "this is not a zip file at all",
       "\"case.zip\" doesn't look like a distribution archive"},
      {"empty upload", "", "\"case.zip\" doesn't look like a distribution archive"},
      {"no META.json", ZipOf({{"nometa-1.0.0/README", "hello"}}),
       "Cannot find a \"META.json\" in \"case.zip\""},
      {"META.json not JSON", ZipOf({{"broken-1.0.0/META.json", "{\"name\": "}}),
       "Cannot parse JSON from \"broken-1.0.0/META.json\""},
      {"META.json not an object", ZipOf({{"arr-1.0.0/META.json", "[1, 2]"}}), "case.zip"},
      {"missing abstract", MakeDistZip(no_abstract, {}), "Required field /abstract"},
      {"version not semantic", MakeDistZip(bad_version, {}),
       "Field /version: \"2.5\" is not a valid semantic version"},
  };
  for (const auto& c : cases) {
    ExpectRefused(
        c.name, [&] { return UploadZip(c.zip, "case.zip"); }, 409, c.message);
  }
}

TEST_F(UploadTest, ConflictsWithPublishedReleasesAre409) {
  ASSERT_EQ(UploadZip(MakeDistZip(MakeMeta("taken", "1.2.0", "x"), {}), "t.zip").status, 200);
  ExpectRefused(
      "duplicate",
      [&] { return UploadZip(MakeDistZip(MakeMeta("taken", "1.2.0", "x"), {}), "t.zip"); }, 409,
      "Distribution \"taken 1.2.0\" already exists");
  ExpectRefused(
      "older version",
      [&] { return UploadZip(MakeDistZip(MakeMeta("taken", "1.1.9", "x"), {}), "t.zip"); }, 409,
      "Distribution \"taken 1.1.9\" version not greater than previous major release "
      "\"taken 1.2.0\"");
  ASSERT_TRUE(AddUser(dir_->path() + "/origin", "mallory", "mallorys password"));
  ExpectRefused(
      "someone else's extension",
      [&] {
        return UploadWithCurl(origin_->url(), "mallory", "mallorys password",
                              MakeDistZip(MakeMeta("taken", "9.0.0", "x"), {}), "t.zip",
                              dir_->path());
      },
      409, "User \"mallory\" does not own all provided extensions");
}

TEST_F(UploadTest, OversizeUploadIs413WithoutReadingIt) {
  const std::string big(2 << 20, 'x');  // the origin's limit is 1M
  ExpectRefused(
      "too large", [&] { return UploadZip(big, "big.zip"); }, 413, "too large");
}

TEST_F(UploadTest, ErrorsAreJsonWhenTheClientAcceptsJson) {
  UploadResult result = UploadZip("not a zip", "j.zip", {"-H", "Accept: application/json"});
  EXPECT_EQ(result.status, 409);
  nlohmann::json body = nlohmann::json::parse(result.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << result.body;
  EXPECT_EQ(body["message"], "\"j.zip\" doesn't look like a distribution archive");
}

}  // namespace
}  // namespace pgxn::testing
