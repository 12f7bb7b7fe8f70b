#include "origin/webhooks/target.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pgxn::origin {
namespace {

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("Invalid webhook URL: ", why));
}

bool InV4(const unsigned char* a, uint8_t b0, uint8_t b1, int prefix) {
  const uint32_t addr =
      (uint32_t{a[0]} << 24) | (uint32_t{a[1]} << 16) | (uint32_t{a[2]} << 8) | a[3];
  const uint32_t net = (uint32_t{b0} << 24) | (uint32_t{b1} << 16);
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (addr & mask) == (net & mask);
}

std::string ClassifyV4(const unsigned char* a) {
  if (InV4(a, 0, 0, 32)) return "unspecified";
  if (InV4(a, 127, 0, 8)) return "loopback";
  if (InV4(a, 10, 0, 8) || InV4(a, 172, 16, 12) || InV4(a, 192, 168, 16)) return "private";
  if (InV4(a, 169, 254, 16)) return "link-local";
  if (InV4(a, 224, 0, 4)) return "multicast";
  if (InV4(a, 0, 0, 8) || InV4(a, 100, 64, 10) || InV4(a, 192, 0, 24) || InV4(a, 198, 18, 15) ||
      InV4(a, 240, 0, 4)) {
    return "reserved";
  }
  // Documentation ranges (TEST-NET-1..3).
  const bool test_net = (a[0] == 192 && a[1] == 0 && a[2] == 2) ||
                        (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
                        (a[0] == 203 && a[1] == 0 && a[2] == 113);
  if (test_net) return "reserved";
  return "public";
}

std::string ClassifyV6(const unsigned char* a) {
  static const unsigned char kZero[16] = {};
  if (std::memcmp(a, kZero, 16) == 0) return "unspecified";
  if (std::memcmp(a, kZero, 15) == 0 && a[15] == 1) return "loopback";
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the
  // kernel connects to the IPv4 address.
  if (std::memcmp(a, kZero, 10) == 0 &&
      ((a[10] == 0xff && a[11] == 0xff) || (a[10] == 0 && a[11] == 0))) {
    return ClassifyV4(a + 12);
  }
  // 64:ff9b::/96, NAT64 of an IPv4 address.
  static const unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b};
  if (std::memcmp(a, kNat64, 12) == 0) return ClassifyV4(a + 12);
  if (a[0] == 0xff) return "multicast";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";
  if ((a[0] & 0xfe) == 0xfc) return "private";                  // fc00::/7, ULA
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "private";  // fec0::/10, site-local
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return "reserved";  // doc
  if (a[0] == 0x20 && a[1] == 0x02) return "reserved";  // 6to4 relays to any IPv4
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) return "reserved";  // Teredo
  // Global unicast is 2000::/3; everything else is unassigned or special.
  if ((a[0] & 0xe0) != 0x20) return "reserved";
  return "public";
}

}  // namespace

std::string ClassifyAddress(absl::string_view address) {
  const auto* a = reinterpret_cast<const unsigned char*>(address.data());
  if (address.size() == 4) return ClassifyV4(a);
  if (address.size() == 16) return ClassifyV6(a);
  return "reserved";
}

absl::StatusOr<WebhookUrl> ParseWebhookUrl(absl::string_view url) {
  if (url.empty()) return Bad("empty");
  if (url.size() > kMaxWebhookUrlBytes) {
    return Bad(absl::StrCat("longer than ", kMaxWebhookUrlBytes, " bytes"));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f ||
        static_cast<unsigned char>(c) >= 0x80) {
      return Bad("spaces, control characters and non-ASCII bytes must be percent-encoded");
    }
  }
  WebhookUrl result;
  absl::string_view rest = url;
  const size_t colon = rest.find("://");
  if (colon == absl::string_view::npos) return Bad("it needs http:// or https://");
  const std::string scheme = absl::AsciiStrToLower(rest.substr(0, colon));
  if (scheme == "https") {
    result.tls = true;
  } else if (scheme != "http") {
    return Bad(absl::StrCat("scheme \"", scheme, "\" is not http or https"));
  }
  rest.remove_prefix(colon + 3);
  if (absl::StrContains(rest, '#')) return Bad("a fragment is not sent; remove it");
  const size_t path_start = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, path_start);
  result.target =
      path_start == absl::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (result.target[0] == '?') result.target.insert(0, "/");
  if (absl::StrContains(authority, '@')) return Bad("user information is not allowed");
  absl::string_view port_text;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return Bad("unclosed [ in the host");
    result.host = std::string(authority.substr(1, close - 1));
    unsigned char buf[16];
    if (inet_pton(AF_INET6, result.host.c_str(), buf) != 1) return Bad("bad IPv6 address");
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!absl::ConsumePrefix(&after, ":")) return Bad("junk after the IPv6 address");
      port_text = after;
      if (port_text.empty()) return Bad("empty port");
    }
  } else {
    const size_t port_colon = authority.rfind(':');
    if (port_colon != absl::string_view::npos) {
      port_text = authority.substr(port_colon + 1);
      authority = authority.substr(0, port_colon);
      if (port_text.empty()) return Bad("empty port");
    }
    result.host = absl::AsciiStrToLower(authority);
    for (char c : result.host) {
      if (!(absl::ascii_isalnum(c) || c == '-' || c == '.')) {
        return Bad(absl::StrCat("host \"", result.host,
                                "\" has a character other than letters, "
                                "digits, '-' and '.'"));
      }
    }
    if (absl::StrContains(result.host, "..") || absl::StartsWith(result.host, ".")) {
      return Bad(absl::StrCat("host \"", result.host, "\" has an empty label"));
    }
  }
  if (result.host.empty()) return Bad("no host");
  if (result.host.size() > 253) return Bad("host longer than 253 characters");
  if (port_text.empty()) {
    result.port = result.tls ? 443 : 80;
  } else {
    uint32_t port = 0;
    if (port_text.size() > 5 || !absl::SimpleAtoi(port_text, &port) || port == 0 || port > 65535) {
      return Bad(absl::StrCat("port \"", port_text, "\" is not 1-65535"));
    }
    result.port = static_cast<uint16_t>(port);
  }
  return result;
}

}  // namespace pgxn::origin
