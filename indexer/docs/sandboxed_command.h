// Runs an untrusted document converter (rst2html5, asciidoctor, perl,
// pandoc) on hostile input, so that it cannot stall the indexer, exhaust the
// node or reach anything: the program runs in a fresh temporary directory
// (its cwd, HOME and TMPDIR, removed afterwards) with a minimal environment,
// in a process group of its own, under a wall-clock limit (then the group is
// killed), a CPU-time and an address-space limit, with its output cut off at
// a size (then it is killed too); where the kernel allows, in a network
// namespace of its own (no network) and under a Landlock ruleset that lets it
// write nowhere but that directory and read only the system's programs,
// libraries and data (not the node's files). It still shares the node's
// user, so it could connect to a UNIX socket by its path, and what it
// starts in a session of its own escapes the group kill; the converters the
// indexer runs do neither, and run with their own safe modes.
//
// Thread-safe: each call forks its own child. The child does only
// async-signal-safe system calls between fork and exec.
#ifndef PGXN_INDEXER_DOCS_SANDBOXED_COMMAND_H_
#define PGXN_INDEXER_DOCS_SANDBOXED_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pgxn::indexer {

struct SandboxLimits {
  absl::Duration timeout = absl::Seconds(10);     // wall clock
  uint64_t max_memory_bytes = uint64_t{1} << 30;  // address space (RLIMIT_AS)
  size_t max_output_bytes = size_t{16} << 20;     // stdout; stderr keeps its first 64 KiB
};

struct SandboxResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string output;  // stdout
  std::string errors;  // stderr, cut at 64 KiB
};

// What isolation this kernel grants a converter (probed by running a child).
struct SandboxSupport {
  bool network = false;     // a network namespace of its own
  bool filesystem = false;  // Landlock: writes only in its temporary directory, reads the system
};
SandboxSupport ProbeSandbox();

// Runs `argv` (argv[0] an absolute path) with `input` on stdin, with at least
// the isolation `isolation` says (ProbeSandbox's finding): if the child cannot
// have it, it exits 127 without running anything. Returns its
// result whatever its exit code; DeadlineExceeded when it ran past
// limits.timeout, ResourceExhausted when its output passed
// limits.max_output_bytes (it is killed in both cases), Internal when it
// could not be started.
absl::StatusOr<SandboxResult> RunSandboxed(const std::vector<std::string>& argv,
                                           absl::string_view input, const SandboxLimits& limits,
                                           const SandboxSupport& isolation = {});

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_SANDBOXED_COMMAND_H_
