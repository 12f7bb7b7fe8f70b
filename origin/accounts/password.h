// Password storage: libsodium's Argon2id (crypto_pwhash_str), a memory-hard
// hash with its salt and parameters in the stored string, compared in constant
// time by libsodium. Thread-safe.
#ifndef PGXN_ORIGIN_ACCOUNTS_PASSWORD_H_
#define PGXN_ORIGIN_ACCOUNTS_PASSWORD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::origin {

inline constexpr size_t kMinPasswordChars = 8;
inline constexpr size_t kMaxPasswordBytes = 1024;

// InvalidArgument naming the rule a new password breaks: at least 8
// characters, at most 1024 bytes, no NUL.
absl::Status CheckPasswordRules(absl::string_view password);

// The crypto_pwhash_str string for `password`.
absl::StatusOr<std::string> HashPassword(absl::string_view password);

// Whether `password` matches `stored` (a HashPassword result). False for an
// empty or malformed `stored`.
bool VerifyPassword(absl::string_view stored, absl::string_view password);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_PASSWORD_H_
