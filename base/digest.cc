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

struct Sha256Stream::Context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(ctx); }
};

// As in Digest: the EVP calls fail only when memory runs out.
Sha256Stream::Sha256Stream() : context_(std::make_unique<Context>()) {
  if (context_->ctx == nullptr || EVP_DigestInit_ex(context_->ctx, EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
}

Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(absl::string_view data) {
  if (EVP_DigestUpdate(context_->ctx, data.data(), data.size()) != 1) std::abort();
}

std::string Sha256Stream::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(context_->ctx, out, &size) != 1) std::abort();
  return std::string(reinterpret_cast<const char*>(out), size);
}

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
