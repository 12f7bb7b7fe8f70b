#include "origin/accounts/accounts.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "origin/accounts/password.h"
#include "origin/catalog/bootstrap.h"
#include "origin/publishing/publisher.h"
#include "origin/testing/test_postgres.h"

namespace pgxn::origin {
namespace {

class AccountsTest : public ::testing::Test {
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

  Registration Valid(const std::string& nickname) {
    return Registration{nickname,
                        "Test Person",
                        nickname + "@example.com",
                        "https://example.com/",
                        "@" + nickname.substr(0, 10),
                        "I maintain PostgreSQL extensions"};
  }

  std::vector<StoredMail> MailsTo(const std::string& address) {
    std::vector<StoredMail> found;
    absl::StatusOr<std::vector<StoredMail>> mails = ListMails(*conn_, 1000);
    EXPECT_TRUE(mails.ok()) << mails.status();
    if (!mails.ok()) return found;
    for (StoredMail& mail : *mails) {
      if (mail.mail.to == address) found.push_back(std::move(mail));
    }
    return found;
  }

  // The token in the newest mail to `address`.
  std::string TokenMailedTo(const std::string& address) {
    std::vector<StoredMail> mails = MailsTo(address);
    if (mails.empty()) return "";
    const std::string& body = mails.front().mail.body;
    size_t at = body.find("/account/reset/");
    if (at == std::string::npos) return "";
    at += std::string("/account/reset/").size();
    return body.substr(at, body.find('\n', at) - at);
  }

  bool UserFileExists(const std::string& nickname) {
    auto r = conn_->Exec("SELECT 1 FROM tree_files WHERE path = $1",
                         PgParams().Text("user/" + nickname + ".json"));
    return r.ok() && r->rows() == 1;
  }

  static TestPostgres* pg_;
  std::unique_ptr<PgConnection> conn_;
  const Mailer mailer_{MailOptions{}};
  const Links links_{"https://manager.example.org/"};
};

TestPostgres* AccountsTest::pg_ = nullptr;

TEST_F(AccountsTest, RegistrationValidatesEveryField) {
  const struct {
    std::string field;
    std::string value;
    std::string message;
  } cases[] = {
      {"nickname", "Bad Nick", "Field nickname: \"Bad Nick\" is invalid"},
      {"nickname", "-dash", "Field nickname"},
      {"nickname", "", "Field nickname"},
      {"nickname", std::string(64, 'a'), "Field nickname"},
      {"email", "not-an-email", "Field email: \"not-an-email\" is not an email address"},
      {"email", "a@b", "Field email"},
      {"email", "a b@example.com", "Field email"},
      {"full_name", "  ", "Field full_name: required"},
      {"uri", "ftp://example.com/",
       "Field uri: \"ftp://example.com/\" is not an http or https URL"},
      {"uri", "http://", "Field uri"},
      {"twitter", "has space", "Field twitter"},
      {"why", "hey", "Field why: tell the moderators"},
  };
  for (const auto& c : cases) {
    Registration r = Valid("valid");
    if (c.field == "nickname") r.nickname = c.value;
    if (c.field == "email") r.email = c.value;
    if (c.field == "full_name") r.full_name = c.value;
    if (c.field == "uri") r.uri = c.value;
    if (c.field == "twitter") r.twitter = c.value;
    if (c.field == "why") r.why = c.value;
    absl::StatusOr<Account> account = RegisterAccount(*conn_, r, mailer_, links_);
    ASSERT_FALSE(account.ok()) << c.field << " " << c.value;
    EXPECT_TRUE(absl::IsInvalidArgument(account.status())) << account.status();
    EXPECT_TRUE(absl::StartsWith(account.status().message(), c.message)) << account.status();
  }
  EXPECT_TRUE(absl::IsNotFound(GetAccount(*conn_, "valid").status()));
}

TEST(CheckEmailTest, OneMailboxOnly) {
  for (const char* good : {"alice@example.org", "a.b+tag@sub.example.co.uk", "o'neil@example.org",
                           "jos\xc3\xa9@exampl\xc3\xa9.org", "x@a-b.example"}) {
    EXPECT_TRUE(CheckEmail(good).ok()) << good << ": " << CheckEmail(good);
  }
  const struct {
    std::string email;
    std::string message;
  } cases[] = {
      {"a@example.org,b@example.org",
       "Field email: \"a@example.org,b@example.org\" must be a single address, not a list: "
       "remove the comma or semicolon"},
      {"a@example.org;b@example.org",
       "Field email: \"a@example.org;b@example.org\" must be a "
       "single address, not a list: remove the comma or semicolon"},
      {"Alice<alice@example.org>",
       "Field email: \"Alice<alice@example.org>\" must be the address alone, such as "
       "name@example.org, without a display name, quotes, brackets or comments"},
      {"\"a\"@example.org", "Field email: \"\\\"a\\\"@example.org\" must be the address alone"},
      {"alice@example.org (Alice)",
       "Field email: \"alice@example.org (Alice)\" must not contain "
       "spaces or control characters"},
      {"a@b@example.org",
       "Field email: \"a@b@example.org\" must be a single address: it has more than one @"},
      {"nope", "Field email: \"nope\" is not an email address"},
      {"a..b@example.org",
       "Field email: \"a..b@example.org\" is not an email address: the part "
       "before the @"},
      {".a@example.org",
       "Field email: \".a@example.org\" is not an email address: the part "
       "before the @"},
      {"a@b",
       "Field email: \"a@b\" is not an email address: the part after the @ is not a "
       "domain name such as example.org"},
      {"a@-b.org", "Field email: \"a@-b.org\" is not an email address: the part after"},
      {"a@b..org", "Field email: \"a@b..org\" is not an email address: the part after"},
      {"a@b_c.org", "Field email: \"a@b_c.org\" is not an email address: the part after"},
      {std::string(65, 'a') + "@example.org", "Field email: \"aaaa"},
      {"\xff@example.org", "Field email: \"\xef\xbf\xbd@example.org\" is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    absl::Status status = CheckEmail(c.email);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.email << ": " << status;
    EXPECT_TRUE(absl::StartsWith(status.message(), c.message)) << c.email << ": " << status;
  }
}

TEST_F(AccountsTest, RegistrationCreatesANewAccountAndTellsAdmins) {
  ASSERT_TRUE(CreateActiveAccount(
                  *conn_,
                  NewAccount{"boss", "The Boss", "boss@example.com", "", "", "boss password", true},
                  TestPublishing())
                  .ok());
  const uint64_t seq = ReadFeedHead(*conn_)->seq;
  absl::StatusOr<Account> account = RegisterAccount(*conn_, Valid("newbie"), mailer_, links_);
  ASSERT_TRUE(account.ok()) << account.status();
  EXPECT_EQ(account->status, AccountStatus::kNew);
  EXPECT_FALSE(account->has_password);
  EXPECT_EQ(account->twitter, "newbie") << "the @ is dropped";
  EXPECT_EQ(ReadFeedHead(*conn_)->seq, seq) << "a new account publishes nothing";
  EXPECT_FALSE(UserFileExists("newbie"));
  std::vector<StoredMail> to_boss = MailsTo("boss@example.com");
  ASSERT_FALSE(to_boss.empty());
  EXPECT_TRUE(absl::StrContains(to_boss.front().mail.subject, "newbie"));
  EXPECT_TRUE(
      absl::StrContains(to_boss.front().mail.body, "https://manager.example.org/admin/moderate"));

  absl::StatusOr<Account> same_nick = RegisterAccount(*conn_, Valid("newbie"), mailer_, links_);
  EXPECT_TRUE(absl::IsAlreadyExists(same_nick.status()));
  EXPECT_EQ(same_nick.status().message(), "Nickname \"newbie\" is already taken");
  Registration same_email = Valid("other");
  same_email.email = "NEWBIE@example.com";
  absl::StatusOr<Account> taken = RegisterAccount(*conn_, same_email, mailer_, links_);
  EXPECT_EQ(taken.status().message(), "Email \"NEWBIE@example.com\" is already registered");
}

TEST_F(AccountsTest, ActivationPublishesTheUserFileAndMailsAPasswordLink) {
  ASSERT_TRUE(RegisterAccount(*conn_, Valid("carol"), mailer_, links_).ok());
  EXPECT_EQ(SetAccountStatus(*conn_, "carol", "carol", AccountStatus::kActive, mailer_, links_,
                             TestPublishing())
                .message(),
            "Administrators cannot change their own status");
  EXPECT_TRUE(absl::IsInvalidArgument(SetAccountStatus(*conn_, "boss", "carol", AccountStatus::kNew,
                                                       mailer_, links_, TestPublishing())));
  EXPECT_TRUE(absl::IsNotFound(SetAccountStatus(*conn_, "boss", "nobody", AccountStatus::kActive,
                                                mailer_, links_, TestPublishing())));
  const uint64_t seq = ReadFeedHead(*conn_)->seq;
  ASSERT_TRUE(SetAccountStatus(*conn_, "boss", "carol", AccountStatus::kActive, mailer_, links_,
                               TestPublishing())
                  .ok());
  EXPECT_EQ(ReadFeedHead(*conn_)->seq, seq + 1);
  EXPECT_TRUE(UserFileExists("carol"));
  const std::string token = TokenMailedTo("carol@example.com");
  ASSERT_EQ(token.size(), 64u);

  EXPECT_EQ(ResetPassword(*conn_, token, "short", "short").message(),
            "Password must be at least 8 characters long");
  EXPECT_EQ(ResetPassword(*conn_, token, "long enough 1", "long enough 2").message(),
            "Passwords do not match");
  ASSERT_TRUE(ResetPassword(*conn_, token, "carols password", "carols password").ok());
  absl::Status again = ResetPassword(*conn_, token, "another password", "another password");
  EXPECT_TRUE(absl::IsDeadlineExceeded(again)) << again;
  EXPECT_EQ(again.message(), "This password reset link has already been used");
  EXPECT_TRUE(
      absl::IsNotFound(ResetPassword(*conn_, std::string(64, 'f'), "abcdefgh1", "abcdefgh1")));
  // Setting the same status again changes nothing.
  ASSERT_TRUE(SetAccountStatus(*conn_, "boss", "carol", AccountStatus::kActive, mailer_, links_,
                               TestPublishing())
                  .ok());
  EXPECT_EQ(ReadFeedHead(*conn_)->seq, seq + 1);
}

TEST_F(AccountsTest, ExpiredLinksAreGone) {
  ASSERT_TRUE(CreateActiveAccount(
                  *conn_,
                  NewAccount{"dave", "Dave", "dave@example.com", "", "", "daves password", false},
                  TestPublishing())
                  .ok());
  absl::StatusOr<std::string> token = IssuePasswordToken(*conn_, "dave", absl::Hours(24));
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(conn_
                  ->Exec("UPDATE password_tokens SET expires_at = now() - interval '1 second'"
                         " WHERE nickname = 'dave'")
                  .ok());
  absl::Status expired = ResetPassword(*conn_, *token, "new password!", "new password!");
  EXPECT_TRUE(absl::IsDeadlineExceeded(expired)) << expired;
  EXPECT_EQ(expired.message(), "This password reset link has expired");
}

TEST_F(AccountsTest, ForgottenPasswordMailsActiveAccountsOnlyAndNotTooOften) {
  ASSERT_TRUE(CreateActiveAccount(
                  *conn_,
                  NewAccount{"erin", "Erin", "erin@example.com", "", "", "erins password", false},
                  TestPublishing())
                  .ok());
  EXPECT_TRUE(absl::IsInvalidArgument(RequestPasswordReset(*conn_, " ", mailer_, links_)));
  ASSERT_TRUE(RequestPasswordReset(*conn_, "ERIN@example.com", mailer_, links_).ok());
  EXPECT_EQ(MailsTo("erin@example.com").size(), 1u);
  ASSERT_TRUE(RequestPasswordReset(*conn_, "erin", mailer_, links_).ok());
  EXPECT_EQ(MailsTo("erin@example.com").size(), 1u) << "one link per minute";
  ASSERT_TRUE(RequestPasswordReset(*conn_, "nobody-here", mailer_, links_).ok());
  const std::string token = TokenMailedTo("erin@example.com");
  ASSERT_TRUE(ResetPassword(*conn_, token, "erins new password", "erins new password").ok());
  // Suspended accounts cannot reset their password.
  absl::StatusOr<std::string> later = IssuePasswordToken(*conn_, "erin", absl::Hours(1));
  ASSERT_TRUE(SetAccountStatus(*conn_, "", "erin", AccountStatus::kInactive, mailer_, links_,
                               TestPublishing())
                  .ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ResetPassword(*conn_, *later, "erins third password", "erins third password")));
}

TEST_F(AccountsTest, ChangingThePasswordNeedsTheOldOne) {
  ASSERT_TRUE(CreateActiveAccount(
                  *conn_,
                  NewAccount{"fay", "Fay", "fay@example.com", "", "", "fays password", false},
                  TestPublishing())
                  .ok());
  EXPECT_EQ(
      ChangePassword(*conn_, "fay", "wrong password", "new password1", "new password1").message(),
      "The old password is wrong");
  EXPECT_EQ(
      ChangePassword(*conn_, "fay", "fays password", "new password1", "new password2").message(),
      "Passwords do not match");
  ASSERT_TRUE(
      ChangePassword(*conn_, "fay", "fays password", "new password1", "new password1").ok());
  auto hash = conn_->Exec("SELECT password_hash FROM users WHERE nickname = 'fay'");
  EXPECT_TRUE(VerifyPassword(hash->Get(0, 0), "new password1"));
  EXPECT_TRUE(absl::StartsWith(hash->Get(0, 0), "$argon2id$"));
}

TEST_F(AccountsTest, ProfileUpdatesRewriteTheUserFile) {
  ASSERT_TRUE(
      CreateActiveAccount(*conn_,
                          NewAccount{"gus", "Gus", "gus@example.com", "https://gus.example.com/",
                                     "gus", "guss password", false},
                          TestPublishing())
          .ok());
  ProfileUpdate update;
  update.full_name = "Gus Grissom";
  update.uri = "";
  const uint64_t seq = ReadFeedHead(*conn_)->seq;
  ASSERT_TRUE(UpdateProfile(*conn_, "gus", update, TestPublishing()).ok());
  EXPECT_EQ(ReadFeedHead(*conn_)->seq, seq + 1);
  auto file = conn_->Exec(
      "SELECT convert_from(b.content, 'UTF8') FROM tree_files t JOIN blobs b USING (sha256)"
      " WHERE t.path = 'user/gus.json'");
  ASSERT_TRUE(file.ok());
  const std::string json(file->Get(0, 0));
  EXPECT_TRUE(absl::StrContains(json, "\"Gus Grissom\"")) << json;
  EXPECT_FALSE(absl::StrContains(json, "\"uri\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"twitter\": \"gus\"")) << json;
  ASSERT_TRUE(CreateActiveAccount(
                  *conn_,
                  NewAccount{"hal", "Hal", "hal@example.com", "", "", "hals password", false},
                  TestPublishing())
                  .ok());
  ProfileUpdate taken;
  taken.email = "HAL@example.com";
  EXPECT_TRUE(absl::IsAlreadyExists(UpdateProfile(*conn_, "gus", taken, TestPublishing())));
  ProfileUpdate bad;
  bad.email = "nope";
  EXPECT_TRUE(absl::IsInvalidArgument(UpdateProfile(*conn_, "gus", bad, TestPublishing())));
}

TEST_F(AccountsTest, RejectedAndSuspendedAccountsCommitWithoutAnEventWhenNoFileChanges) {
  // The stats files exist, as on a running origin.
  ASSERT_TRUE(PublishMetaFiles(*conn_, TestPublishing()).ok());
  ASSERT_TRUE(RegisterAccount(*conn_, Valid("spam"), mailer_, links_).ok());
  const uint64_t seq = ReadFeedHead(*conn_)->seq;
  ASSERT_TRUE(SetAccountStatus(*conn_, "boss", "spam", AccountStatus::kDeleted, mailer_, links_,
                               TestPublishing())
                  .ok());
  EXPECT_EQ(GetAccount(*conn_, "spam")->status, AccountStatus::kDeleted);
  EXPECT_EQ(ReadFeedHead(*conn_)->seq, seq);
  EXPECT_FALSE(UserFileExists("spam"));
}

TEST_F(AccountsTest, SuspendingAnAccountWithoutReleasesRemovesItsUserFile) {
  ASSERT_TRUE(CreateActiveAccount(
                  *conn_,
                  NewAccount{"ivy", "Ivy", "ivy@example.com", "", "", "ivys password", false},
                  TestPublishing())
                  .ok());
  ASSERT_TRUE(UserFileExists("ivy"));
  const uint64_t seq = ReadFeedHead(*conn_)->seq;
  ASSERT_TRUE(SetAccountStatus(*conn_, "boss", "ivy", AccountStatus::kInactive, mailer_, links_,
                               TestPublishing())
                  .ok());
  EXPECT_EQ(ReadFeedHead(*conn_)->seq, seq + 1);
  EXPECT_FALSE(UserFileExists("ivy"));
  ASSERT_TRUE(SetAccountStatus(*conn_, "boss", "ivy", AccountStatus::kActive, mailer_, links_,
                               TestPublishing())
                  .ok());
  EXPECT_TRUE(UserFileExists("ivy"));
}

TEST(AccountStatusTest, NamesParseBackAndOthersAreRefusedByName) {
  for (AccountStatus status : {AccountStatus::kNew, AccountStatus::kActive,
                               AccountStatus::kInactive, AccountStatus::kDeleted}) {
    EXPECT_EQ(*ParseAccountStatus(AccountStatusName(status)), status);
  }
  EXPECT_EQ(ParseAccountStatus("Active").status().message(),
            "Field status: \"Active\" is not one of new, active, inactive, deleted");
  EXPECT_EQ(ParseModerationStatus("new").status().message(),
            "Field status: \"new\" is not one of active, inactive, deleted");
  EXPECT_EQ(*ParseModerationStatus("deleted"), AccountStatus::kDeleted);
}

}  // namespace
}  // namespace pgxn::origin
