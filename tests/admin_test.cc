// The Manager's ownership, release removal and mirror registry endpoints
// against a real origin with a mirror below it: each success, each refusal
// with its status and message (a refusal leaving no row, tree file or event
// behind), what the mirror serves after a removal, and `pgxnd origin rebuild`.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gateway/path.h"
#include "gtest/gtest.h"
#include "origin/accounts/accounts.h"
#include "origin/pg/embedded_postgres.h"
#include "origin/pg/pg.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

using Json = nlohmann::json;

constexpr char kPassword[] = "a long enough password";

// Who calls: a nickname, or "" for no credentials.
struct As {
  std::string user;
  std::string password = kPassword;
};
const As kAnonymous{""};
const As kRoot{"root"};
const As kBob{"bob"};
const As kCarol{"carol"};
const As kDave{"dave"};

// What a refused request must leave as it was.
struct Footprint {
  std::string rows;  // counts of the domain tables
  std::string tree;
  uint64_t seq = 0;
  bool operator==(const Footprint&) const = default;
};

class AdminTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    const std::string data = dir_->path() + "/origin";
    origin_ = Node::Start("origin", data, {"--unsafe-no-fsync"}).release();
    if (origin_ == nullptr) return;
    RunResult admin =
        RunProgram({PgxndPath(), "user", "add", "--data-dir", data, "root", "--email",
                    "root@example.com", "--name", "Root", "--admin", "--password-stdin"},
                   std::string(kPassword) + "\n");
    users_added_ = admin.exit_code == 0;
    if (!users_added_) std::fprintf(stderr, "user add --admin: %s\n", admin.output.c_str());
    for (const char* nick : {"bob", "carol", "dave"}) {
      users_added_ = users_added_ && AddUser(data, nick, kPassword);
    }
    mirror_ =
        Node::Start("mirror", dir_->path() + "/mirror", {"--upstream", origin_->grpc_address()})
            .release();
  }
  static void TearDownTestSuite() {
    delete mirror_;
    delete origin_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(origin_, nullptr);
    ASSERT_NE(mirror_, nullptr);
    ASSERT_TRUE(users_added_);
  }

  static HttpResult Call(const std::string& method, const std::string& path, const As& as,
                         const std::string& body = "", std::vector<std::string> headers = {}) {
    if (!as.user.empty()) headers.push_back(BasicAuthHeader(as.user, as.password));
    return HttpRequest(method, origin_->url() + path, body, headers);
  }

  static std::unique_ptr<origin::PgConnection> Connect() {
    auto conn = origin::PgConnection::Connect(
        origin::EmbeddedPostgresDsn(dir_->path() + "/origin/postgres"));
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  static Footprint Measure() {
    Footprint f;
    auto conn = Connect();
    if (conn == nullptr) return f;
    for (const char* table :
         {"users", "extensions", "coowners", "distributions", "distribution_tags",
          "distribution_extensions", "mirrors", "blobs", "tree_files", "events"}) {
      auto count = conn->Exec(absl::StrCat("SELECT count(*) FROM ", table));
      EXPECT_TRUE(count.ok()) << count.status();
      absl::StrAppend(&f.rows, table, "=", count.ok() ? count->GetInt(0, 0) : -1, " ");
    }
    auto owners = conn->Exec(
        "SELECT coalesce(string_agg(e.name || ':' || e.owner || ':' ||"
        " (SELECT coalesce(string_agg(c.nickname, ',' ORDER BY c.nickname), '')"
        " FROM coowners c WHERE c.extension = e.name), ' ' ORDER BY e.name), '') FROM extensions "
        "e");
    EXPECT_TRUE(owners.ok()) << owners.status();
    if (owners.ok()) absl::StrAppend(&f.rows, owners->GetString(0, 0));
    f.tree = origin_->Get("/_tree").body;
    f.seq = origin_->AppliedSeq();
    return f;
  }

  // Asserts that `call` is refused with `status` and exactly `message`, and
  // changes nothing.
  static void ExpectRefused(const std::string& name, const std::function<HttpResult()>& call,
                            long status, const std::string& message) {
    const Footprint before = Measure();
    HttpResult result = call();
    EXPECT_EQ(result.status, status) << name << ": " << result.body;
    EXPECT_EQ(result.body, message) << name;
    if (status == 401) {
      EXPECT_EQ(result.Header("www-authenticate"), "Basic realm=\"PGXN Users Only\"") << name;
    }
    EXPECT_TRUE(Measure() == before) << name << " left something behind";
  }

  static void Upload(const As& as, const Json& meta, int status = 200,
                     const std::vector<DistFile>& files = {}) {
    UploadResult result = UploadWithCurl(origin_->url(), as.user, as.password,
                                         MakeDistZip(meta, files), "dist.zip", dir_->path());
    EXPECT_EQ(result.status, status) << meta.dump() << ": " << result.body;
  }

  static Json Owners(const std::string& extension) {
    HttpResult result = origin_->Get(absl::StrCat("/extensions/", extension, "/owners"));
    EXPECT_EQ(result.status, 200) << result.body;
    return Json::parse(result.body, nullptr, false);
  }

  static bool MirrorCaughtUp() { return mirror_->WaitForSeq(origin_->AppliedSeq()); }

  static base::TempDir* dir_;
  static Node* origin_;
  static Node* mirror_;
  static bool users_added_;
};

base::TempDir* AdminTest::dir_ = nullptr;
Node* AdminTest::origin_ = nullptr;
Node* AdminTest::mirror_ = nullptr;
bool AdminTest::users_added_ = false;

const std::vector<std::string> kForm = {"Content-Type: application/x-www-form-urlencoded"};
const std::vector<std::string> kAcceptJson = {"Accept: application/json"};

TEST_F(AdminTest, OwnersGrantRevokeAndTransfer) {
  Upload(kBob, MakeMeta("pair", "1.0.0", "A pair"));
  EXPECT_EQ(Owners("pair"), Json::parse(R"({"extension":"pair","owner":"bob","coowners":[]})"));
  EXPECT_EQ(Owners("PAIR")["owner"], "bob");

  HttpResult granted = Call("POST", "/extensions/pair/coowners", kBob, "nickname=carol", kForm);
  EXPECT_EQ(granted.status, 200) << granted.body;
  EXPECT_EQ(granted.body, "User \"carol\" is now a co-owner of extension \"pair\"");
  EXPECT_EQ(Owners("pair")["coowners"], Json::array({"carol"}));
  Upload(kCarol, MakeMeta("pair", "1.1.0", "A pair"));

  // JSON in, JSON out.
  HttpResult json = Call("POST", "/extensions/pair/coowners", kRoot, R"({"nickname": "dave"})",
                         {"Content-Type: application/json", "Accept: application/json"});
  EXPECT_EQ(json.status, 200) << json.body;
  EXPECT_EQ(Json::parse(json.body, nullptr, false),
            Json({{"message", "User \"dave\" is now a co-owner of extension \"pair\""}}));
  EXPECT_EQ(json.Header("content-type"), "application/json");

  HttpResult revoked = Call("DELETE", "/extensions/pair/coowners/carol", kBob);
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.body, "User \"carol\" is no longer a co-owner of extension \"pair\"");
  Upload(kCarol, MakeMeta("pair", "1.2.0", "A pair"), 409);
  // A co-owner may leave on their own.
  EXPECT_EQ(Call("DELETE", "/extensions/pair/coowners/dave", kDave).status, 200);
  EXPECT_EQ(Owners("pair")["coowners"], Json::array());

  HttpResult transferred = Call("POST", "/extensions/pair/owner", kBob, "nickname=carol", kForm);
  EXPECT_EQ(transferred.status, 200) << transferred.body;
  EXPECT_EQ(transferred.body, "User \"carol\" now owns extension \"pair\"");
  EXPECT_EQ(Owners("pair"), Json::parse(R"({"extension":"pair","owner":"carol","coowners":[]})"));
  Upload(kBob, MakeMeta("pair", "1.3.0", "A pair"), 409);
  Upload(kCarol, MakeMeta("pair", "1.3.0", "A pair"));
  // An administrator may give it back.
  EXPECT_EQ(Call("POST", "/extensions/pair/owner", kRoot, "nickname=bob", kForm).status, 200);
  EXPECT_EQ(Owners("pair")["owner"], "bob");
}

TEST_F(AdminTest, OwnershipRefusals) {
  Upload(kBob, MakeMeta("owned", "1.0.0", "Owned"));
  ASSERT_EQ(Call("POST", "/extensions/owned/coowners", kBob, "nickname=dave", kForm).status, 200);
  const std::string nickname_rule(origin::CheckNickname("bad nick!").message());
  const struct {
    std::string name;
    std::string method, path;
    As as;
    std::string body;
    long status;
    std::string message;
  } cases[] = {
      {"no credentials", "POST", "/extensions/owned/coowners", kAnonymous, "nickname=carol", 401,
       "Authorization required"},
      {"wrong password", "POST", "/extensions/owned/coowners", As{"bob", "not the password"},
       "nickname=carol", 401, "Authorization required"},
      {"revoke without credentials", "DELETE", "/extensions/owned/coowners/dave", kAnonymous, "",
       401, "Authorization required"},
      {"no nickname", "POST", "/extensions/owned/coowners", kBob, "", 400,
       "Missing required field \"nickname\""},
      {"invalid nickname", "POST", "/extensions/owned/coowners", kBob, "nickname=bad+nick%21", 400,
       nickname_rule},
      {"unknown extension", "POST", "/extensions/nosuch/coowners", kBob, "nickname=carol", 404,
       "Extension \"nosuch\" does not exist"},
      {"unknown user", "POST", "/extensions/owned/coowners", kBob, "nickname=ghost", 404,
       "User \"ghost\" does not exist"},
      {"grant by a stranger", "POST", "/extensions/owned/coowners", kCarol, "nickname=carol", 403,
       "User \"carol\" cannot grant co-ownership of extension \"owned\": only its owner or an "
       "administrator can"},
      {"grant by a co-owner", "POST", "/extensions/owned/coowners", kDave, "nickname=carol", 403,
       "User \"dave\" cannot grant co-ownership of extension \"owned\": only its owner or an "
       "administrator can"},
      {"grant twice", "POST", "/extensions/owned/coowners", kBob, "nickname=dave", 409,
       "User \"dave\" is already a co-owner of extension \"owned\""},
      {"grant to the owner", "POST", "/extensions/owned/coowners", kRoot, "nickname=bob", 409,
       "User \"bob\" already owns extension \"owned\""},
      {"revoke by a stranger", "DELETE", "/extensions/owned/coowners/dave", kCarol, "", 403,
       "User \"carol\" cannot revoke co-ownership of extension \"owned\": only its owner or an "
       "administrator can"},
      {"revoke from a non-co-owner", "DELETE", "/extensions/owned/coowners/carol", kBob, "", 409,
       "User \"carol\" is not a co-owner of extension \"owned\""},
      {"revoke from an unknown user", "DELETE", "/extensions/owned/coowners/ghost", kBob, "", 404,
       "User \"ghost\" does not exist"},
      {"transfer by a co-owner", "POST", "/extensions/owned/owner", kDave, "nickname=dave", 403,
       "User \"dave\" cannot transfer ownership of extension \"owned\": only its owner or an "
       "administrator can"},
      {"transfer to the owner", "POST", "/extensions/owned/owner", kBob, "nickname=bob", 409,
       "User \"bob\" already owns extension \"owned\""},
      {"transfer without a nickname", "POST", "/extensions/owned/owner", kBob, "other=x", 400,
       "Missing required field \"nickname\""},
      {"transfer of an unknown extension", "POST", "/extensions/nosuch/owner", kRoot,
       "nickname=bob", 404, "Extension \"nosuch\" does not exist"},
      {"unknown route", "POST", "/extensions/owned/owners", kBob, "nickname=carol", 404,
       "Not found: /extensions/owned/owners\n"},
      {"unknown owners", "GET", "/extensions/nosuch/owners", kAnonymous, "", 404,
       "Extension \"nosuch\" does not exist"},
  };
  for (const auto& c : cases) {
    ExpectRefused(
        c.name, [&] { return Call(c.method, c.path, c.as, c.body, kForm); }, c.status, c.message);
  }
  // Refusals are JSON for clients that accept JSON, the challenge included.
  HttpResult json = Call("POST", "/extensions/owned/coowners", kCarol, "nickname=carol",
                         {"Accept: application/json", kForm[0]});
  EXPECT_EQ(json.status, 403);
  EXPECT_EQ(Json::parse(json.body, nullptr, false)["message"],
            "User \"carol\" cannot grant co-ownership of extension \"owned\": only its owner or an "
            "administrator can");
  HttpResult challenge =
      Call("DELETE", "/extensions/owned/coowners/dave", kAnonymous, "", kAcceptJson);
  EXPECT_EQ(challenge.status, 401);
  EXPECT_EQ(Json::parse(challenge.body, nullptr, false)["message"], "Authorization required");
  EXPECT_EQ(challenge.Header("www-authenticate"), "Basic realm=\"PGXN Users Only\"");
}

TEST_F(AdminTest, RemovingAReleaseReachesTheMirror) {
  Upload(kBob, MakeMeta("gone", "1.0.0", "Gone"), 200, {{"README.md", "the first"}});
  // What the dist file says without the release that will be removed.
  const std::string dist_before = origin_->Get("/dist/gone.json").body;
  Json newer = MakeMeta("gone", "1.1.0", "Gone again");
  newer["tags"] = {"ephemeral"};
  Upload(kBob, newer, 200, {{"README", "the second"}});
  ASSERT_TRUE(MirrorCaughtUp());
  ASSERT_NE(origin_->Get("/dist/gone.json").body, dist_before);
  for (const char* path : {"/dist/gone/1.1.0/META.json", "/dist/gone/1.1.0/gone-1.1.0.zip",
                           "/dist/gone/1.1.0/README.txt", "/tag/ephemeral.json"}) {
    EXPECT_EQ(mirror_->Get(path).status, 200) << path;
  }

  const struct {
    std::string name, path;
    As as;
    long status;
    std::string message;
  } refusals[] = {
      {"no credentials", "/admin/distributions/gone/1.1.0", kAnonymous, 401,
       "Authorization required"},
      {"not an administrator", "/admin/distributions/gone/1.1.0", kBob, 403,
       "User \"bob\" is not an administrator"},
      {"unknown version", "/admin/distributions/gone/9.9.9", kRoot, 404,
       "Distribution \"gone 9.9.9\" does not exist"},
      {"unknown dist", "/admin/distributions/nosuch/1.0.0", kRoot, 404,
       "Distribution \"nosuch 1.0.0\" does not exist"},
      {"no version", "/admin/distributions/gone", kRoot, 404,
       "Not found: /admin/distributions/gone\n"},
      {"too deep", "/admin/distributions/gone/1.1.0/x", kRoot, 404,
       "Not found: /admin/distributions/gone/1.1.0/x\n"},
  };
  for (const auto& c : refusals) {
    ExpectRefused(
        c.name, [&] { return Call("DELETE", c.path, c.as); }, c.status, c.message);
  }

  HttpResult removed = Call("DELETE", "/admin/distributions/GONE/1.1.0", kRoot, "", kAcceptJson);
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(Json::parse(removed.body, nullptr, false),
            Json({{"message", "Distribution \"gone 1.1.0\" removed"}}));

  ASSERT_TRUE(MirrorCaughtUp());
  for (const Node* node : {origin_, mirror_}) {
    for (const char* path : {"/dist/gone/1.1.0/META.json", "/dist/gone/1.1.0/gone-1.1.0.zip",
                             "/dist/gone/1.1.0/README.txt", "/tag/ephemeral.json"}) {
      EXPECT_EQ(node->Get(path).status, 404) << node->url() << path;
    }
    HttpResult dist = node->Get("/dist/gone.json");
    EXPECT_EQ(dist.status, 200);
    Json doc = Json::parse(dist.body, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << dist.body;
    EXPECT_EQ(doc["releases"]["stable"].size(), 1u) << dist.body;
    EXPECT_EQ(doc["releases"]["stable"][0]["version"], "1.0.0");
    EXPECT_EQ(dist.body, dist_before) << node->url();
    EXPECT_EQ(node->Get("/dist/gone/1.0.0/README.txt").body, "the first");
    EXPECT_FALSE(absl::StrContains(node->Get("/user/bob.json").body, "1.1.0"));
  }

  // The last release: the dist and its extension files go everywhere.
  ASSERT_EQ(Call("DELETE", "/admin/distributions/gone/1.0.0", kRoot).status, 200);
  ASSERT_TRUE(MirrorCaughtUp());
  for (const char* path :
       {"/dist/gone.json", "/extension/gone.json", "/dist/gone/1.0.0/META.json"}) {
    EXPECT_EQ(mirror_->Get(path).status, 404) << path;
  }
  // bob still owns the name.
  EXPECT_EQ(Owners("gone")["owner"], "bob");
  Upload(kCarol, MakeMeta("gone", "2.0.0", "Taken?"), 409);
}

TEST_F(AdminTest, MirrorRegistry) {
  const std::string form =
      "uri=https%3A%2F%2Fpgxn.example.org%2F&email=pgxn%40example.org&frequency=hourly"
      "&organization=Example&location=Basel&timezone=Europe%2FZurich&bandwidth=1Gbps"
      "&src=rsync%3A%2F%2Fmaster.pgxn.org%2Fpgxn%2F&notes=IPv6";
  const std::string query = "?uri=" + gateway::PercentEncodePath("https://pgxn.example.org/");
  const std::string unknown = "?uri=" + gateway::PercentEncodePath("https://other.example.org/");

  HttpResult added = Call("POST", "/admin/mirrors", kRoot, form, kForm);
  EXPECT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.body, "Mirror \"https://pgxn.example.org/\" added");
  ASSERT_TRUE(MirrorCaughtUp());
  for (const Node* node : {origin_, mirror_}) {
    Json mirrors = Json::parse(node->Get("/meta/mirrors.json").body, nullptr, false);
    ASSERT_TRUE(mirrors.is_array() && mirrors.size() == 1) << mirrors.dump();
    EXPECT_EQ(mirrors[0]["email"], "example.org|pgxn");
    EXPECT_EQ(mirrors[0]["notes"], "IPv6");
    EXPECT_EQ(Json::parse(node->Get("/stats/summary.json").body)["mirrors"], 1);
  }
  HttpResult listed = Call("GET", "/admin/mirrors", kRoot);
  EXPECT_EQ(listed.status, 200);
  Json list = Json::parse(listed.body, nullptr, false);
  ASSERT_TRUE(list.is_array() && list.size() == 1) << listed.body;
  EXPECT_EQ(list[0]["email"], "pgxn@example.org");
  EXPECT_EQ(list[0]["created_by"], "root");

  const struct {
    std::string name, method, path;
    As as;
    std::string body;
    long status;
    std::string message;
  } refusals[] = {
      {"no credentials", "POST", "/admin/mirrors", kAnonymous, form, 401, "Authorization required"},
      {"not an administrator", "POST", "/admin/mirrors", kBob, form, 403,
       "User \"bob\" is not an administrator"},
      {"list by a non-administrator", "GET", "/admin/mirrors", kBob, "", 403,
       "User \"bob\" is not an administrator"},
      {"duplicate", "POST", "/admin/mirrors", kRoot, form, 409,
       "Mirror \"https://pgxn.example.org/\" already exists"},
      {"missing field", "POST", "/admin/mirrors", kRoot,
       "uri=https%3A%2F%2Fnew.example.org%2F&email=a%40b.org&frequency=daily", 400,
       "Missing required field \"organization\"\nMissing required field \"location\"\n"
       "Missing required field \"timezone\"\nMissing required field \"bandwidth\"\n"
       "Missing required field \"src\""},
      {"invalid field", "POST", "/admin/mirrors", kRoot,
       absl::StrCat(form.substr(0, form.find("&email")), "&email=nobody",
                    form.substr(form.find("&frequency"))),
       400, "Invalid field \"email\": \"nobody\" is not an email address"},
      {"update without uri", "PUT", "/admin/mirrors", kRoot, "location=Zurich", 400,
       "Missing required query parameter \"uri\""},
      {"update of an unknown mirror", "PUT", "/admin/mirrors" + unknown, kRoot, "location=Zurich",
       404, "Mirror \"https://other.example.org/\" does not exist"},
      {"invalid update", "PUT", "/admin/mirrors" + query, kRoot, "uri=ftp%3A%2F%2Fx", 400,
       "Invalid field \"uri\": \"ftp://x\" is not an http or https URL"},
      {"update by a non-administrator", "PUT", "/admin/mirrors" + query, kCarol, "location=Zurich",
       403, "User \"carol\" is not an administrator"},
      {"removal of an unknown mirror", "DELETE", "/admin/mirrors" + unknown, kRoot, "", 404,
       "Mirror \"https://other.example.org/\" does not exist"},
      {"removal without uri", "DELETE", "/admin/mirrors", kRoot, "", 400,
       "Missing required query parameter \"uri\""},
      {"removal without credentials", "DELETE", "/admin/mirrors" + query, kAnonymous, "", 401,
       "Authorization required"},
  };
  for (const auto& c : refusals) {
    ExpectRefused(
        c.name, [&] { return Call(c.method, c.path, c.as, c.body, kForm); }, c.status, c.message);
  }

  HttpResult updated =
      Call("PUT", "/admin/mirrors" + query, kRoot, "location=Zurich&notes=", kForm);
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.body, "Mirror \"https://pgxn.example.org/\" updated");
  ASSERT_TRUE(MirrorCaughtUp());
  Json mirrors = Json::parse(mirror_->Get("/meta/mirrors.json").body, nullptr, false);
  ASSERT_EQ(mirrors.size(), 1u);
  EXPECT_EQ(mirrors[0]["location"], "Zurich");
  EXPECT_FALSE(mirrors[0].contains("notes"));

  HttpResult removed = Call("DELETE", "/admin/mirrors" + query, kRoot, "", kAcceptJson);
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(Json::parse(removed.body, nullptr, false)["message"],
            "Mirror \"https://pgxn.example.org/\" removed");
  ASSERT_TRUE(MirrorCaughtUp());
  EXPECT_EQ(Json::parse(mirror_->Get("/meta/mirrors.json").body), Json::array());
  EXPECT_EQ(Json::parse(mirror_->Get("/stats/summary.json").body)["mirrors"], 0);
}

TEST_F(AdminTest, RebuildReportsDamageAndFixesIt) {
  Upload(kBob, MakeMeta("checked", "1.0.0", "Checked"));
  const std::string data = dir_->path() + "/origin";
  RunResult clean = RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", data});
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_TRUE(absl::StrContains(clean.output, " 0 differences")) << clean.output;

  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("UPDATE tree_files SET sha256 = (SELECT sha256 FROM tree_files WHERE"
                         " path = 'index.json') WHERE path = 'dist/checked.json'")
                  .ok());
  ASSERT_TRUE(conn->Exec("DELETE FROM tree_files WHERE path = 'extension/checked.json'").ok());
  RunResult damaged = RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", data});
  EXPECT_EQ(damaged.exit_code, 1) << damaged.output;
  EXPECT_TRUE(
      absl::StrContains(damaged.output,
                        "different dist/checked.json: stored content differs from the rows\n"
                        "missing extension/checked.json\n"))
      << damaged.output;

  const uint64_t seq = origin_->AppliedSeq();
  RunResult fixed = RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", data, "--fix"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_TRUE(absl::StrContains(fixed.output, "The tree now matches the rows")) << fixed.output;
  // The correction is an event like any other: the mirror gets it.
  ASSERT_TRUE(mirror_->WaitForSeq(seq + 1));
  EXPECT_EQ(mirror_->Get("/dist/checked.json").body, origin_->Get("/dist/checked.json").body);
  EXPECT_EQ(Json::parse(mirror_->Get("/dist/checked.json").body)["name"], "checked");
  EXPECT_EQ(RunProgram({PgxndPath(), "origin", "rebuild", "--data-dir", data}).exit_code, 0);

  RunResult usage = RunProgram({PgxndPath(), "origin", "rebuild"});
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  EXPECT_TRUE(absl::StrContains(usage.output, "--data-dir is required")) << usage.output;
}

}  // namespace
}  // namespace pgxn::testing
