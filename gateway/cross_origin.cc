#include "gateway/cross_origin.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace pgxn::gateway {
namespace {

// Origin is "scheme://host[:port]" (RFC 6454): the part after "://", or ""
// for anything else ("null", a value with a path, garbage).
absl::string_view OriginHost(absl::string_view origin) {
  const size_t separator = origin.find("://");
  if (separator == absl::string_view::npos || separator == 0) return "";
  absl::string_view host = origin.substr(separator + 3);
  if (host.empty() || host.find_first_of("/?#@ ") != absl::string_view::npos) return "";
  return host;
}

// A header value as the refusal quotes it: at most 200 bytes, so a long
// forged header does not make a long answer.
absl::string_view Shown(absl::string_view value) { return value.substr(0, 200); }

}  // namespace

std::string OriginOfUrl(absl::string_view url) {
  const size_t separator = url.find("://");
  if (separator == absl::string_view::npos || separator == 0) return "";
  const size_t end = url.find_first_of("/?#", separator + 3);
  const absl::string_view origin = url.substr(0, end);
  if (OriginHost(origin).empty()) return "";
  return std::string(origin);
}

absl::optional<std::string> CrossOriginRefusal(const Request& request,
                                               absl::string_view public_origin) {
  if (request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS") {
    return absl::nullopt;
  }
  const absl::string_view site = absl::StripAsciiWhitespace(request.Header("sec-fetch-site"));
  if (!site.empty()) {
    if (absl::EqualsIgnoreCase(site, "same-origin") || absl::EqualsIgnoreCase(site, "none")) {
      return absl::nullopt;
    }
    return absl::StrCat("Cross-origin request refused: the browser sent it from another site ",
                        "(Sec-Fetch-Site: ", Shown(site), ")");
  }
  const absl::string_view origin = absl::StripAsciiWhitespace(request.Header("origin"));
  if (origin.empty()) return absl::nullopt;
  const absl::string_view host = absl::StripAsciiWhitespace(request.Header("host"));
  if (!host.empty() && absl::EqualsIgnoreCase(OriginHost(origin), host)) return absl::nullopt;
  if (!public_origin.empty() && absl::EqualsIgnoreCase(origin, public_origin)) {
    return absl::nullopt;
  }
  return absl::StrCat("Cross-origin request refused: Origin ", Shown(origin), " is not this host (",
                      host.empty() ? "no Host header" : Shown(host), ")");
}

}  // namespace pgxn::gateway
