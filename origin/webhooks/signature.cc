#include "origin/webhooks/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pgxn::origin {

std::string Base64Encode(absl::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  const absl::Status bad = absl::InvalidArgumentError("Not base64");
  if (text.empty() || text.size() % 4 != 0) return bad;
  for (char c : text) {
    if (!(absl::ascii_isalnum(c) || c == '+' || c == '/' || c == '=')) return bad;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return bad;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = 0;
  if (absl::EndsWith(text, "==")) {
    padding = 2;
  } else if (absl::EndsWith(text, "=")) {
    padding = 1;
  }
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string GenerateWebhookSecret() {
  unsigned char key[32];
  randombytes_buf(key, sizeof key);
  std::string secret = absl::StrCat(
      kWebhookSecretPrefix, Base64Encode(absl::string_view(reinterpret_cast<char*>(key), 32)));
  sodium_memzero(key, sizeof key);
  return secret;
}

absl::StatusOr<std::string> SignWebhook(absl::string_view secret, absl::string_view message_id,
                                        int64_t timestamp, absl::string_view body) {
  if (!absl::StartsWith(secret, kWebhookSecretPrefix)) {
    return absl::InvalidArgumentError("A webhook secret starts with \"whsec_\"");
  }
  absl::StatusOr<std::string> key = Base64Decode(secret.substr(sizeof(kWebhookSecretPrefix) - 1));
  if (!key.ok() || key->empty()) {
    return absl::InvalidArgumentError("A webhook secret is \"whsec_\" and base64");
  }
  const std::string signed_content = absl::StrCat(message_id, ".", timestamp, ".", body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(),
           mac, &mac_size) == nullptr) {
    return absl::InternalError("HMAC-SHA256 failed");
  }
  return absl::StrCat("v1,",
                      Base64Encode(absl::string_view(reinterpret_cast<char*>(mac), mac_size)));
}

}  // namespace pgxn::origin
