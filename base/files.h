// Small local-file helpers for a node's data directory (never used to serve
// HTTP requests: the gateway reads only the store).
#ifndef PGXN_BASE_FILES_H_
#define PGXN_BASE_FILES_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::base {

// Creates `dir` and its missing parents with `mode`; OK if it exists.
absl::Status MakeDirectories(const std::string& dir, mode_t mode = 0755);

// Writes `contents` to `path` through a temporary file, fsync and rename.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, mode_t mode);

// The whole file; NotFound if it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// `path` made absolute against the current directory (no symlink resolution).
std::string AbsolutePath(const std::string& path);

}  // namespace pgxn::base

#endif  // PGXN_BASE_FILES_H_
