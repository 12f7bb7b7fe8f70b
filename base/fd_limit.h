// The process's file-descriptor budget. Every HTTP connection, gRPC stream,
// Postgres connection and RocksDB file is a descriptor; a node that runs out
// stops accepting anything, its status page included. pgxnd raises its soft
// limit to the hard one at start (most systems ship a soft 1024 under a far
// higher hard limit) and derives its connection caps from what it got.
// Called once from main; thread-safe (getrlimit/setrlimit).
#ifndef PGXN_BASE_FD_LIMIT_H_
#define PGXN_BASE_FD_LIMIT_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace pgxn::base {

struct FdLimit {
  uint64_t before = 0;  // the soft limit found
  uint64_t soft = 0;    // the soft limit now
  uint64_t hard = 0;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit (when the hard limit is
// unlimited, to the kernel's nr_open). Internal if the limits cannot be read.
absl::StatusOr<FdLimit> RaiseOpenFileLimit();

// Descriptors kept out of the HTTP budget for everything else a node opens:
// RocksDB's files, gRPC streams, Postgres connections, the log, temp files.
inline constexpr uint64_t kReservedDescriptors = 512;

// The default HTTP connection cap for a node with `soft_limit` descriptors and
// `listeners` HTTP listeners: what is left after kReservedDescriptors, shared
// among the listeners, at least 64 and at most 65536 each.
size_t DefaultMaxConnections(uint64_t soft_limit, int listeners);

}  // namespace pgxn::base

#endif  // PGXN_BASE_FD_LIMIT_H_
