#include "origin/origin_key.h"

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "node/digest.h"
#include "node/files.h"
#include "origin/accounts.h"

namespace pgxn::origin {
namespace {

constexpr absl::string_view kSecretPrefix = "ed25519-secret:";
constexpr char kPublicKeySetting[] = "origin_public_key";

}  // namespace

absl::StatusOr<node::KeyPair> LoadOrCreateOriginKey(const std::string& data_dir) {
  const std::string path = data_dir + "/origin.key";
  absl::StatusOr<std::string> text = node::ReadFile(path);
  if (absl::IsNotFound(text.status())) {
    node::KeyPair key = node::GenerateKeyPair();
    if (absl::Status s = node::WriteFileAtomically(
            path, absl::StrCat(kSecretPrefix, node::HexEncode(key.secret_key), "\n"), 0600);
        !s.ok()) {
      return s;
    }
    return key;
  }
  if (!text.ok()) return text.status();
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 0077) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, " is readable by others; make it private (chmod 600)"));
  }
  absl::string_view body = absl::StripAsciiWhitespace(*text);
  absl::optional<std::string> secret;
  if (absl::ConsumePrefix(&body, kSecretPrefix)) secret = node::HexDecode(body);
  if (!secret.has_value() || secret->size() != node::kSecretKeyBytes) {
    return absl::DataLossError(absl::StrCat(path, " does not hold an origin key"));
  }
  // libsodium's secret key is the seed followed by the public key.
  return node::KeyPair{secret->substr(32), *secret};
}

absl::Status CheckOriginKey(PgConnection& conn, const node::KeyPair& key) {
  absl::StatusOr<std::string> recorded = GetSetting(conn, kPublicKeySetting);
  const std::string ours = node::HexEncode(key.public_key);
  if (absl::IsNotFound(recorded.status())) return PutSetting(conn, kPublicKeySetting, ours);
  if (!recorded.ok()) return recorded.status();
  if (*recorded != ours) {
    return absl::FailedPreconditionError(
        absl::StrCat("This database's events are signed by origin key ed25519:", *recorded,
                     ", but the data directory holds ed25519:", ours,
                     "; use the origin.key that belongs to this database"));
  }
  return absl::OkStatus();
}

}  // namespace pgxn::origin
