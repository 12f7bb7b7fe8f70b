// Who is calling a Manager endpoint: HTTP Basic credentials of an active
// account, checked through the LoginGuard (throttling and the verified-password
// cache). Every authenticated endpoint of the origin goes through here.
// Thread-safe.
#ifndef PGXN_ORIGIN_MANAGER_MANAGER_AUTH_H_
#define PGXN_ORIGIN_MANAGER_MANAGER_AUTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/http.h"
#include "origin/accounts/caller.h"
#include "origin/accounts/login_guard.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

// The active account whose credentials `request` carries. Unauthenticated
// ("Authorization required") without credentials, for unknown users, wrong
// passwords and accounts that are not active, without saying which;
// ResourceExhausted after repeated failures (see LoginGuard).
absl::StatusOr<Caller> AuthenticateRequest(PgConnection& conn, LoginGuard& guard,
                                           const gateway::Request& request,
                                           absl::Time now = absl::Now());

// The same check for a nickname and password given directly.
absl::StatusOr<Caller> AuthenticateCredentials(PgConnection& conn, LoginGuard& guard,
                                               absl::string_view user, absl::string_view password,
                                               absl::string_view address,
                                               absl::Time now = absl::Now());

// The response for a failed authentication or authorization: 401 with PGXN's
// Basic challenge, or the usual mapping (403, 429, ...) otherwise.
gateway::Response AuthErrorResponse(const absl::Status& status, const gateway::Request& request);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_MANAGER_MANAGER_AUTH_H_
