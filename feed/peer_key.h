// The key the Feed server counts a client under (streams and snapshots per
// peer, bytes buffered per peer, reports a minute per peer), from gRPC's
// peer string. Pure function: safe from any thread.
#ifndef PGXN_FEED_PEER_KEY_H_
#define PGXN_FEED_PEER_KEY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace pgxn::feed {

// "ipv4:192.0.2.7:5678" -> "ipv4:192.0.2.7"; "ipv6:[2001:db8:1:2::9]:5678"
// (or gRPC's percent-encoded "ipv6:%5B2001:db8:1:2::9%5D:5678") ->
// "ipv6:2001:db8:1:2::/64" (base::ClientKey: an IPv6 client by its /64; an
// IPv4-mapped one, "ipv6:[::ffff:192.0.2.7]:1", as "ipv4:192.0.2.7"); so a
// client's connections count as one peer whatever their ports or the
// addresses of its network. Anything else (a Unix socket, "unknown") comes
// back without its last ":PORT", if any.
std::string PeerKey(absl::string_view grpc_peer);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_PEER_KEY_H_
