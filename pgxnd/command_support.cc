#include "pgxnd/command_support.h"

#include <iostream>

namespace pgxn::cli {

absl::optional<std::vector<std::string>> ParseOrExit(FlagSet& flags,
                                                     const std::vector<std::string>& args,
                                                     int* exit_code) {
  absl::StatusOr<std::vector<std::string>> positional = flags.Parse(args);
  if (positional.ok()) return *std::move(positional);
  if (absl::IsNotFound(positional.status())) {
    std::cout << flags.Help();
    *exit_code = kExitOk;
  } else {
    *exit_code = UsageError(std::string(positional.status().message()));
  }
  return absl::nullopt;
}

int Fail(const absl::Status& status) {
  std::cerr << "pgxnd: " << status.message() << std::endl;
  return kExitFailure;
}

int UsageError(const std::string& message) {
  std::cerr << "pgxnd: " << message << std::endl;
  return kExitUsage;
}

}  // namespace pgxn::cli
