#include "feed/tree_digest.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "base/digest.h"

namespace pgxn::feed {
namespace {

// Domain separation: a file's element never equals any other use of SHAKE128.
constexpr absl::string_view kElementTag = "pgxn.tree.v1\n";

}  // namespace

std::array<uint16_t, TreeDigest::kLanes> TreeDigest::Expand(absl::string_view path,
                                                            absl::string_view sha256,
                                                            absl::string_view media_type) {
  // Paths and media types never contain NUL (CheckTreePath, event checks), so
  // NUL separates the fields unambiguously; the sha256 has a fixed length.
  const std::string input =
      absl::StrCat(kElementTag, path, absl::string_view("\0", 1), sha256, media_type);
  unsigned char bytes[kStateBytes];
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_shake128(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, input.data(), input.size()) != 1 ||
      EVP_DigestFinalXOF(ctx, bytes, sizeof bytes) != 1) {
    std::abort();  // only on allocation failure
  }
  EVP_MD_CTX_free(ctx);
  std::array<uint16_t, kLanes> lanes;
  for (size_t i = 0; i < kLanes; ++i) {
    lanes[i] = static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  }
  return lanes;
}

absl::StatusOr<TreeDigest> TreeDigest::FromState(absl::string_view state) {
  if (state.size() != kStateBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Tree digest state has ", state.size(), " bytes, not ", kStateBytes));
  }
  TreeDigest digest;
  for (size_t i = 0; i < kLanes; ++i) {
    digest.lanes_[i] = static_cast<uint16_t>(static_cast<unsigned char>(state[2 * i]) |
                                             (static_cast<unsigned char>(state[2 * i + 1]) << 8));
  }
  return digest;
}

std::string TreeDigest::State() const {
  std::string state(kStateBytes, '\0');
  for (size_t i = 0; i < kLanes; ++i) {
    state[2 * i] = static_cast<char>(lanes_[i] & 0xff);
    state[2 * i + 1] = static_cast<char>(lanes_[i] >> 8);
  }
  return state;
}

void TreeDigest::Add(absl::string_view path, absl::string_view sha256,
                     absl::string_view media_type) {
  const std::array<uint16_t, kLanes> element = Expand(path, sha256, media_type);
  for (size_t i = 0; i < kLanes; ++i) lanes_[i] = static_cast<uint16_t>(lanes_[i] + element[i]);
}

void TreeDigest::Remove(absl::string_view path, absl::string_view sha256,
                        absl::string_view media_type) {
  const std::array<uint16_t, kLanes> element = Expand(path, sha256, media_type);
  for (size_t i = 0; i < kLanes; ++i) lanes_[i] = static_cast<uint16_t>(lanes_[i] - element[i]);
}

std::string TreeDigest::Digest() const { return base::Sha256(State()); }

}  // namespace pgxn::feed
