// Shared plumbing of the subcommands: parsing flags with --help and usage
// errors handled uniformly, and reporting a failed status.
#ifndef PGXN_PGXND_COMMAND_SUPPORT_H_
#define PGXN_PGXND_COMMAND_SUPPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/optional.h"
#include "pgxnd/flags.h"

namespace pgxn::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Parses `args`. On --help prints the help to stdout and sets *exit_code to 0;
// on a usage error prints it to stderr and sets *exit_code to 2; in both cases
// returns nullopt.
absl::optional<std::vector<std::string>> ParseOrExit(FlagSet& flags,
                                                     const std::vector<std::string>& args,
                                                     int* exit_code);

// Prints "pgxnd: <message>" to stderr and returns 1.
int Fail(const absl::Status& status);

// A usage error: prints it and returns 2.
int UsageError(const std::string& message);

}  // namespace pgxn::cli

#endif  // PGXN_PGXND_COMMAND_SUPPORT_H_
