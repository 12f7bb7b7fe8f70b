// Parsing of HTTP Basic credentials (RFC 7617) from an Authorization header, for
// the origin's Manager endpoints (POST /upload and friends). Checking the
// credentials is the caller's business. A pure function: safe from any thread.
#ifndef PGXN_GATEWAY_BASIC_AUTH_H_
#define PGXN_GATEWAY_BASIC_AUTH_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace pgxn::gateway {

struct Credentials {
  std::string user;
  std::string password;
};

// "Basic dXNlcjpwYXNz" -> {"user", "pass"}. The scheme is case-insensitive; the
// user is everything before the first ':' of the decoded token and must not be
// empty; the password is the rest and may hold further ':' or be empty.
// Returns nullopt for any other scheme, a missing or malformed base64 token,
// extra words after the token, or a decoded value without ':'.
absl::optional<Credentials> ParseBasicAuth(absl::string_view authorization_header);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_BASIC_AUTH_H_
