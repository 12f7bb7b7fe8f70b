// A commitment to a whole tree that can be updated one file at a time: the
// LtHash16 construction (Bellare-Micciancio lattice hashing, as used by
// Facebook's LtHash): every file (path, sha256, media type) is expanded with
// SHAKE128 into 1024 16-bit lanes, and the tree's state is the lane-wise sum
// mod 2^16 of its files. Adding, removing or replacing a file is one add
// and/or subtract; two trees have the same state exactly when they hold the
// same files (up to the security of the construction, about 2^200 work).
//
// The origin puts Digest() of the state after each event into the event (so
// the signature covers it); every node updates its own state as it applies
// events and checks it matches, and a node bootstrapping from a snapshot
// checks the files it received add up to the signed digest.
//
// Value type; not thread-safe (callers own their copy).
#ifndef PGXN_FEED_TREE_DIGEST_H_
#define PGXN_FEED_TREE_DIGEST_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::feed {

class TreeDigest {
 public:
  static constexpr size_t kLanes = 1024;
  static constexpr size_t kStateBytes = kLanes * 2;

  TreeDigest() { lanes_.fill(0); }  // the empty tree

  // The state as stored (little-endian lanes); InvalidArgument if malformed.
  static absl::StatusOr<TreeDigest> FromState(absl::string_view state);
  std::string State() const;

  void Add(absl::string_view path, absl::string_view sha256, absl::string_view media_type);
  void Remove(absl::string_view path, absl::string_view sha256, absl::string_view media_type);

  // SHA-256 of the state: the 32 bytes events carry.
  std::string Digest() const;

  bool operator==(const TreeDigest& other) const { return lanes_ == other.lanes_; }

 private:
  static std::array<uint16_t, kLanes> Expand(absl::string_view path, absl::string_view sha256,
                                             absl::string_view media_type);
  std::array<uint16_t, kLanes> lanes_;
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_TREE_DIGEST_H_
