// The origin's Ed25519 key (libsodium) and what it signs: each event's hash
// (which covers the event's tree digest), and each heartbeat's (head seq, head
// hash, epoch, time). Nodes pin the public key (--origin-key, or trust on
// first use) and check every signature on every hop; nobody but the origin
// ever signs, relays pass records on unchanged.
//
// The public key's text form, served at /meta/origin.pub and read by
// --origin-key, is one line: "ed25519:" followed by 64 hex digits.
// Pure functions; thread-safe.
#ifndef PGXN_FEED_SIGNING_H_
#define PGXN_FEED_SIGNING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::feed {

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSecretKeyBytes = 64;
inline constexpr size_t kSignatureBytes = 64;

struct KeyPair {
  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes (libsodium's seed + public key)
};

KeyPair GenerateKeyPair();

// "ed25519:<hex>\n", and back (InvalidArgument naming the problem).
std::string FormatPublicKey(absl::string_view public_key);
absl::StatusOr<std::string> ParsePublicKey(absl::string_view text);

// Signs event->hash() (which must be set) into event->signature.
void SignEvent(absl::string_view secret_key, v1::Event* event);
// PermissionDenied unless the event carries the origin's signature of its hash.
absl::Status VerifyEventSignature(absl::string_view public_key, const v1::Event& event);

// The bytes a heartbeat's signature covers.
std::string HeartbeatMessage(const v1::Heartbeat& heartbeat);
void SignHeartbeat(absl::string_view secret_key, v1::Heartbeat* heartbeat);
absl::Status VerifyHeartbeat(absl::string_view public_key, const v1::Heartbeat& heartbeat);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_SIGNING_H_
