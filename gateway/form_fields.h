// The fields of a request body, whatever way the client sent them: an
// application/x-www-form-urlencoded body (HTML forms, curl -d), a
// multipart/form-data body (its non-file parts), or a JSON object (scripts)
// whose values are strings, numbers or booleans. Handlers of the Manager's
// account and admin endpoints read their parameters through this.
// Pure functions: safe from any thread.
#ifndef PGXN_GATEWAY_FORM_FIELDS_H_
#define PGXN_GATEWAY_FORM_FIELDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "gateway/http.h"
#include "gateway/path.h"

namespace pgxn::gateway {

// InvalidArgument naming the problem for a body that does not parse, a JSON
// body that is not an object, or a JSON value that is an object, array or null.
// An empty body gives no fields.
absl::StatusOr<QueryParams> ParseFormFields(const Request& request);

// The first value of `key`, or "" when absent.
std::string FieldOr(const QueryParams& fields, absl::string_view key);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_FORM_FIELDS_H_
