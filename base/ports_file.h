// DIR/ports.json, written once a node listens: {"http": N, "grpc": M}. Tests and
// scripts start nodes on port 0 and read the ports from here.
#ifndef PGXN_BASE_PORTS_FILE_H_
#define PGXN_BASE_PORTS_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace pgxn::base {

// Writes the file atomically (temp file + rename), so a reader never sees a
// partial file.
absl::Status WritePortsFile(const std::string& data_dir, int http_port, int grpc_port);

}  // namespace pgxn::base

#endif  // PGXN_BASE_PORTS_FILE_H_
