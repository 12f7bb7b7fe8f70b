// Runs a helper program (initdb, pg_ctl, a sendmail) without a shell, waits for
// it, and captures what it printed. Thread-safe.
#ifndef PGXN_ORIGIN_PG_COMMAND_H_
#define PGXN_ORIGIN_PG_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pgxn::origin {

struct CommandResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

// argv[0] is looked up in PATH when it has no slash. `input` is written to the
// program's stdin. Fails only if the program cannot be started.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& input = "");

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PG_COMMAND_H_
