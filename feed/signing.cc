#include "feed/signing.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/digest.h"

namespace pgxn::feed {
namespace {

constexpr absl::string_view kKeyPrefix = "ed25519:";
constexpr absl::string_view kHeartbeatTag = "pgxn.feed.v1.Heartbeat\n";

void InitSodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();  // no entropy source: nothing is safe
    return true;
  }();
  (void)ready;
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string Sign(absl::string_view secret_key, absl::string_view message) {
  InitSodium();
  std::string signature(kSignatureBytes, '\0');
  if (secret_key.size() != kSecretKeyBytes) std::abort();  // a broken invariant, not input
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr, Bytes(message),
                       message.size(), Bytes(secret_key));
  return signature;
}

bool Verify(absl::string_view public_key, absl::string_view message, absl::string_view signature) {
  InitSodium();
  return public_key.size() == kPublicKeyBytes && signature.size() == kSignatureBytes &&
         crypto_sign_verify_detached(Bytes(signature), Bytes(message), message.size(),
                                     Bytes(public_key)) == 0;
}

void AppendU64(uint64_t value, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(value >> shift));
}

}  // namespace

KeyPair GenerateKeyPair() {
  InitSodium();
  KeyPair pair{std::string(kPublicKeyBytes, '\0'), std::string(kSecretKeyBytes, '\0')};
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(pair.public_key.data()),
                      reinterpret_cast<unsigned char*>(pair.secret_key.data()));
  return pair;
}

std::string FormatPublicKey(absl::string_view public_key) {
  return absl::StrCat(kKeyPrefix, base::HexEncode(public_key), "\n");
}

absl::StatusOr<std::string> ParsePublicKey(absl::string_view text) {
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (!absl::ConsumePrefix(&trimmed, kKeyPrefix)) {
    return absl::InvalidArgumentError("An origin key must start with \"ed25519:\"");
  }
  absl::optional<std::string> key = base::HexDecode(trimmed);
  if (!key.has_value() || key->size() != kPublicKeyBytes) {
    return absl::InvalidArgumentError(
        "An origin key must be \"ed25519:\" followed by 64 hex digits");
  }
  return *std::move(key);
}

void SignEvent(absl::string_view secret_key, v1::Event* event) {
  event->set_signature(Sign(secret_key, event->hash()));
}

absl::Status VerifyEventSignature(absl::string_view public_key, const v1::Event& event) {
  if (Verify(public_key, event.hash(), event.signature())) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("Event ", event.seq(), " is not signed by the origin's key"));
}

std::string HeartbeatMessage(const v1::Heartbeat& heartbeat) {
  std::string message(kHeartbeatTag);
  AppendU64(heartbeat.head_seq(), &message);
  AppendU64(heartbeat.head_hash().size(), &message);
  message += heartbeat.head_hash();
  AppendU64(heartbeat.epoch().size(), &message);
  message += heartbeat.epoch();
  AppendU64(static_cast<uint64_t>(heartbeat.time_us()), &message);
  return message;
}

void SignHeartbeat(absl::string_view secret_key, v1::Heartbeat* heartbeat) {
  heartbeat->set_signature(Sign(secret_key, HeartbeatMessage(*heartbeat)));
}

absl::Status VerifyHeartbeat(absl::string_view public_key, const v1::Heartbeat& heartbeat) {
  if (Verify(public_key, HeartbeatMessage(heartbeat), heartbeat.signature())) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("Heartbeat for head ", heartbeat.head_seq(), " is not signed by the origin"));
}

}  // namespace pgxn::feed
