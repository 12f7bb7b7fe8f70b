// How the Manager's endpoints answer a failure, and what every Manager
// response carries. One place, so no handler can leak what a client must not
// see: a database, library or internal error reaches the client as a short
// sentence and the log gets the detail (pg.h PublicDatabaseMessage); a 429
// carries Retry-After. Every Manager response is `Cache-Control: no-store`
// (account data, forms with tokens, admin lists: nothing for a shared cache
// or the browser's history).
//
// Called by the handlers of origin/manager. Pure functions apart from
// logging: safe from any thread.
#ifndef PGXN_ORIGIN_MANAGER_MANAGER_RESPONSE_H_
#define PGXN_ORIGIN_MANAGER_MANAGER_RESPONSE_H_

#include "absl/status/status.h"
#include "gateway/http.h"

namespace pgxn::origin {

// The status mapped as gateway/status_http.h maps it, except that:
// - a database error (pg.h SqlStateOf) answers its PublicDatabaseMessage;
// - Internal, Unknown, DataLoss, Aborted, Cancelled, Unimplemented and
//   Unavailable statuses of any origin answer a fixed sentence (500, 503);
// each of these is logged with the request's method and path;
// - a ResourceExhausted from rate_limit.h TooManyRequests adds Retry-After.
// Messages of the origin's own rules (field checks, conflicts, not found)
// pass unchanged.
gateway::Response ManagerErrorResponse(const absl::Status& status, const gateway::Request& request);

// `handler` with `Cache-Control: no-store` added to every response it gives.
gateway::Handler NoStore(gateway::Handler handler);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_MANAGER_MANAGER_RESPONSE_H_
