// The Manager's account endpoints on a real origin: registration, moderation,
// password links, password changes, profiles, throttled logins, and the
// operator commands beside them (pgxnd user ..., pgxnd mail list).
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

constexpr char kAdmin[] = "root";
constexpr char kAdminPassword[] = "root password!";

std::string Basic(const std::string& user, const std::string& password) {
  return "Authorization: Basic " + absl::Base64Escape(user + ":" + password);
}

class AccountTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    admin_added_ =
        RunProgram({PgxndPath(), "user", "add", "--data-dir", dir_->path() + "/origin", kAdmin,
                    "--email", "root@example.com", "--name", "Root", "--admin", "--password-stdin"},
                   std::string(kAdminPassword) + "\n")
            .exit_code == 0;
    // The "mail server" appends every message it is handed to a file.
    origin_ = Node::Start("origin", dir_->path() + "/origin",
                          {"--unsafe-no-fsync", "--public-url", "https://pgxn.example.org",
                           "--sendmail", "tee -a " + dir_->path() + "/outbox"})
                  .release();
  }
  static void TearDownTestSuite() {
    delete origin_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(admin_added_);
    ASSERT_NE(origin_, nullptr);
  }

  HttpResult Post(const std::string& path, const std::string& body,
                  std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/x-www-form-urlencoded");
    return HttpPost(origin_->url() + path, body, headers);
  }
  HttpResult PostJson(const std::string& path, const nlohmann::json& body,
                      std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/json");
    headers.push_back("Accept: application/json");
    return HttpPost(origin_->url() + path, body.dump(), headers);
  }

  // Registers, activates and sets a password through the mailed link.
  void MakeActive(const std::string& nick, const std::string& password) {
    HttpResult registered = PostJson("/account/register", {{"nickname", nick},
                                                           {"full_name", "Person " + nick},
                                                           {"email", nick + "@example.com"},
                                                           {"why", "I write extensions"}});
    ASSERT_EQ(registered.status, 201) << registered.body;
    HttpResult activated =
        Post("/admin/user/" + nick + "/status", "status=active", {Basic(kAdmin, kAdminPassword)});
    ASSERT_EQ(activated.status, 200) << activated.body;
    const std::string token = LatestToken(nick + "@example.com");
    ASSERT_FALSE(token.empty());
    HttpResult reset =
        Post("/account/reset/" + token, "new_pass=" + password + "&verify=" + password);
    ASSERT_EQ(reset.status, 200) << reset.body;
  }

  // The reset token in the newest mail to `address`, from `pgxnd mail list`.
  std::string LatestToken(const std::string& address) {
    RunResult mails = RunProgram({PgxndPath(), "mail", "list", "--data-dir",
                                  dir_->path() + "/origin", "--json", "--limit", "100"});
    nlohmann::json list = nlohmann::json::parse(mails.output, nullptr, false);
    if (!list.is_array()) return "";
    for (const nlohmann::json& mail : list) {
      if (mail["to"] != address) continue;
      const std::string body = mail["body"];
      const std::string marker = "https://pgxn.example.org/account/reset/";
      size_t at = body.find(marker);
      if (at == std::string::npos) continue;
      return body.substr(at + marker.size(), 64);
    }
    return "";
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static bool admin_added_;
};

base::TempDir* AccountTest::dir_ = nullptr;
Node* AccountTest::origin_ = nullptr;
bool AccountTest::admin_added_ = false;

TEST_F(AccountTest, RegistrationModerationAndFirstPassword) {
  HttpResult registered = Post("/account/register",
                               "nickname=newbie&full_name=New+Bie&email=newbie%40example.com"
                               "&uri=https%3A%2F%2Fnewbie.example.com%2F&why=I+write+extensions");
  ASSERT_EQ(registered.status, 201) << registered.body;
  EXPECT_TRUE(absl::StrContains(registered.body, "Thanks for registering, newbie"));
  // Admins were told: recorded, and handed to the --sendmail command.
  RunResult mails =
      RunProgram({PgxndPath(), "mail", "list", "--data-dir", dir_->path() + "/origin"});
  EXPECT_TRUE(absl::StrContains(mails.output, "New PGXN account request: newbie")) << mails.output;
  EXPECT_TRUE(absl::StrContains(mails.output, "https://pgxn.example.org/admin/moderate"));
  EXPECT_TRUE(absl::StrContains(mails.output, "(sent)")) << mails.output;
  const std::string outbox = ReadWholeFile(dir_->path() + "/outbox");
  EXPECT_TRUE(absl::StrContains(outbox, "To: root@example.com\n")) << outbox;
  EXPECT_TRUE(absl::StrContains(outbox, "Subject: New PGXN account request: newbie\n")) << outbox;

  HttpResult queue = HttpGet(origin_->url() + "/admin/moderate",
                             {Basic(kAdmin, kAdminPassword), "Accept: application/json"});
  ASSERT_EQ(queue.status, 200) << queue.body;
  nlohmann::json pending = nlohmann::json::parse(queue.body);
  bool listed = false;
  for (const auto& account : pending) listed |= account["nickname"] == "newbie";
  EXPECT_TRUE(listed) << queue.body;
  EXPECT_EQ(origin_->Get("/user/newbie.json").status, 404);

  HttpResult activated = PostJson("/admin/user/newbie/status", {{"status", "active"}},
                                  {Basic(kAdmin, kAdminPassword)});
  ASSERT_EQ(activated.status, 200) << activated.body;
  EXPECT_EQ(nlohmann::json::parse(activated.body)["status"], "active");
  HttpResult user_file = origin_->Get("/user/newbie.json");
  ASSERT_EQ(user_file.status, 200);
  EXPECT_EQ(nlohmann::json::parse(user_file.body)["uri"], "https://newbie.example.com/");

  const std::string token = LatestToken("newbie@example.com");
  ASSERT_EQ(token.size(), 64u);
  HttpResult form = HttpGet(origin_->url() + "/account/reset/" + token);
  EXPECT_EQ(form.status, 200);
  EXPECT_TRUE(absl::StrContains(form.body, "name=\"new_pass\"")) << form.body;
  HttpResult mismatch = Post("/account/reset/" + token, "new_pass=abcdefgh1&verify=abcdefgh2");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(mismatch.body, "Passwords do not match");
  HttpResult reset =
      Post("/account/reset/" + token, "new_pass=newbies+secret&verify=newbies+secret");
  ASSERT_EQ(reset.status, 200) << reset.body;
  HttpResult reused = Post("/account/reset/" + token, "new_pass=other+secret&verify=other+secret");
  EXPECT_EQ(reused.status, 410);
  EXPECT_EQ(reused.body, "This password reset link has already been used");
  HttpResult unknown =
      Post("/account/reset/" + std::string(64, 'a'), "new_pass=other+secret&verify=other+secret");
  EXPECT_EQ(unknown.status, 404);

  // The new password works for uploads.
  UploadResult upload =
      UploadWithCurl(origin_->url(), "newbie", "newbies secret",
                     MakeDistZip(MakeMeta("newbiedist", "1.0.0", "x"), {}), "n.zip", dir_->path());
  EXPECT_EQ(upload.status, 200) << upload.body;
}

TEST_F(AccountTest, RegistrationErrors) {
  const struct {
    std::string body;
    int status;
    std::string message;
  } cases[] = {
      {"nickname=Bad+Nick&full_name=X&email=x%40example.com&why=because", 400,
       "Field nickname: \"Bad Nick\" is invalid"},
      {"nickname=okay&full_name=X&email=nope&why=because", 400,
       "Field email: \"nope\" is not an email address"},
      {"nickname=okay&full_name=X&email=x%40example.com&uri=ftp%3A%2F%2Fx&why=because", 400,
       "Field uri: \"ftp://x\" is not an http or https URL"},
      {"nickname=okay&full_name=X&email=x%40example.com&why=hi", 400, "Field why"},
      {"nickname=okay&email=x%40example.com&why=because", 400, "Field full_name: required"},
      {"nickname=root&full_name=X&email=x%40example.com&why=because", 409,
       "Nickname \"root\" is already taken"},
      {"nickname=okay&full_name=X&email=ROOT%40example.com&why=because", 409,
       "Email \"ROOT@example.com\" is already registered"},
  };
  for (const auto& c : cases) {
    HttpResult result = Post("/account/register", c.body);
    EXPECT_EQ(result.status, c.status) << c.body << ": " << result.body;
    EXPECT_TRUE(absl::StartsWith(result.body, c.message)) << c.body << ": " << result.body;
  }
  HttpResult bad_json = HttpPost(origin_->url() + "/account/register", "{\"nickname\": [",
                                 {"Content-Type: application/json"});
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.body, "Bad request: body is not valid JSON");
  // Forms are small: a large body is refused before it is read.
  HttpResult huge = Post("/account/register", std::string(2 << 20, 'x'));
  EXPECT_EQ(huge.status, 413);
  EXPECT_TRUE(absl::StartsWith(huge.body, "Request body too large: 2097152 bytes")) << huge.body;
}

TEST_F(AccountTest, ModerationIsForAdminsOnly) {
  MakeActive("plain", "plain password");
  HttpResult as_user =
      Post("/admin/user/root/status", "status=inactive", {Basic("plain", "plain password")});
  EXPECT_EQ(as_user.status, 403);
  EXPECT_EQ(as_user.body, "User \"plain\" is not an administrator");
  HttpResult list = HttpGet(origin_->url() + "/admin/moderate", {Basic("plain", "plain password")});
  EXPECT_EQ(list.status, 403);
  HttpResult anonymous = Post("/admin/user/plain/status", "status=inactive");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.Header("www-authenticate"), "Basic realm=\"PGXN Users Only\"");
  HttpResult self =
      Post("/admin/user/root/status", "status=inactive", {Basic(kAdmin, kAdminPassword)});
  EXPECT_EQ(self.status, 403);
  EXPECT_EQ(self.body, "Administrators cannot change their own status");
  HttpResult bad =
      Post("/admin/user/plain/status", "status=banana", {Basic(kAdmin, kAdminPassword)});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "Field status: \"banana\" is not one of active, inactive, deleted");
  HttpResult missing =
      Post("/admin/user/ghost/status", "status=active", {Basic(kAdmin, kAdminPassword)});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "User \"ghost\" does not exist");
  // A suspended account can no longer log in.
  HttpResult suspended =
      Post("/admin/user/plain/status", "status=inactive", {Basic(kAdmin, kAdminPassword)});
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_EQ(HttpGet(origin_->url() + "/account", {Basic("plain", "plain password")}).status, 401);
}

TEST_F(AccountTest, ForgottenAndChangedPasswords) {
  MakeActive("forgetful", "first password");
  HttpResult forgotten = Post("/account/forgotten", "who=forgetful%40example.com");
  EXPECT_EQ(forgotten.status, 200) << forgotten.body;
  HttpResult stranger = Post("/account/forgotten", "who=nobody");
  EXPECT_EQ(stranger.status, 200);
  EXPECT_EQ(stranger.body, forgotten.body) << "no way to tell who has an account";
  EXPECT_EQ(Post("/account/forgotten", "who=").status, 400);
  const std::string token = LatestToken("forgetful@example.com");
  ASSERT_EQ(
      Post("/account/reset/" + token, "new_pass=second+password&verify=second+password").status,
      200);

  HttpResult wrong_old =
      Post("/account/password", "old_pass=nope&new_pass=third+password&new_pass2=third+password",
           {Basic("forgetful", "second password")});
  EXPECT_EQ(wrong_old.status, 403);
  EXPECT_EQ(wrong_old.body, "The old password is wrong");
  HttpResult too_short =
      Post("/account/password", "old_pass=second+password&new_pass=short&new_pass2=short",
           {Basic("forgetful", "second password")});
  EXPECT_EQ(too_short.status, 400);
  EXPECT_EQ(too_short.body, "Password must be at least 8 characters long");
  HttpResult changed = Post("/account/password",
                            "old_pass=second+password&new_pass=third+password"
                            "&new_pass2=third+password",
                            {Basic("forgetful", "second password")});
  EXPECT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(HttpGet(origin_->url() + "/account", {Basic("forgetful", "second password")}).status,
            401);
  EXPECT_EQ(HttpGet(origin_->url() + "/account", {Basic("forgetful", "third password")}).status,
            200);
}

TEST_F(AccountTest, ProfileUpdatesPublishTheUserFile) {
  MakeActive("profiled", "profile password");
  const uint64_t before = origin_->AppliedSeq();
  HttpResult updated = PostJson("/account", {{"full_name", "Pro Filed"}, {"twitter", "@profiled"}},
                                {Basic("profiled", "profile password")});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(nlohmann::json::parse(updated.body)["full_name"], "Pro Filed");
  EXPECT_EQ(origin_->AppliedSeq(), before + 1);
  nlohmann::json file = nlohmann::json::parse(origin_->Get("/user/profiled.json").body);
  EXPECT_EQ(file["name"], "Pro Filed");
  EXPECT_EQ(file["twitter"], "profiled");
  HttpResult bad = Post("/account", "email=broken", {Basic("profiled", "profile password")});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "Field email: \"broken\" is not an email address");
}

// A page on another site can make an author's browser post to the Manager,
// and the browser adds the Basic credentials it keeps for the origin: the
// browser's own headers about where the request comes from decide.
TEST_F(AccountTest, CrossSiteRequestsAreRefusedWhateverTheirCredentials) {
  MakeActive("forged", "forged password");
  const uint64_t before = origin_->AppliedSeq();
  const std::string credentials = Basic("forged", "forged password");
  for (const std::vector<std::string>& from :
       {std::vector<std::string>{"Sec-Fetch-Site: cross-site", "Origin: https://evil.example"},
        std::vector<std::string>{"Sec-Fetch-Site: same-site"},
        std::vector<std::string>{"Origin: https://evil.example"},
        std::vector<std::string>{"Origin: null"}}) {
    std::vector<std::string> headers = from;
    headers.push_back(credentials);
    HttpResult profile = Post("/account", "full_name=Forged", headers);
    EXPECT_EQ(profile.status, 403) << from[0] << ": " << profile.body;
    EXPECT_TRUE(absl::StartsWith(profile.body, "Cross-origin request refused: ")) << profile.body;
    EXPECT_EQ(profile.Header("cache-control"), "no-store");
    HttpResult password =
        Post("/account/password",
             "old_pass=forged%20password&new_pass=takenover1&new_pass2=takenover1", headers);
    EXPECT_EQ(password.status, 403) << from[0] << ": " << password.body;
  }
  EXPECT_EQ(origin_->AppliedSeq(), before);
  EXPECT_EQ(nlohmann::json::parse(origin_->Get("/user/forged.json").body)["name"], "Person forged");
  EXPECT_EQ(HttpGet(origin_->url() + "/account", {credentials}).status, 200);
  // The same request from the Manager's own origin, or from a client that is
  // not a browser (no such headers), goes through.
  const std::string host = origin_->url().substr(origin_->url().find("://") + 3);
  HttpResult same = Post("/account", "full_name=Same%20Origin",
                         {credentials, "Sec-Fetch-Site: same-origin", "Origin: " + origin_->url()});
  EXPECT_EQ(same.status, 200) << same.body;
  HttpResult old_browser =
      Post("/account", "full_name=Old%20Browser", {credentials, "Origin: http://" + host});
  EXPECT_EQ(old_browser.status, 200) << old_browser.body;
  // Behind a proxy that does not pass the client's Host on, the Manager's
  // own pages still send its public URL's origin (--public-url).
  HttpResult proxied = Post("/account", "full_name=Proxied",
                            {credentials, "Origin: https://pgxn.example.org"});
  EXPECT_EQ(proxied.status, 200) << proxied.body;
  HttpResult script = Post("/account", "full_name=Script", {credentials});
  EXPECT_EQ(script.status, 200) << script.body;
  EXPECT_EQ(nlohmann::json::parse(origin_->Get("/user/forged.json").body)["name"], "Script");
}

TEST_F(AccountTest, RepeatedFailedLoginsAreThrottled) {
  MakeActive("target", "target password");
  int throttled_at = 0;
  for (int i = 1; i <= 8 && throttled_at == 0; ++i) {
    HttpResult attempt =
        HttpGet(origin_->url() + "/account", {Basic("target", "guess " + std::to_string(i))});
    if (attempt.status == 429) {
      throttled_at = i;
      EXPECT_TRUE(absl::StartsWith(attempt.body, "Too many failed logins; try again in "))
          << attempt.body;
    } else {
      EXPECT_EQ(attempt.status, 401) << attempt.body;
    }
  }
  EXPECT_EQ(throttled_at, 6) << "five failures are allowed, the sixth attempt is refused";
  // From the address that failed, even the right password waits...
  HttpResult same = HttpGet(origin_->url() + "/account", {Basic("target", "target password")});
  EXPECT_EQ(same.status, 429);
  EXPECT_FALSE(same.Header("retry-after").empty());
  // ...but the account is not locked: its owner elsewhere logs in (all of
  // 127/8 is loopback).
  RunResult elsewhere =
      RunProgram({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--interface",
                  "127.0.0.2", "--user", "target:target password", origin_->url() + "/account"});
  EXPECT_EQ(elsewhere.output, "200");
}

TEST_F(AccountTest, OperatorCommands) {
  const std::string dir = dir_->path() + "/origin";
  RunResult registered = RunProgram({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-d",
                                     "nickname=opsy&full_name=Op+Sy&email=opsy%40example.com"
                                     "&why=testing+operators",
                                     origin_->url() + "/account/register"});
  ASSERT_EQ(registered.output, "201");
  RunResult listed =
      RunProgram({PgxndPath(), "user", "list", "--data-dir", dir, "--status", "new"});
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(absl::StrContains(listed.output,
                                "opsy\tnew\t-\topsy@example.com\tOp Sy\ttesting "
                                "operators"))
      << listed.output;
  RunResult activated =
      RunProgram({PgxndPath(), "user", "set-status", "--data-dir", dir, "opsy", "active"});
  EXPECT_EQ(activated.exit_code, 0) << activated.output;
  EXPECT_EQ(origin_->Get("/user/opsy.json").status, 200);
  RunResult promoted =
      RunProgram({PgxndPath(), "user", "set-admin", "--data-dir", dir, "opsy", "true"});
  EXPECT_EQ(promoted.exit_code, 0) << promoted.output;
  RunResult link = RunProgram({PgxndPath(), "user", "reset-password", "--data-dir", dir, "opsy"});
  EXPECT_EQ(link.exit_code, 0) << link.output;
  EXPECT_TRUE(absl::StartsWith(link.output, "https://pgxn.example.org/account/reset/"))
      << link.output;
  RunResult set = RunProgram(
      {PgxndPath(), "user", "reset-password", "--data-dir", dir, "opsy", "--password-stdin"},
      "operator set password\n");
  EXPECT_EQ(set.exit_code, 0) << set.output;
  HttpResult as_admin =
      HttpGet(origin_->url() + "/admin/moderate", {Basic("opsy", "operator set password")});
  EXPECT_EQ(as_admin.status, 200) << as_admin.body;
  RunResult unknown =
      RunProgram({PgxndPath(), "user", "set-status", "--data-dir", dir, "ghost", "active"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(unknown.output, "User \"ghost\" does not exist")) << unknown.output;
}

}  // namespace
}  // namespace pgxn::testing
