// HOST:PORT arguments of --http, --grpc and --upstream.
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

}  // namespace pgxn::base

#endif  // PGXN_BASE_ADDRESS_H_
