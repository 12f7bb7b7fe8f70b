#include "origin/manager/manager_auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/address.h"
#include "base/log.h"
#include "gateway/basic_auth.h"
#include "origin/accounts/accounts.h"
#include "origin/accounts/password.h"
#include "origin/manager/manager_response.h"

namespace pgxn::origin {
namespace {

constexpr char kAuthorizationRequired[] = "Authorization required";

// Verifying against a real hash when the user does not exist keeps the
// response time from telling which nicknames are taken.
const std::string& DummyHash() {
  static const std::string* hash = new std::string(*HashPassword("not a real password"));
  return *hash;
}

// An account under attack is not locked (that would hand the attacker what
// they want); it is logged and its owner is told, once per attack.
void ReportAttack(ManagerContext& context, PgConnection& conn, const AttackNotice& notice) {
  base::LogWarning(absl::StrCat("Login attack on account \"", notice.nickname,
                                "\": ", notice.attempts, " failed or refused logins from ",
                                notice.addresses, notice.addresses == 1 ? " address" : " addresses",
                                "; each address is slowed down, the account stays open"));
  auto account = conn.Exec("SELECT email FROM users WHERE nickname = $1 AND status = 'active'",
                           PgParams().Text(notice.nickname));
  if (!account.ok() || account->rows() == 0) return;
  Mail mail;
  mail.to = account->GetString(0, 0);
  mail.subject = "Failed logins to your PGXN account";
  mail.body = absl::StrCat(
      "Hello ", notice.nickname, ",\n\nThe PGXN Manager at ", context.options.public_url,
      " has refused ", notice.attempts, " logins to your account from ", notice.addresses,
      notice.addresses == 1 ? " address" : " addresses",
      " within the last hour. Someone may be trying to guess your password.\n\n"
      "Your account is not locked: you can log in and release as usual, and each address that "
      "keeps guessing wrong has to wait longer and longer between attempts. If these were not "
      "your own attempts, make sure your password is long and used nowhere else; you can change "
      "it at ",
      context.options.public_url, "/account/password.\n");
  if (absl::Status s = context.mailer.Record(conn, mail); !s.ok()) {
    base::LogWarning(absl::StrCat("Mail about the attack on \"", notice.nickname,
                                  "\" not recorded: ", s.ToString()));
    return;
  }
  context.mailer.Deliver(conn);
}

}  // namespace

absl::StatusOr<Caller> AuthenticateCredentials(ManagerContext& context, PgConnection& conn,
                                               absl::string_view user, absl::string_view password,
                                               absl::string_view address, absl::Time now) {
  const absl::Status refused = absl::UnauthenticatedError(kAuthorizationRequired);
  if (password.size() > kMaxPasswordBytes) return refused;
  const std::string nickname = absl::AsciiStrToLower(user);
  // No account can have a name outside the nickname rules (this also keeps
  // bytes that are not UTF-8 away from the database); saying so at once
  // tells nothing about who has an account.
  if (!CheckNickname(nickname).ok()) return refused;
  auto result = conn.Exec(
      "SELECT nickname, coalesce(password_hash, ''), status, is_admin FROM users"
      " WHERE nickname = $1",
      PgParams().Text(nickname));
  if (!result.ok()) return result.status();
  const bool found = result->rows() > 0;
  const std::string stored = found ? result->GetString(0, 1) : "";
  const bool active = found && result->Get(0, 2) == "active";
  auto caller = [&] { return Caller{result->GetString(0, 0), result->GetBool(0, 3)}; };
  // A password verified moments ago (the screen's check, a CI job's previous
  // upload) is not hashed again.
  const bool cached = active && context.guard.IsCached(nickname, password, stored, now);
  if (cached && context.guard.AdmitCached(nickname, address, now)) return caller();

  AttackNotice notice;
  absl::StatusOr<LoginGuard::Attempt> attempt =
      context.guard.Begin(nickname, address, now, &notice);
  if (!attempt.ok()) {
    if (!notice.nickname.empty()) ReportAttack(context, conn, notice);
    return attempt.status();
  }
  const bool matches = cached || VerifyPassword(found ? stored : DummyHash(), password);
  if (!found || !matches || !active) {
    if (absl::optional<AttackNotice> started = context.guard.Finish(*attempt, false, now)) {
      ReportAttack(context, conn, *started);
    }
    return refused;
  }
  context.guard.Finish(*attempt, true, now);
  context.guard.Remember(nickname, password, stored, now);
  return caller();
}

absl::StatusOr<Caller> AuthenticateRequest(ManagerContext& context, PgConnection& conn,
                                           const gateway::Request& request, absl::Time now) {
  absl::optional<gateway::Credentials> credentials =
      gateway::ParseBasicAuth(request.Header("authorization"));
  if (!credentials.has_value()) return absl::UnauthenticatedError(kAuthorizationRequired);
  return AuthenticateCredentials(context, conn, credentials->user, credentials->password,
                                 base::ClientKey(request.RemoteIp()), now);
}

gateway::Response AuthErrorResponse(const absl::Status& status, const gateway::Request& request) {
  gateway::Response response = ManagerErrorResponse(status, request);
  if (absl::IsUnauthenticated(status)) {
    response.SetHeader("WWW-Authenticate", "Basic realm=\"PGXN Users Only\"");
  }
  return response;
}

}  // namespace pgxn::origin
