#include "gateway/basic_auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace pgxn::gateway {

absl::optional<Credentials> ParseBasicAuth(absl::string_view authorization_header) {
  const absl::string_view header = absl::StripAsciiWhitespace(authorization_header);
  const size_t space = header.find_first_of(" \t");
  if (space == absl::string_view::npos) return absl::nullopt;
  if (!absl::EqualsIgnoreCase(header.substr(0, space), "Basic")) return absl::nullopt;
  const absl::string_view token = absl::StripLeadingAsciiWhitespace(header.substr(space));
  if (token.empty() || token.find_first_of(" \t") != absl::string_view::npos) {
    return absl::nullopt;
  }
  std::string decoded;
  if (!absl::Base64Unescape(token, &decoded)) return absl::nullopt;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) return absl::nullopt;
  return Credentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
}

}  // namespace pgxn::gateway
