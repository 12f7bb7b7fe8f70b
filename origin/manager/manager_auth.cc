#include "origin/manager/manager_auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gateway/basic_auth.h"
#include "gateway/status_http.h"
#include "origin/accounts/password.h"

namespace pgxn::origin {
namespace {

constexpr char kAuthorizationRequired[] = "Authorization required";

// Verifying against a real hash when the user does not exist keeps the
// response time from telling which nicknames are taken.
const std::string& DummyHash() {
  static const std::string* hash = new std::string(*HashPassword("not a real password"));
  return *hash;
}

}  // namespace

absl::StatusOr<Caller> AuthenticateCredentials(PgConnection& conn, LoginGuard& guard,
                                               absl::string_view user, absl::string_view password,
                                               absl::string_view address, absl::Time now) {
  const absl::Status refused = absl::UnauthenticatedError(kAuthorizationRequired);
  if (user.empty() || user.size() > 64 || password.size() > kMaxPasswordBytes) return refused;
  const std::string nickname = absl::AsciiStrToLower(user);
  if (absl::Status s = guard.Check(nickname, address, now); !s.ok()) return s;
  auto result = conn.Exec(
      "SELECT nickname, coalesce(password_hash, ''), status, is_admin FROM users"
      " WHERE nickname = $1",
      PgParams().Text(nickname));
  if (!result.ok()) return result.status();
  if (result->rows() == 0) {
    VerifyPassword(DummyHash(), password);
    guard.RecordFailure(nickname, address, now);
    return refused;
  }
  const std::string stored = result->GetString(0, 1);
  const bool matches =
      guard.IsCached(nickname, password, stored, now) || VerifyPassword(stored, password);
  if (!matches || result->Get(0, 2) != "active") {
    guard.RecordFailure(nickname, address, now);
    return refused;
  }
  guard.RecordSuccess(nickname);
  guard.Remember(nickname, password, stored, now);
  return Caller{result->GetString(0, 0), result->GetBool(0, 3)};
}

absl::StatusOr<Caller> AuthenticateRequest(PgConnection& conn, LoginGuard& guard,
                                           const gateway::Request& request, absl::Time now) {
  absl::optional<gateway::Credentials> credentials =
      gateway::ParseBasicAuth(request.Header("authorization"));
  if (!credentials.has_value()) return absl::UnauthenticatedError(kAuthorizationRequired);
  return AuthenticateCredentials(conn, guard, credentials->user, credentials->password,
                                 AddressWithoutPort(request.remote_address), now);
}

gateway::Response AuthErrorResponse(const absl::Status& status, const gateway::Request& request) {
  gateway::Response response = gateway::ErrorResponse(status, request);
  if (absl::IsUnauthenticated(status)) {
    response.SetHeader("WWW-Authenticate", "Basic realm=\"PGXN Users Only\"");
  }
  return response;
}

}  // namespace pgxn::origin
