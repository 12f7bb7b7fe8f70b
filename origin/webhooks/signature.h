// Standard Webhooks 1.0 signing (https://www.standardwebhooks.com): the
// secret a hook is registered with and the `webhook-signature` header of
// each delivery. The secret is "whsec_" + base64 of 32 random bytes; the
// key is those bytes. A signature is "v1," + base64 of
// HMAC-SHA256(key, id + "." + timestamp + "." + body).
//
// The dispatcher (dispatcher.h) signs; the Manager's registration
// (origin/manager/webhooks_http.cc) makes the secret. libsodium's random
// bytes and OpenSSL's HMAC and base64 stay in signature.cc. Pure functions
// but for the randomness; thread-safe.
#ifndef PGXN_ORIGIN_WEBHOOKS_SIGNATURE_H_
#define PGXN_ORIGIN_WEBHOOKS_SIGNATURE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::origin {

inline constexpr char kWebhookSecretPrefix[] = "whsec_";

// A new secret: "whsec_" + base64 of 32 bytes from libsodium's CSPRNG.
std::string GenerateWebhookSecret();

// The signature header's value for one delivery. InvalidArgument when
// `secret` is not "whsec_" + base64.
absl::StatusOr<std::string> SignWebhook(absl::string_view secret, absl::string_view message_id,
                                        int64_t timestamp, absl::string_view body);

// Standard base64 with padding (RFC 4648 §4), both ways; nullopt-like
// InvalidArgument for text that is not.
std::string Base64Encode(absl::string_view bytes);
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_WEBHOOKS_SIGNATURE_H_
