// Accounts and releases on a real origin under abuse (issue 14): password
// guessing that must not lock the owner out, credentials checked before an
// upload's body is read, the login limit under concurrent guesses, rate
// limits on registrations and reset requests, single-mailbox emails, the
// distribution-name takeover, and no database text in any answer.
//
// "Another address": every client here is on loopback, and all of 127/8 is
// loopback on Linux, so the attacker's requests leave from 127.0.0.2 and
// others (a raw socket bound before connecting, or curl --interface).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

constexpr char kAdmin[] = "root";
constexpr char kAdminPassword[] = "root password!";

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  std::string error;

  std::string Header(absl::string_view name) const {
    for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
      size_t colon = line.find(':');
      if (colon != absl::string_view::npos && absl::EqualsIgnoreCase(line.substr(0, colon), name)) {
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
    return "";
  }
};

// Sends `request` (a whole HTTP/1.1 request, or only its header) to
// 127.0.0.1:`port` from `source` and reads the answer until the server closes
// the connection. The receive timeout is only a liveness bound, so a server
// that waits for a body the client never sends fails the test instead of
// hanging it.
RawResponse SendFrom(const std::string& source, int port, const std::string& request) {
  RawResponse response;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    response.error = "socket failed";
    return response;
  }
  timeval timeout{120, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0) {
    response.error = absl::StrCat("cannot connect from ", source);
    ::close(fd);
    return response;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[16384];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) {
    response.error = absl::StrCat("no complete response: ", raw.substr(0, 200));
    return response;
  }
  response.head = raw.substr(0, end);
  response.body = raw.substr(end + 4);
  std::vector<std::string> words = absl::StrSplit(response.head, ' ');
  if (words.size() < 2 || !absl::SimpleAtoi(words[1], &response.status)) {
    response.error = absl::StrCat("bad status line: ", response.head.substr(0, 80));
  }
  return response;
}

std::string BasicHeader(const std::string& user, const std::string& password) {
  return absl::StrCat("Authorization: Basic ", absl::Base64Escape(user + ":" + password), "\r\n");
}

std::string Get(const std::string& path, const std::string& extra_headers = "") {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n",
                      extra_headers, "\r\n");
}

std::string PostForm(const std::string& path, const std::string& body,
                     const std::string& extra_headers = "") {
  return absl::StrCat("POST ", path,
                      " HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ",
                      body.size(), "\r\n", extra_headers, "\r\n", body);
}

// Whether `text` shows anything of PostgreSQL's or libpq's own error text.
bool HasDatabaseText(const std::string& text) {
  for (const char* marker : {"ERROR", "invalid byte sequence", "UTF8", "SQLSTATE", "SELECT",
                             "Postgres", "violates", "relation"}) {
    if (absl::StrContains(text, marker)) return true;
  }
  return false;
}

class AccountAbuseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    const std::string data = dir_->path() + "/origin";
    setup_ok_ = RunProgram({PgxndPath(), "user", "add", "--data-dir", data, kAdmin, "--email",
                            "root@example.com", "--name", "Root", "--admin", "--password-stdin"},
                           std::string(kAdminPassword) + "\n")
                    .exit_code == 0;
    for (const char* user : {"alice", "bob", "carol", "mallory", "dave"}) {
      setup_ok_ = setup_ok_ && AddUser(data, user, std::string(user) + " password");
    }
    origin_ = Node::Start("origin", data,
                          {"--unsafe-no-fsync", "--public-url", "https://pgxn.example.org",
                           "--registrations-per-hour", "3", "--reset-requests-per-hour", "3"})
                  .release();
  }
  static void TearDownTestSuite() {
    delete origin_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(setup_ok_);
    ASSERT_NE(origin_, nullptr);
  }

  int port() const { return origin_->http_port(); }

  // The mails to `address`, from `pgxnd mail list`.
  std::vector<nlohmann::json> MailsTo(const std::string& address) {
    RunResult mails = RunProgram({PgxndPath(), "mail", "list", "--data-dir",
                                  dir_->path() + "/origin", "--json", "--limit", "1000"});
    std::vector<nlohmann::json> found;
    nlohmann::json list = nlohmann::json::parse(mails.output, nullptr, false);
    if (!list.is_array()) return found;
    for (const nlohmann::json& mail : list) {
      if (mail["to"] == address) found.push_back(mail);
    }
    return found;
  }

  // The value of the series `name{role="origin"}` in /metrics; -1 if absent.
  double Metric(const std::string& name) {
    HttpResult metrics = origin_->Get("/metrics");
    for (absl::string_view line : absl::StrSplit(metrics.body, '\n')) {
      if (absl::StartsWith(line, absl::StrCat(name, "{"))) {
        double value = -1;
        if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) return value;
      }
    }
    return -1;
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static bool setup_ok_;
};

base::TempDir* AccountAbuseTest::dir_ = nullptr;
Node* AccountAbuseTest::origin_ = nullptr;
bool AccountAbuseTest::setup_ok_ = false;

TEST_F(AccountAbuseTest, TheOwnerReleasesWhileAnAttackerKeepsGuessing) {
  const double attacks_before = Metric("pgxn_login_attacks_total");
  int refused = 0;
  for (int i = 0; i < 12; ++i) {
    RawResponse guess = SendFrom("127.0.0.2", port(),
                                 Get("/account", BasicHeader("alice", absl::StrCat("guess ", i))));
    ASSERT_TRUE(guess.error.empty()) << guess.error;
    if (i < 5) {
      EXPECT_EQ(guess.status, 401) << i << ": " << guess.body;
    } else {
      // Past five failures the attacker's address waits, with Retry-After.
      EXPECT_EQ(guess.status, 429) << i << ": " << guess.body;
      EXPECT_TRUE(absl::StartsWith(guess.body, "Too many failed logins; try again in "))
          << guess.body;
      int64_t seconds = 0;
      EXPECT_TRUE(absl::SimpleAtoi(guess.Header("retry-after"), &seconds)) << guess.head;
      EXPECT_GT(seconds, 0);
      ++refused;
    }
    if (i % 4 == 3) {
      // The owner, from their own address, is never refused meanwhile.
      UploadResult upload =
          UploadWithCurl(origin_->url(), "alice", "alice password",
                         MakeDistZip(MakeMeta("alicedist", absl::StrCat("1.0.", i), "Alice's"), {}),
                         "alicedist.zip", dir_->path());
      EXPECT_EQ(upload.status, 200) << i << ": " << upload.body;
    }
  }
  EXPECT_EQ(refused, 7);
  RawResponse owner =
      SendFrom("127.0.0.1", port(), Get("/account", BasicHeader("alice", "alice password")));
  EXPECT_EQ(owner.status, 200) << owner.body;

  // Reported, not locked: the log, /metrics, and one mail to the owner.
  EXPECT_TRUE(absl::StrContains(origin_->Log(), "Login attack on account \"alice\""))
      << origin_->Log();
  EXPECT_EQ(Metric("pgxn_login_attacks_total"), attacks_before + 1);
  EXPECT_GE(Metric("pgxn_accounts_under_attack"), 1);
  EXPECT_GE(Metric("pgxn_logins_throttled_total"), 7);
  std::vector<nlohmann::json> mails = MailsTo("alice@example.com");
  int warnings = 0;
  for (const nlohmann::json& mail : mails) {
    if (mail["subject"] == "Failed logins to your PGXN account") {
      ++warnings;
      EXPECT_TRUE(absl::StrContains(mail["body"].get<std::string>(), "Your account is not locked"))
          << mail;
    }
  }
  EXPECT_EQ(warnings, 1);
  // More guessing is the same attack: no second mail.
  SendFrom("127.0.0.3", port(), Get("/account", BasicHeader("alice", "another guess")));
  int after = 0;
  for (const nlohmann::json& mail : MailsTo("alice@example.com")) {
    after += mail["subject"] == "Failed logins to your PGXN account";
  }
  EXPECT_EQ(after, 1);
}

TEST_F(AccountAbuseTest, BogusCredentialsGet401BeforeTheBody) {
  // 50 MB announced, none sent: the answer must come from the header alone.
  const std::string head = absl::StrCat(
      "POST /upload HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n"
      "Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: ",
      50'000'000, "\r\nX-Requested-With: XMLHttpRequest\r\n");
  const struct {
    std::string name;
    std::string credentials;
  } cases[] = {
      {"wrong password", BasicHeader("dave", "not the password")},
      {"unknown user", BasicHeader("nobody-here", "whatever it is")},
      {"malformed header", "Authorization: Basic !!!\r\n"},
      {"no credentials", ""},
  };
  for (const auto& c : cases) {
    RawResponse response = SendFrom("127.0.0.4", port(), absl::StrCat(head, c.credentials, "\r\n"));
    ASSERT_TRUE(response.error.empty()) << c.name << ": " << response.error;
    EXPECT_EQ(response.status, 401) << c.name << ": " << response.head;
    EXPECT_EQ(response.body, "Authorization required") << c.name;
    EXPECT_EQ(response.Header("www-authenticate"), "Basic realm=\"PGXN Users Only\"") << c.name;
    EXPECT_EQ(response.Header("cache-control"), "no-store") << c.name;
  }
  // Every route that needs an account is screened the same way.
  for (const std::string& request :
       {absl::StrCat("POST /account HTTP/1.1\r\nHost: o\r\nConnection: close\r\n"
                     "Content-Length: 900000\r\n",
                     BasicHeader("dave", "wrong again"), "\r\n"),
        absl::StrCat("DELETE /admin/distributions/x/1.0.0 HTTP/1.1\r\nHost: o\r\n"
                     "Connection: close\r\nContent-Length: 900000\r\n\r\n")}) {
    RawResponse response = SendFrom("127.0.0.4", port(), request);
    EXPECT_EQ(response.status, 401) << request << response.head;
  }
}

TEST_F(AccountAbuseTest, ConcurrentWrongPasswordsDoNotPassTheLimit) {
  std::atomic<int> unauthorized{0}, throttled{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      RawResponse response = SendFrom(
          "127.0.0.5", port(), Get("/account", BasicHeader("carol", absl::StrCat("guess ", i))));
      if (response.status == 401) {
        ++unauthorized;
      } else if (response.status == 429) {
        ++throttled;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(unauthorized.load(), 5) << "each 401 was a password checked";
  EXPECT_EQ(throttled.load(), 15);
  EXPECT_EQ(other.load(), 0);
  // Carol herself, elsewhere, is not affected.
  RawResponse owner =
      SendFrom("127.0.0.1", port(), Get("/account", BasicHeader("carol", "carol password")));
  EXPECT_EQ(owner.status, 200) << owner.body;
}

TEST_F(AccountAbuseTest, RegistrationsAndResetRequestsAreRateLimitedPerAddress) {
  for (int i = 0; i < 3; ++i) {
    RawResponse registered = SendFrom(
        "127.0.0.6", port(),
        PostForm("/account/register", absl::StrCat("nickname=spam", i, "&full_name=Spam&email=spam",
                                                   i, "%40example.com&why=I+write+extensions")));
    EXPECT_EQ(registered.status, 201) << i << ": " << registered.body;
  }
  RawResponse fourth =
      SendFrom("127.0.0.6", port(),
               PostForm("/account/register",
                        "nickname=spam9&full_name=Spam&email=spam9%40example.com&why=I+write+it"));
  EXPECT_EQ(fourth.status, 429) << fourth.body;
  EXPECT_TRUE(
      absl::StartsWith(fourth.body, "Too many registrations from your address; try again in "))
      << fourth.body;
  EXPECT_FALSE(fourth.Header("retry-after").empty()) << fourth.head;
  RawResponse elsewhere =
      SendFrom("127.0.0.7", port(),
               PostForm("/account/register",
                        "nickname=spam9&full_name=Spam&email=spam9%40example.com&why=I+write+it"));
  EXPECT_EQ(elsewhere.status, 201) << elsewhere.body;

  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(SendFrom("127.0.0.6", port(), PostForm("/account/forgotten", "who=bob")).status, 200);
  }
  RawResponse reset = SendFrom("127.0.0.6", port(), PostForm("/account/forgotten", "who=bob"));
  EXPECT_EQ(reset.status, 429) << reset.body;
  EXPECT_TRUE(absl::StartsWith(reset.body,
                               "Too many password reset requests from your address; try again in "))
      << reset.body;
}

TEST_F(AccountAbuseTest, AnEmailWithACommaIsRefused) {
  RawResponse response =
      SendFrom("127.0.0.8", port(),
               PostForm("/account/register",
                        "nickname=listy&full_name=Listy&email=a%40example.com%2Cb%40example.com"
                        "&why=I+write+extensions"));
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(response.body,
            "Field email: \"a@example.com,b@example.com\" must be a single address, not a list: "
            "remove the comma or semicolon");
  RawResponse profile = SendFrom("127.0.0.1", port(),
                                 PostForm("/account", "email=Bob+%3Cbob%40example.com%3E",
                                          BasicHeader("bob", "bob password")));
  EXPECT_EQ(profile.status, 400) << profile.body;
  EXPECT_TRUE(absl::StartsWith(profile.body,
                               "Field email: \"Bob <bob@example.com>\" must not contain spaces"))
      << profile.body;
}

TEST_F(AccountAbuseTest, ADistributionBelongsToTheOwnersOfItsExtensions) {
  UploadResult first =
      UploadWithCurl(origin_->url(), "bob", "bob password",
                     MakeDistZip(MakeMeta("bobdist", "1.0.0", "Bob's"), {}), "b.zip", dir_->path());
  ASSERT_EQ(first.status, 200) << first.body;

  // A new release of bobdist whose only extension is new and Mallory's own:
  // PGXN accepts it; here it is refused, naming the owner.
  nlohmann::json meta = MakeMeta("bobdist", "2.0.0", "Not Bob's");
  meta["provides"] = {{"mallorys", {{"file", "sql/mallorys.sql"}, {"version", "2.0.0"}}}};
  UploadResult takeover = UploadWithCurl(origin_->url(), "mallory", "mallory password",
                                         MakeDistZip(meta, {}), "m.zip", dir_->path());
  EXPECT_EQ(takeover.status, 403) << takeover.body;
  EXPECT_EQ(takeover.body,
            "Distribution \"bobdist\" belongs to the owners of the extensions its latest release "
            "\"bobdist 1.0.0\" provides (bobdist: bob): user \"mallory\" may not release it; an "
            "owner can make you a co-owner");
  nlohmann::json dist =
      nlohmann::json::parse(origin_->Get("/dist/bobdist.json").body, nullptr, false);
  EXPECT_EQ(dist["releases"]["stable"].size(), 1u) << dist;
  EXPECT_EQ(origin_->Get("/extension/mallorys.json").status, 404);

  // A co-owner may release it, and so may an administrator.
  HttpResult added = HttpPost(
      origin_->url() + "/extensions/bobdist/coowners", "nickname=mallory",
      {BasicAuthHeader("bob", "bob password"), "Content-Type: application/x-www-form-urlencoded"});
  ASSERT_EQ(added.status, 200) << added.body;
  UploadResult coowned = UploadWithCurl(origin_->url(), "mallory", "mallory password",
                                        MakeDistZip(meta, {}), "m.zip", dir_->path());
  EXPECT_EQ(coowned.status, 200) << coowned.body;
  nlohmann::json admin_meta = MakeMeta("bobdist", "3.0.0", "The admin's");
  admin_meta["provides"] = {{"rootext", {{"file", "sql/rootext.sql"}, {"version", "3.0.0"}}}};
  UploadResult by_admin = UploadWithCurl(origin_->url(), kAdmin, kAdminPassword,
                                         MakeDistZip(admin_meta, {}), "r.zip", dir_->path());
  EXPECT_EQ(by_admin.status, 200) << by_admin.body;
}

TEST_F(AccountAbuseTest, InvalidUtf8GetsNoDatabaseText) {
  const std::string admin = BasicHeader(kAdmin, kAdminPassword);
  const std::string bob = BasicHeader("bob", "bob password");
  const struct {
    std::string name;
    std::string request;
  } cases[] = {
      {"reset request", PostForm("/account/forgotten", "who=%FF")},
      {"profile", PostForm("/account", "full_name=%FF%FE", bob)},
      {"co-owner", PostForm("/extensions/bobdist/coowners", "nickname=%FF", bob)},
      {"owners", Get("/extensions/%FF/owners")},
      {"moderation", PostForm("/admin/user/%FF/status", "status=active", admin)},
      {"registration", PostForm("/account/register",
                                "nickname=utf&full_name=%FF&email=utf%40example.com&why=because")},
      {"nickname in credentials", Get("/account", BasicHeader("\xff\xfe", "bob password"))},
  };
  for (const auto& c : cases) {
    RawResponse response = SendFrom("127.0.0.9", port(), c.request);
    ASSERT_TRUE(response.error.empty()) << c.name << ": " << response.error;
    EXPECT_GE(response.status, 400) << c.name << ": " << response.body;
    EXPECT_LT(response.status, 500) << c.name << ": " << response.body;
    EXPECT_FALSE(HasDatabaseText(response.body)) << c.name << ": " << response.body;
  }
}

TEST_F(AccountAbuseTest, AccountDataIsNeverCached) {
  for (const std::string& request :
       {Get("/account", BasicHeader("dave", "dave password")),
        Get("/admin/moderate", BasicHeader(kAdmin, kAdminPassword)),
        Get("/admin/mirrors", BasicHeader(kAdmin, kAdminPassword)),
        Get("/extensions/bobdist/owners"), Get("/account/reset/abcdef")}) {
    RawResponse response = SendFrom("127.0.0.1", port(), request);
    EXPECT_LT(response.status, 500) << request << response.body;
    EXPECT_EQ(response.Header("cache-control"), "no-store") << request << response.head;
  }
}

}  // namespace
}  // namespace pgxn::testing
