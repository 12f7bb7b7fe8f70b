#include "feed/peer_key.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/address.h"

namespace pgxn::feed {

std::string PeerKey(absl::string_view grpc_peer) {
  absl::string_view rest = grpc_peer;
  if (absl::ConsumePrefix(&rest, "ipv6:")) {
    // "[ADDRESS]:PORT", the brackets maybe percent-encoded.
    size_t end = absl::string_view::npos;
    if (absl::ConsumePrefix(&rest, "[")) {
      end = rest.find(']');
    } else if (absl::StartsWithIgnoreCase(rest, "%5B")) {
      rest.remove_prefix(3);
      end = std::min(rest.find("%5D"), rest.find("%5d"));
    }
    if (end == absl::string_view::npos) return std::string(grpc_peer);
    const std::string key = base::ClientKey(rest.substr(0, end));
    // An IPv4-mapped address is the same client as over IPv4.
    return absl::StrCat(key.find(':') == std::string::npos ? "ipv4:" : "ipv6:", key);
  }
  const size_t colon = grpc_peer.rfind(':');
  const size_t scheme = grpc_peer.find(':');
  if (colon == absl::string_view::npos || colon == scheme) return std::string(grpc_peer);
  return std::string(grpc_peer.substr(0, colon));
}

}  // namespace pgxn::feed
