#include "origin/accounts/accounts.h"

#include <sodium.h>

#include <regex>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "base/quote.h"
#include "base/utf8.h"
#include "origin/accounts/password.h"
#include "origin/catalog/catalog.h"

namespace pgxn::origin {
namespace {

constexpr size_t kMinWhyChars = 5;
constexpr size_t kMaxFieldBytes = 1024;
constexpr absl::Duration kResetMailInterval = absl::Minutes(1);

bool HasControlOrSpace(absl::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool HasControl(absl::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

const char kAccountColumns[] =
    "nickname, full_name, email, coalesce(uri, ''), coalesce(twitter, ''), status, why, is_admin,"
    " password_hash IS NOT NULL, (extract(epoch from created_at) * 1000000)::bigint";

Account ReadAccount(const PgResult& r, int row) {
  Account account;
  account.nickname = r.GetString(row, 0);
  account.full_name = r.GetString(row, 1);
  account.email = r.GetString(row, 2);
  account.uri = r.GetString(row, 3);
  account.twitter = r.GetString(row, 4);
  // The table's CHECK allows only the four names.
  account.status = ParseAccountStatus(r.Get(row, 5)).value_or(AccountStatus::kInactive);
  account.why = r.GetString(row, 6);
  account.is_admin = r.GetBool(row, 7);
  account.has_password = r.GetBool(row, 8);
  account.created_at_us = r.GetInt(row, 9);
  return account;
}

std::string TwitterHandle(absl::string_view twitter) {
  absl::ConsumePrefix(&twitter, "@");
  return std::string(twitter);
}

// AlreadyExists naming what is taken, if the nickname or email is.
absl::Status CheckAvailable(PgConnection& conn, absl::string_view nickname, absl::string_view email,
                            absl::string_view except = "") {
  auto taken = conn.Exec(
      "SELECT nickname = $1 FROM users WHERE (nickname = $1 OR pgxn_lower(email) = pgxn_lower($2))"
      " AND nickname <> $3",
      PgParams().Text(nickname).Text(email).Text(except));
  if (!taken.ok()) return taken.status();
  for (int row = 0; row < taken->rows(); ++row) {
    if (taken->GetBool(row, 0)) {
      return absl::AlreadyExistsError(absl::StrCat("Nickname \"", nickname, "\" is already taken"));
    }
  }
  if (taken->rows() > 0) {
    return absl::AlreadyExistsError(absl::StrCat("Email \"", email, "\" is already registered"));
  }
  return absl::OkStatus();
}

// The user file, which belongs in the tree while the account is active or has
// releases (catalog.h). Its events change the stats, which count active
// accounts.
absl::StatusOr<std::vector<FileChange>> UserFiles(PgConnection& conn, absl::string_view nickname) {
  absl::StatusOr<bool> belongs = UserFileBelongs(conn, nickname);
  if (!belongs.ok()) return belongs.status();
  if (!*belongs) return std::vector<FileChange>{FileChange{UserJsonPath(nickname), "", "", true}};
  absl::StatusOr<FileChange> user_file = RenderUserFile(conn, nickname);
  if (!user_file.ok()) return user_file.status();
  return std::vector<FileChange>{*std::move(user_file)};
}

std::string TokenDigest(absl::string_view token) { return base::Sha256(token); }

absl::Status RecordPasswordMail(PgConnection& conn, const Account& account, const Mailer& mailer,
                                const Links& links, bool welcome) {
  absl::StatusOr<std::string> token =
      IssuePasswordToken(conn, account.nickname, kPasswordTokenLifetime);
  if (!token.ok()) return token.status();
  const std::string hours = absl::StrCat(absl::ToInt64Hours(kPasswordTokenLifetime));
  Mail mail;
  mail.to = account.email;
  if (welcome) {
    mail.subject = "Welcome to PGXN";
    mail.body =
        absl::StrCat("Hello ", account.full_name, ",\n\nYour PGXN account \"", account.nickname,
                     "\" has been approved. Set your password here ", "(the link is valid for ",
                     hours, " hours):\n\n  ", links.ResetUrl(*token), "\n");
  } else {
    mail.subject = "Reset your PGXN password";
    mail.body = absl::StrCat("Hello ", account.full_name,
                             ",\n\nSomeone asked to reset the password of the PGXN account \"",
                             account.nickname, "\". To choose a new one, follow this link ",
                             "(valid for ", hours, " hours):\n\n  ", links.ResetUrl(*token),
                             "\n\nIf it was not you, ignore this message.\n");
  }
  return mailer.Record(conn, mail);
}

absl::Status StorePassword(PgConnection& conn, absl::string_view nickname,
                           absl::string_view password) {
  if (absl::Status s = CheckPasswordRules(password); !s.ok()) return s;
  absl::StatusOr<std::string> hash = HashPassword(password);
  if (!hash.ok()) return hash.status();
  auto updated =
      conn.Exec("UPDATE users SET password_hash = $2, updated_at = now() WHERE nickname = $1",
                PgParams().Text(nickname).Text(*hash));
  if (!updated.ok()) return updated.status();
  if (updated->affected() == 0) {
    return absl::NotFoundError(absl::StrCat("User \"", nickname, "\" does not exist"));
  }
  // Outstanding links must not outlive the password they were meant to replace.
  auto used = conn.Exec(
      "UPDATE password_tokens SET used_at = now() WHERE nickname = $1 AND used_at IS NULL",
      PgParams().Text(nickname));
  return used.status();
}

}  // namespace

std::string Links::ResetUrl(absl::string_view token) const {
  return absl::StrCat(absl::StripSuffix(public_url, "/"), "/account/reset/", token);
}

std::string Links::ModerationUrl() const {
  return absl::StrCat(absl::StripSuffix(public_url, "/"), "/admin/moderate");
}

absl::string_view AccountStatusName(AccountStatus status) {
  switch (status) {
    case AccountStatus::kNew:
      return "new";
    case AccountStatus::kActive:
      return "active";
    case AccountStatus::kInactive:
      return "inactive";
    case AccountStatus::kDeleted:
      return "deleted";
  }
  return "";
}

absl::StatusOr<AccountStatus> ParseAccountStatus(absl::string_view name) {
  for (AccountStatus status : {AccountStatus::kNew, AccountStatus::kActive,
                               AccountStatus::kInactive, AccountStatus::kDeleted}) {
    if (AccountStatusName(status) == name) return status;
  }
  return absl::InvalidArgumentError(absl::StrCat("Field status: ", base::QuoteUntrusted(name, 80),
                                                 " is not one of new, active, inactive, deleted"));
}

absl::StatusOr<AccountStatus> ParseModerationStatus(absl::string_view name) {
  absl::StatusOr<AccountStatus> status = ParseAccountStatus(name);
  if (status.ok() && *status != AccountStatus::kNew) return status;
  return absl::InvalidArgumentError(absl::StrCat("Field status: ", base::QuoteUntrusted(name, 80),
                                                 " is not one of active, inactive, deleted"));
}

absl::Status CheckNickname(absl::string_view nickname) {
  static const std::regex* pattern = new std::regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$");
  if (!std::regex_match(nickname.begin(), nickname.end(), *pattern)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Field nickname: ", base::QuoteUntrusted(nickname, 80),
        " is invalid: use 1-63 lower-case letters, digits and dashes, starting with a letter "
        "and not ending with a dash"));
  }
  return absl::OkStatus();
}

namespace {

// RFC 5322 atext, plus any byte of a non-ASCII UTF-8 character (RFC 6531).
bool IsAtext(unsigned char c) {
  return absl::ascii_isalnum(c) || c >= 0x80 ||
         absl::string_view("!#$%&'*+/=?^_`{|}~-").find(static_cast<char>(c)) !=
             absl::string_view::npos;
}

// A dot-atom: atext runs joined by single dots.
bool IsDotAtom(absl::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '.') {
      if (text[i + 1] == '.') return false;
    } else if (!IsAtext(c)) {
      return false;
    }
  }
  return true;
}

// A host name of at least two labels: letters, digits, dashes (not at either
// end of a label), or non-ASCII characters of an internationalised name.
bool IsDomain(absl::string_view domain) {
  std::vector<absl::string_view> labels = absl::StrSplit(domain, '.');
  if (labels.size() < 2 || domain.size() > 253) return false;
  for (absl::string_view label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (!absl::ascii_isalnum(u) && c != '-' && u < 0x80) return false;
    }
  }
  return true;
}

}  // namespace

absl::Status CheckEmail(absl::string_view email) {
  // One mailbox, as a person types it: mail goes to exactly one recipient,
  // so lists, display names, comments and quoted local parts are refused
  // with the reason, not parsed.
  const std::string quoted = base::QuoteUntrusted(email, 80);
  auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("Field email: ", quoted, why));
  };
  if (!base::IsValidUtf8(email)) return refuse(" is not valid UTF-8");
  if (HasControlOrSpace(email)) return refuse(" must not contain spaces or control characters");
  if (email.find_first_of(",;") != absl::string_view::npos) {
    return refuse(" must be a single address, not a list: remove the comma or semicolon");
  }
  if (email.find_first_of("<>\"()") != absl::string_view::npos) {
    return refuse(
        " must be the address alone, such as name@example.org, without a display "
        "name, quotes, brackets or comments");
  }
  const size_t at = email.find('@');
  if (at == absl::string_view::npos) return refuse(" is not an email address");
  if (email.find('@', at + 1) != absl::string_view::npos) {
    return refuse(" must be a single address: it has more than one @");
  }
  const absl::string_view local = email.substr(0, at);
  const absl::string_view domain = email.substr(at + 1);
  if (email.size() > 254 || local.size() > 64) {
    return refuse(" is too long: at most 64 bytes before the @ and 254 in all");
  }
  if (!IsDotAtom(local)) {
    return refuse(
        " is not an email address: the part before the @ has a character or dot "
        "that is not allowed there");
  }
  if (!IsDomain(domain)) {
    return refuse(
        " is not an email address: the part after the @ is not a domain name such as "
        "example.org");
  }
  return absl::OkStatus();
}

absl::Status CheckFullName(absl::string_view full_name) {
  if (absl::StripAsciiWhitespace(full_name).empty()) {
    return absl::InvalidArgumentError("Field full_name: required");
  }
  if (full_name.size() > 256 || HasControl(full_name)) {
    return absl::InvalidArgumentError(
        "Field full_name: must be at most 256 bytes without control characters");
  }
  return absl::OkStatus();
}

absl::Status CheckUri(absl::string_view uri) {
  if (uri.empty()) return absl::OkStatus();
  const bool scheme =
      absl::StartsWithIgnoreCase(uri, "http://") || absl::StartsWithIgnoreCase(uri, "https://");
  const size_t host_start = uri.find("//") + 2;
  if (!scheme || uri.size() > kMaxFieldBytes || HasControlOrSpace(uri) ||
      host_start >= uri.size() || uri[host_start] == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("Field uri: \"", uri.substr(0, 80), "\" is not an http or https URL"));
  }
  return absl::OkStatus();
}

absl::Status CheckTwitter(absl::string_view twitter) {
  static const std::regex* pattern = new std::regex("^@?[A-Za-z0-9_]{1,15}$");
  if (!twitter.empty() && !std::regex_match(twitter.begin(), twitter.end(), *pattern)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Field twitter: \"", twitter.substr(0, 80), "\" is not a Twitter handle"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Account> RegisterAccount(PgConnection& conn, const Registration& registration,
                                        const Mailer& mailer, const Links& links) {
  for (const absl::Status& s :
       {CheckNickname(registration.nickname), CheckFullName(registration.full_name),
        CheckEmail(registration.email), CheckUri(registration.uri),
        CheckTwitter(registration.twitter)}) {
    if (!s.ok()) return s;
  }
  if (base::CountUtf8Chars(absl::StripAsciiWhitespace(registration.why)) < kMinWhyChars ||
      registration.why.size() > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("Field why: tell the moderators in a sentence (",
                                                   kMinWhyChars,
                                                   " to 4096 characters) why you want an account"));
  }
  Account account;
  absl::Status status = conn.Transaction([&]() -> absl::Status {
    if (absl::Status s = CheckAvailable(conn, registration.nickname, registration.email); !s.ok()) {
      return s;
    }
    auto inserted = conn.Exec(
        absl::StrCat("INSERT INTO users (nickname, full_name, email, uri, twitter, why, status)"
                     " VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''), $6, 'new')"
                     " RETURNING ",
                     kAccountColumns),
        PgParams()
            .Text(registration.nickname)
            .Text(registration.full_name)
            .Text(registration.email)
            .Text(registration.uri)
            .Text(TwitterHandle(registration.twitter))
            .Text(registration.why));
    if (!inserted.ok()) return inserted.status();
    account = ReadAccount(*inserted, 0);
    auto admins = conn.Exec("SELECT email FROM users WHERE is_admin AND status = 'active'");
    if (!admins.ok()) return admins.status();
    for (int row = 0; row < admins->rows(); ++row) {
      Mail mail{
          admins->GetString(row, 0), absl::StrCat("New PGXN account request: ", account.nickname),
          absl::StrCat(account.full_name, " <", account.email, "> asks for the account \"",
                       account.nickname, "\"",
                       account.uri.empty() ? "" : absl::StrCat(" (", account.uri, ")"), ":\n\n  ",
                       account.why, "\n\nModerate it at ", links.ModerationUrl(), "\n")};
      if (absl::Status s = mailer.Record(conn, mail); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return account;
}

absl::StatusOr<v1::Event> CreateActiveAccount(PgConnection& conn, const NewAccount& account,
                                              const Publishing& publishing) {
  for (const absl::Status& s :
       {CheckNickname(account.nickname), CheckFullName(account.full_name),
        CheckEmail(account.email), CheckUri(account.uri), CheckTwitter(account.twitter),
        CheckPasswordRules(account.password)}) {
    if (!s.ok()) return s;
  }
  absl::StatusOr<std::string> hash = HashPassword(account.password);
  if (!hash.ok()) return hash.status();

  EventHeader header{feed::EventKind::kUser, account.nickname, "", ""};
  header.changes_stats = true;
  return Publish(
      conn, header,
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        if (absl::Status s = CheckAvailable(conn, account.nickname, account.email); !s.ok()) {
          return s;
        }
        auto inserted = conn.Exec(
            "INSERT INTO users (nickname, full_name, email, uri, twitter, password_hash, status,"
            " is_admin) VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''), $6, 'active', $7)",
            PgParams()
                .Text(account.nickname)
                .Text(account.full_name)
                .Text(account.email)
                .Text(account.uri)
                .Text(TwitterHandle(account.twitter))
                .Text(*hash)
                .Bool(account.admin));
        if (!inserted.ok()) return inserted.status();
        return UserFiles(conn, account.nickname);
      },
      publishing);
}

absl::StatusOr<Account> GetAccount(PgConnection& conn, absl::string_view nickname) {
  auto result =
      conn.Exec(absl::StrCat("SELECT ", kAccountColumns, " FROM users WHERE nickname = $1"),
                PgParams().Text(absl::AsciiStrToLower(nickname)));
  if (!result.ok()) return result.status();
  if (result->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("User \"", nickname, "\" does not exist"));
  }
  return ReadAccount(*result, 0);
}

absl::StatusOr<std::vector<Account>> ListAccounts(PgConnection& conn,
                                                  absl::optional<AccountStatus> status) {
  auto result = conn.Exec(absl::StrCat("SELECT ", kAccountColumns,
                                       " FROM users WHERE $1 = '' OR status = $1"
                                       " ORDER BY created_at, nickname"),
                          PgParams().Text(status ? AccountStatusName(*status) : ""));
  if (!result.ok()) return result.status();
  std::vector<Account> accounts;
  for (int row = 0; row < result->rows(); ++row) accounts.push_back(ReadAccount(*result, row));
  return accounts;
}

absl::Status SetAccountStatus(PgConnection& conn, absl::string_view actor,
                              absl::string_view nickname, AccountStatus status,
                              const Mailer& mailer, const Links& links,
                              const Publishing& publishing) {
  if (status == AccountStatus::kNew) return ParseModerationStatus("new").status();
  if (!actor.empty() && actor == nickname) {
    return absl::PermissionDeniedError("Administrators cannot change their own status");
  }
  absl::StatusOr<Account> account = GetAccount(conn, nickname);
  if (!account.ok()) return account.status();
  if (account->status == status) return absl::OkStatus();
  EventHeader header{feed::EventKind::kUser, actor.empty() ? "pgxnd" : std::string(actor), "", ""};
  header.skip_if_unchanged = true;
  header.changes_stats = true;
  absl::StatusOr<v1::Event> event = Publish(
      conn, header,
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        auto updated =
            conn.Exec("UPDATE users SET status = $2, updated_at = now() WHERE nickname = $1",
                      PgParams().Text(account->nickname).Text(AccountStatusName(status)));
        if (!updated.ok()) return updated.status();
        const bool activating = status == AccountStatus::kActive;
        if (activating && !account->has_password) {
          if (absl::Status s = RecordPasswordMail(conn, *account, mailer, links, true); !s.ok()) {
            return s;
          }
        }
        return UserFiles(conn, account->nickname);
      },
      publishing);
  return event.status();
}

absl::Status SetAdmin(PgConnection& conn, absl::string_view nickname, bool admin) {
  auto updated = conn.Exec("UPDATE users SET is_admin = $2, updated_at = now() WHERE nickname = $1",
                           PgParams().Text(absl::AsciiStrToLower(nickname)).Bool(admin));
  if (!updated.ok()) return updated.status();
  if (updated->affected() == 0) {
    return absl::NotFoundError(absl::StrCat("User \"", nickname, "\" does not exist"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> IssuePasswordToken(PgConnection& conn, absl::string_view nickname,
                                               absl::Duration lifetime) {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  std::string raw(32, '\0');
  randombytes_buf(raw.data(), raw.size());
  const std::string token = base::HexEncode(raw);
  auto inserted = conn.Exec(
      "INSERT INTO password_tokens (token_sha256, nickname, expires_at)"
      " VALUES ($1, $2, now() + $3::bigint * interval '1 second')",
      PgParams().Bytes(TokenDigest(token)).Text(nickname).Int(absl::ToInt64Seconds(lifetime)));
  if (!inserted.ok()) return inserted.status();
  return token;
}

absl::Status RequestPasswordReset(PgConnection& conn, absl::string_view who, const Mailer& mailer,
                                  const Links& links) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(who);
  if (trimmed.empty() || trimmed.size() > 254) {
    return absl::InvalidArgumentError("Field who: give your nickname or email address");
  }
  return conn.Transaction([&]() -> absl::Status {
    auto found = conn.Exec(
        absl::StrCat(
            "SELECT ", kAccountColumns,
            " FROM users WHERE (nickname = pgxn_lower($1) OR pgxn_lower(email) = pgxn_lower($1))"
            " AND status = 'active'"
            " AND NOT EXISTS (SELECT 1 FROM password_tokens t"
            "   WHERE t.nickname = users.nickname AND t.used_at IS NULL"
            "   AND t.created_at > now() - $2::bigint * interval '1 second')"
            " FOR UPDATE"),
        PgParams().Text(trimmed).Int(absl::ToInt64Seconds(kResetMailInterval)));
    if (!found.ok()) return found.status();
    if (found->rows() == 0) return absl::OkStatus();
    return RecordPasswordMail(conn, ReadAccount(*found, 0), mailer, links, false);
  });
}

absl::Status ResetPassword(PgConnection& conn, absl::string_view token,
                           absl::string_view new_password, absl::string_view verify) {
  if (new_password != verify) return absl::InvalidArgumentError("Passwords do not match");
  if (absl::Status s = CheckPasswordRules(new_password); !s.ok()) return s;
  return conn.Transaction([&]() -> absl::Status {
    auto found = conn.Exec(
        "SELECT t.nickname, t.used_at IS NOT NULL, t.expires_at <= now(), u.status"
        " FROM password_tokens t JOIN users u ON u.nickname = t.nickname"
        " WHERE t.token_sha256 = $1 FOR UPDATE",
        PgParams().Bytes(TokenDigest(token)));
    if (!found.ok()) return found.status();
    if (found->rows() == 0) return absl::NotFoundError("Unknown password reset link");
    if (found->GetBool(0, 1)) {
      return absl::DeadlineExceededError("This password reset link has already been used");
    }
    if (found->GetBool(0, 2))
      return absl::DeadlineExceededError("This password reset link has expired");
    if (found->Get(0, 3) != "active") {
      return absl::FailedPreconditionError("This account is not active");
    }
    return StorePassword(conn, found->Get(0, 0), new_password);
  });
}

absl::Status SetPassword(PgConnection& conn, absl::string_view nickname,
                         absl::string_view password) {
  return conn.Transaction(
      [&] { return StorePassword(conn, absl::AsciiStrToLower(nickname), password); });
}

absl::Status ChangePassword(PgConnection& conn, absl::string_view nickname,
                            absl::string_view old_password, absl::string_view new_password,
                            absl::string_view new_password2) {
  if (new_password != new_password2) return absl::InvalidArgumentError("Passwords do not match");
  if (absl::Status s = CheckPasswordRules(new_password); !s.ok()) return s;
  return conn.Transaction([&]() -> absl::Status {
    auto found =
        conn.Exec("SELECT coalesce(password_hash, '') FROM users WHERE nickname = $1 FOR UPDATE",
                  PgParams().Text(nickname));
    if (!found.ok()) return found.status();
    if (found->rows() == 0) {
      return absl::NotFoundError(absl::StrCat("User \"", nickname, "\" does not exist"));
    }
    if (!VerifyPassword(found->Get(0, 0), old_password)) {
      return absl::PermissionDeniedError("The old password is wrong");
    }
    return StorePassword(conn, nickname, new_password);
  });
}

absl::Status UpdateProfile(PgConnection& conn, absl::string_view nickname,
                           const ProfileUpdate& update, const Publishing& publishing) {
  if (update.full_name.has_value()) {
    if (absl::Status s = CheckFullName(*update.full_name); !s.ok()) return s;
  }
  if (update.email.has_value()) {
    if (absl::Status s = CheckEmail(*update.email); !s.ok()) return s;
  }
  if (update.uri.has_value()) {
    if (absl::Status s = CheckUri(*update.uri); !s.ok()) return s;
  }
  if (update.twitter.has_value()) {
    if (absl::Status s = CheckTwitter(*update.twitter); !s.ok()) return s;
  }
  absl::StatusOr<Account> account = GetAccount(conn, nickname);
  if (!account.ok()) return account.status();
  EventHeader header{feed::EventKind::kUser, account->nickname, "", ""};
  header.skip_if_unchanged = true;
  header.changes_stats = true;
  absl::StatusOr<v1::Event> event = Publish(
      conn, header,
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        if (update.email.has_value()) {
          if (absl::Status s = CheckAvailable(conn, "", *update.email, account->nickname);
              !s.ok()) {
            return s;
          }
        }
        auto updated = conn.Exec(
            "UPDATE users SET full_name = coalesce($2, full_name), email = coalesce($3, email),"
            " uri = CASE WHEN $4::text IS NULL THEN uri ELSE nullif($4, '') END,"
            " twitter = CASE WHEN $5::text IS NULL THEN twitter ELSE nullif($5, '') END,"
            " updated_at = now() WHERE nickname = $1",
            [&] {
              PgParams params;
              params.Text(account->nickname);
              update.full_name ? params.Text(*update.full_name) : params.Null();
              update.email ? params.Text(*update.email) : params.Null();
              update.uri ? params.Text(*update.uri) : params.Null();
              update.twitter ? params.Text(TwitterHandle(*update.twitter)) : params.Null();
              return params;
            }());
        if (!updated.ok()) return updated.status();
        return UserFiles(conn, account->nickname);
      },
      publishing);
  return event.status();
}

}  // namespace pgxn::origin
