// Cryptographic digests and hex encoding used across the network: SHA-256 names
// every file and event, SHA-1 is what PGXN clients check archives against.
// Pure functions (OpenSSL EVP underneath); thread-safe.
#ifndef PGXN_BASE_DIGEST_H_
#define PGXN_BASE_DIGEST_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace pgxn::base {

inline constexpr size_t kSha256Size = 32;

// The raw 32-byte SHA-256 of `data`.
std::string Sha256(absl::string_view data);

// SHA-256 of data given a piece at a time (a file written as it is read).
// Thread-compatible.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(absl::string_view data);
  // The raw 32-byte digest of everything given; the stream is spent after.
  std::string Finish();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// Lower-case hex of the SHA-1, SHA-256 and SHA-512 of `data`.
std::string Sha1Hex(absl::string_view data);
std::string Sha256Hex(absl::string_view data);
std::string Sha512Hex(absl::string_view data);

// Lower-case hex of arbitrary bytes, and back (nullopt on odd length or a
// non-hex character).
std::string HexEncode(absl::string_view bytes);
absl::optional<std::string> HexDecode(absl::string_view hex);

}  // namespace pgxn::base

#endif  // PGXN_BASE_DIGEST_H_
