// Decoding of request targets for the HTTP gateway: the path (percent-decoded
// exactly once and checked, so no handler ever sees "..", NUL or a backslash),
// query strings and form-urlencoded bodies, and the inverse encoding used when a
// handler builds a link. Called by http_server.cc for every request and by
// handlers that read query parameters or build URLs.
//
// Pure functions of their arguments: safe to call from any thread.
#ifndef PGXN_GATEWAY_PATH_H_
#define PGXN_GATEWAY_PATH_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/escape.h"

namespace pgxn::gateway {

// Decodes the path part of a request target (everything before '?') once:
// "/tag/key%20value.json" -> "/tag/key value.json". "%2F" becomes a '/' that is
// then checked like any other separator.
//
// Returns InvalidArgument, naming the problem, when the path does not start with
// '/', holds an invalid percent-escape (not '%' followed by two hex digits), or
// decodes to something with a NUL byte, a backslash, a "." or ".." segment, or
// bytes that are not well-formed UTF-8.
// Empty segments ("//") are kept: they cannot climb out of anything.
absl::StatusOr<std::string> DecodeRequestPath(absl::string_view raw_path);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Parses "a=1&b=x+y&c" into {{"a","1"},{"b","x y"},{"c",""}}: pairs are split at
// '&', key from value at the first '=', '+' means a space and percent-escapes
// are decoded. Empty pieces ("a=1&&b=2", a trailing '&') are skipped; repeated
// keys stay repeated, in order. An invalid percent-escape is InvalidArgument.
absl::StatusOr<QueryParams> ParseQuery(absl::string_view query);

// An application/x-www-form-urlencoded body has the same grammar as a query.
inline absl::StatusOr<QueryParams> ParseFormUrlEncoded(absl::string_view body) {
  return ParseQuery(body);
}

// The value of the first parameter named `key`, or nullptr.
const std::string* FindParam(const QueryParams& params, absl::string_view key);

// base/escape.h's, where the doc renderer finds it too.
using base::PercentEncodePath;

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_PATH_H_
