// HOST:PORT arguments of --http, --grpc and --upstream, and the key a
// client's address counts under in per-client limits. Pure functions.
#ifndef PGXN_BASE_ADDRESS_H_
#define PGXN_BASE_ADDRESS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::base {

struct HostPort {
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
};

// "127.0.0.1:8080", "localhost:0", "[::1]:9000". InvalidArgument naming the
// value otherwise.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view value);

// The key that limits per client count a peer's IP address (without port or
// brackets) under: connections and event streams per address, login
// failures, registrations. An IPv4 address as it is; an IPv6 address as its
// /64 network ("2001:db8:1:2::/64"), since an ISP gives each customer at
// least a /64 and a client could otherwise take a new address for every
// request; an IPv4-mapped IPv6 address (::ffff:192.0.2.1, a dual-stack
// socket's IPv4 peer) as the IPv4 address. Anything that is not an IP
// address comes back unchanged.
std::string ClientKey(absl::string_view ip);

}  // namespace pgxn::base

#endif  // PGXN_BASE_ADDRESS_H_
