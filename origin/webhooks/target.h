// Where a webhook may deliver: its URL, parsed and checked at registration
// and again before each delivery, and which resolved addresses count as
// public. The HTTP client (http_client.h) connects only to an address this
// file calls public (unless the operator allows private ones), checking the
// address it actually connects to, so a name that resolves to a public
// address at registration and to 127.0.0.1 later (DNS rebinding) is still
// refused. Pure functions; thread-safe.
#ifndef PGXN_ORIGIN_WEBHOOKS_TARGET_H_
#define PGXN_ORIGIN_WEBHOOKS_TARGET_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::origin {

struct WebhookUrl {
  bool tls = false;    // https
  std::string host;    // a name, an IPv4 literal, or an IPv6 literal without brackets
  uint16_t port = 0;   // 80 or 443 unless given
  std::string target;  // path and query, at least "/"
};

inline constexpr size_t kMaxWebhookUrlBytes = 2048;

// InvalidArgument naming the problem for a URL that is not http:// or
// https://, has user info, a fragment, no host, a bad port, spaces or
// control characters, or is longer than kMaxWebhookUrlBytes.
absl::StatusOr<WebhookUrl> ParseWebhookUrl(absl::string_view url);

// What kind of address `address` is (4 bytes for IPv4, 16 for IPv6, in
// network order): "public", or the reason it is not: "loopback",
// "private", "link-local", "multicast", "unspecified", "reserved" (shared
// address space, documentation, benchmarking, broadcast, 0/8, 240/4, IPv6
// documentation, NAT64 of a non-public IPv4...). An IPv4-mapped or
// IPv4-compatible IPv6 address is judged as its IPv4 address.
std::string ClassifyAddress(absl::string_view address);

inline bool IsPublicAddress(absl::string_view address) {
  return ClassifyAddress(address) == "public";
}

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_WEBHOOKS_TARGET_H_
