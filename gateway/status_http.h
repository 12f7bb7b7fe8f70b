// The one table from absl::Status codes to HTTP status codes (docs/developing.md, "Style"), and the
// error response every handler sends for a failed Status. Called by handlers of
// every role and by the tree handler. Pure functions: safe from any thread.
#ifndef PGXN_GATEWAY_STATUS_HTTP_H_
#define PGXN_GATEWAY_STATUS_HTTP_H_

#include "absl/status/status.h"
#include "gateway/http.h"

namespace pgxn::gateway {

// InvalidArgument and OutOfRange 400, Unauthenticated 401, PermissionDenied 403,
// NotFound 404, AlreadyExists and FailedPrecondition 409, ResourceExhausted 429,
// Unavailable 503, anything else (OK included, which is no error to report) 500.
int HttpStatusFor(const absl::Status& status);

// HttpStatusFor(status) with the status's message as the body, verbatim: as
// text/plain, or as {"message": "..."} (application/json) when an Accept header
// of `request` lists application/json with a non-zero quality. Bytes of the
// message that are not UTF-8 become U+FFFD in the JSON form.
Response ErrorResponse(const absl::Status& status, const Request& request);

// `message` with `status`: text/plain, or {"message": "..."} when the client
// accepts JSON (as ErrorResponse does for errors).
Response MessageResponse(int status, absl::string_view message, const Request& request);

// Whether the Accept headers of `request` list application/json (q > 0).
bool AcceptsJson(const Request& request);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_STATUS_HTTP_H_
