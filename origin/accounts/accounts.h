// Accounts on the origin and their life cycle (docs/pgxn.md §3 "Accounts"):
// registration as `new`, moderation to active / inactive / deleted, password
// tokens sent by mail, password changes and profile updates. Changes that
// alter the published tree (a user file, the user counts in the stats) are
// published as `user` events; the others are plain transactions. Every call
// runs on the caller's connection and changes nothing when it fails.
// Thread-compatible.
#ifndef PGXN_ORIGIN_ACCOUNTS_ACCOUNTS_H_
#define PGXN_ORIGIN_ACCOUNTS_ACCOUNTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "origin/accounts/mail.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

// Where an account stands: a new one waits for an administrator; only an
// active one may log in and release; inactive and deleted ones keep their
// releases but lose their user file unless they have releases.
enum class AccountStatus { kNew, kActive, kInactive, kDeleted };

// The status's name, as stored and shown: "new", "active", ...
absl::string_view AccountStatusName(AccountStatus status);
// The status named `name`; InvalidArgument naming the field otherwise.
absl::StatusOr<AccountStatus> ParseAccountStatus(absl::string_view name);
// A status a moderator may set (active, inactive or deleted) by name;
// InvalidArgument naming the field otherwise.
absl::StatusOr<AccountStatus> ParseModerationStatus(absl::string_view name);

struct Account {
  std::string nickname;
  std::string full_name;
  std::string email;
  std::string uri;
  std::string twitter;
  AccountStatus status = AccountStatus::kNew;
  std::string why;
  bool is_admin = false;
  bool has_password = false;
  int64_t created_at_us = 0;
};

// Validation of account fields: InvalidArgument naming the field and the rule.
absl::Status CheckNickname(absl::string_view nickname);
absl::Status CheckEmail(absl::string_view email);
absl::Status CheckFullName(absl::string_view full_name);
absl::Status CheckUri(absl::string_view uri);          // empty allowed
absl::Status CheckTwitter(absl::string_view twitter);  // empty allowed; a leading @ is fine

// Where links in mail point, e.g. "https://manager.example.org".
struct Links {
  std::string public_url;
  std::string ResetUrl(absl::string_view token) const;
  std::string ModerationUrl() const;
};

// How long a password link stays valid.
inline constexpr absl::Duration kPasswordTokenLifetime = absl::Hours(24);

struct Registration {
  std::string nickname;
  std::string full_name;
  std::string email;
  std::string uri;
  std::string twitter;
  std::string why;  // at least 5 characters
};

// Creates a `new` account without a usable password and tells every active
// administrator by mail. InvalidArgument naming the field; AlreadyExists
// naming the nickname or email that is taken.
absl::StatusOr<Account> RegisterAccount(PgConnection& conn, const Registration& registration,
                                        const Mailer& mailer, const Links& links);

struct NewAccount {
  std::string nickname;
  std::string full_name;
  std::string email;
  std::string uri;
  std::string twitter;
  std::string password;
  bool admin = false;
};

// Creates an active account with a password (operators' `pgxnd user add`) and
// publishes its user/NICK.json. Errors as RegisterAccount, plus the password
// rules.
absl::StatusOr<v1::Event> CreateActiveAccount(PgConnection& conn, const NewAccount& account,
                                              const Publishing& publishing);

// NotFound for an unknown nickname.
absl::StatusOr<Account> GetAccount(PgConnection& conn, absl::string_view nickname);
// Every account with `status` (all without one), by nickname.
absl::StatusOr<std::vector<Account>> ListAccounts(PgConnection& conn,
                                                  absl::optional<AccountStatus> status);

// Moderation: sets an account's status to active, inactive or deleted.
// `actor` is the administrator doing it ("" for an operator's command): an
// administrator cannot change their own status (PermissionDenied). Activating
// publishes the user file and, for an account without a password, mails a
// link to set one (valid kPasswordTokenLifetime); deactivating removes the
// user file unless the account has releases (catalog.h UserFileBelongs). Setting the status it
// already has changes nothing. InvalidArgument for kNew, NotFound
// for an unknown account.
absl::Status SetAccountStatus(PgConnection& conn, absl::string_view actor,
                              absl::string_view nickname, AccountStatus status,
                              const Mailer& mailer, const Links& links,
                              const Publishing& publishing);

// Grants or revokes administration. NotFound for an unknown account.
absl::Status SetAdmin(PgConnection& conn, absl::string_view nickname, bool admin);

// A new single-use password token for `nickname`, valid `lifetime`; only its
// SHA-256 is stored.
absl::StatusOr<std::string> IssuePasswordToken(PgConnection& conn, absl::string_view nickname,
                                               absl::Duration lifetime);

// "Forgot my password": `who` is a nickname or an email. For an active account
// this mails a reset link; for anything else it does nothing, and says nothing
// either, so the endpoint cannot be used to find out who has an account. While
// a link sent less than a minute ago is unused, no other is sent (no mail
// flood). InvalidArgument when `who` is empty.
absl::Status RequestPasswordReset(PgConnection& conn, absl::string_view who, const Mailer& mailer,
                                  const Links& links);

// Sets the password of the token's account and uses the token up.
// InvalidArgument when the passwords differ or break the rules, NotFound for
// an unknown token, DeadlineExceeded (HTTP 410) for an expired or used one,
// FailedPrecondition when the account is no longer active.
absl::Status ResetPassword(PgConnection& conn, absl::string_view token,
                           absl::string_view new_password, absl::string_view verify);

// Sets a password directly (operators' `pgxnd user reset-password
// --password-stdin`).
absl::Status SetPassword(PgConnection& conn, absl::string_view nickname,
                         absl::string_view password);

// The account holder's change: PermissionDenied when `old_password` is wrong,
// InvalidArgument when the new ones differ or break the rules.
absl::Status ChangePassword(PgConnection& conn, absl::string_view nickname,
                            absl::string_view old_password, absl::string_view new_password,
                            absl::string_view new_password2);

// Profile fields to change; absent ones stay as they are. An empty uri or
// twitter removes it.
struct ProfileUpdate {
  absl::optional<std::string> full_name;
  absl::optional<std::string> email;
  absl::optional<std::string> uri;
  absl::optional<std::string> twitter;
};

// Updates the profile and publishes the rewritten user file when the account
// is active. Errors as for registration.
absl::Status UpdateProfile(PgConnection& conn, absl::string_view nickname,
                           const ProfileUpdate& update, const Publishing& publishing);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_ACCOUNTS_H_
