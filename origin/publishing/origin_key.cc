#include "origin/publishing/origin_key.h"

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "base/files.h"
#include "origin/publishing/settings.h"

namespace pgxn::origin {
namespace {

constexpr absl::string_view kSecretPrefix = "ed25519-secret:";

}  // namespace

absl::StatusOr<feed::KeyPair> LoadOrCreateOriginKey(const std::string& data_dir) {
  const std::string path = data_dir + "/origin.key";
  absl::StatusOr<std::string> text = base::ReadFile(path);
  if (absl::IsNotFound(text.status())) {
    feed::KeyPair key = feed::GenerateKeyPair();
    if (absl::Status s = base::WriteFileAtomically(
            path, absl::StrCat(kSecretPrefix, base::HexEncode(key.secret_key), "\n"), 0600);
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
  if (absl::ConsumePrefix(&body, kSecretPrefix)) secret = base::HexDecode(body);
  if (!secret.has_value() || secret->size() != feed::kSecretKeyBytes) {
    return absl::DataLossError(absl::StrCat(path, " does not hold an origin key"));
  }
  // libsodium's secret key is the seed followed by the public key.
  return feed::KeyPair{secret->substr(32), *secret};
}

absl::Status CheckOriginKey(PgConnection& conn, const feed::KeyPair& key) {
  absl::StatusOr<std::string> recorded = GetSetting(conn, Setting::kOriginPublicKey);
  const std::string ours = base::HexEncode(key.public_key);
  if (absl::IsNotFound(recorded.status())) return PutSetting(conn, Setting::kOriginPublicKey, ours);
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
