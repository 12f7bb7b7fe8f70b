// Who is calling a Manager endpoint: HTTP Basic credentials of an active
// account, checked through the LoginGuard (throttling per address and per
// account and address, the verified-password cache). Every authenticated
// endpoint of the origin goes through here, first in the HTTP server's
// screen before the body is read (Manager::Screen), then in the handler,
// where the cache answers without hashing again. When the guard reports an
// account under attack, this logs it and mails the account's owner (once
// per attack). Thread-safe.
#ifndef PGXN_ORIGIN_MANAGER_MANAGER_AUTH_H_
#define PGXN_ORIGIN_MANAGER_MANAGER_AUTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/http.h"
#include "origin/accounts/caller.h"
#include "origin/manager/manager_context.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

// The active account whose credentials `request` carries. Unauthenticated
// ("Authorization required") without credentials, for unknown users, wrong
// passwords and accounts that are not active, without saying which;
// ResourceExhausted with the wait when the guard delays this client (see
// LoginGuard); other errors for database failures.
absl::StatusOr<Caller> AuthenticateRequest(ManagerContext& context, PgConnection& conn,
                                           const gateway::Request& request,
                                           absl::Time now = absl::Now());

// The same check for a nickname and password given directly, from
// `address` (without its port).
absl::StatusOr<Caller> AuthenticateCredentials(ManagerContext& context, PgConnection& conn,
                                               absl::string_view user, absl::string_view password,
                                               absl::string_view address,
                                               absl::Time now = absl::Now());

// The response for a failed authentication or authorization: 401 with PGXN's
// Basic challenge, or ManagerErrorResponse's mapping (403, 429 with
// Retry-After, ...) otherwise.
gateway::Response AuthErrorResponse(const absl::Status& status, const gateway::Request& request);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_MANAGER_MANAGER_AUTH_H_
