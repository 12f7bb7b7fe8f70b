#include "origin/accounts/password.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "base/utf8.h"

namespace pgxn::origin {
namespace {

void InitSodium() {
  static const bool ready = [] {
    // sodium_init fails only when no entropy source exists; nothing can be
    // hashed safely then.
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)ready;
}

}  // namespace

absl::Status CheckPasswordRules(absl::string_view password) {
  if (base::CountUtf8Chars(password) < kMinPasswordChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("Password must be at least ", kMinPasswordChars, " characters long"));
  }
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Password must be at most ", kMaxPasswordBytes, " bytes long"));
  }
  if (password.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("Password must not contain a NUL character");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HashPassword(absl::string_view password) {
  InitSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return absl::ResourceExhaustedError("Not enough memory to hash a password");
  }
  return std::string(out);
}

bool VerifyPassword(absl::string_view stored, absl::string_view password) {
  InitSodium();
  if (stored.empty() || stored.size() >= crypto_pwhash_STRBYTES) return false;
  std::string terminated(stored);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

}  // namespace pgxn::origin
