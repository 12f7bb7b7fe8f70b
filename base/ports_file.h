// DIR/ports.json, written once a node listens: {"http": N, "grpc": M}, and
// "site": S on an indexer serving the website. Tests and scripts start nodes
// on port 0 and read the ports from here.
#ifndef PGXN_BASE_PORTS_FILE_H_
#define PGXN_BASE_PORTS_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace pgxn::base {

// Writes the file atomically (temp file + rename), so a reader never sees a
// partial file.
// `site_port` 0 leaves "site" out.
absl::Status WritePortsFile(const std::string& data_dir, int http_port, int grpc_port,
                            int site_port = 0);

}  // namespace pgxn::base

#endif  // PGXN_BASE_PORTS_FILE_H_
