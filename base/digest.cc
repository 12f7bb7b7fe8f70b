#include "base/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace pgxn::base {
namespace {

std::string Digest(const EVP_MD* md, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // EVP_Digest only fails on allocation failure; nothing sensible can go on.
  if (EVP_Digest(data.data(), data.size(), out, &size, md, nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<const char*>(out), size);
}

}  // namespace

std::string Sha256(absl::string_view data) { return Digest(EVP_sha256(), data); }
std::string Sha1Hex(absl::string_view data) { return HexEncode(Digest(EVP_sha1(), data)); }
std::string Sha256Hex(absl::string_view data) { return HexEncode(Sha256(data)); }
std::string Sha512Hex(absl::string_view data) { return HexEncode(Digest(EVP_sha512(), data)); }

std::string HexEncode(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

absl::optional<std::string> HexDecode(absl::string_view hex) {
  if (hex.size() % 2 != 0) return absl::nullopt;
  for (char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return absl::nullopt;
  }
  return absl::HexStringToBytes(hex);
}

}  // namespace pgxn::base
