#include "origin/accounts.h"

#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "origin/catalog.h"
#include "origin/password.h"

namespace pgxn::origin {
namespace {

bool HasControlOrSpace(absl::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

absl::Status CheckNickname(absl::string_view nickname) {
  static const std::regex* pattern = new std::regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$");
  if (!std::regex_match(nickname.begin(), nickname.end(), *pattern)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Nickname \"", nickname,
        "\" is invalid: use 1-63 lower-case letters, digits and dashes, starting with a letter "
        "and not ending with a dash"));
  }
  return absl::OkStatus();
}

absl::Status CheckEmail(absl::string_view email) {
  const size_t at = email.find('@');
  const bool ok = email.size() <= 254 && at != absl::string_view::npos && at > 0 &&
                  email.find('@', at + 1) == absl::string_view::npos &&
                  email.find('.', at) != absl::string_view::npos && email.back() != '.' &&
                  !HasControlOrSpace(email);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("Email \"", email, "\" is invalid"));
  return absl::OkStatus();
}

absl::StatusOr<v1::Event> CreateActiveAccount(PgConnection& conn, const NewAccount& account,
                                              const CommitListener& on_commit) {
  if (absl::Status s = CheckNickname(account.nickname); !s.ok()) return s;
  if (absl::Status s = CheckEmail(account.email); !s.ok()) return s;
  if (!account.uri.empty() && !absl::StartsWith(account.uri, "http://") &&
      !absl::StartsWith(account.uri, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("URI \"", account.uri, "\" is invalid: use an http or https URL"));
  }
  if (absl::Status s = CheckPasswordRules(account.password); !s.ok()) return s;
  absl::StatusOr<std::string> hash = HashPassword(account.password);
  if (!hash.ok()) return hash.status();

  EventHeader header{"user", account.nickname, "", ""};
  return Publish(
      conn, header,
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        auto taken = conn.Exec(
            "SELECT nickname = $1, lower(email) = lower($2) FROM users "
            "WHERE nickname = $1 OR lower(email) = lower($2)",
            PgParams().Text(account.nickname).Text(account.email));
        if (!taken.ok()) return taken.status();
        for (int row = 0; row < taken->rows(); ++row) {
          if (taken->GetBool(row, 0)) {
            return absl::AlreadyExistsError(
                absl::StrCat("Nickname \"", account.nickname, "\" is already taken"));
          }
          return absl::AlreadyExistsError(
              absl::StrCat("Email \"", account.email, "\" is already registered"));
        }
        auto inserted = conn.Exec(
            "INSERT INTO users (nickname, full_name, email, uri, twitter, password_hash, status,"
            " is_admin) VALUES ($1, $2, $3, nullif($4, ''), nullif($5, ''), $6, 'active', $7)",
            PgParams()
                .Text(account.nickname)
                .Text(account.full_name)
                .Text(account.email)
                .Text(account.uri)
                .Text(account.twitter)
                .Text(*hash)
                .Bool(account.admin));
        if (!inserted.ok()) return inserted.status();
        absl::StatusOr<FileChange> user_file = RenderUserFile(conn, account.nickname);
        if (!user_file.ok()) return user_file.status();
        // The user count in the stats changes too.
        absl::StatusOr<std::vector<FileChange>> files = RenderStatsFiles(conn);
        if (!files.ok()) return files.status();
        files->insert(files->begin(), *std::move(user_file));
        return files;
      },
      on_commit);
}

}  // namespace pgxn::origin
