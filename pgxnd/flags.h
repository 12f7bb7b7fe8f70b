// Command-line flags of one pgxnd subcommand: `--name VALUE`, `--name=VALUE`,
// boolean `--name`, repeatable flags, positional arguments, and
// `--flagfile FILE` to read flags from a file (what the systemd units give).
// Each subcommand declares its own set, so `--help` lists exactly what it
// takes and an unknown flag or a bad value fails with a message naming it.
#ifndef PGXN_PGXND_FLAGS_H_
#define PGXN_PGXND_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pgxn::cli {

class FlagSet {
 public:
  // `command` as typed ("pgxnd mirror"), `usage` the argument synopsis.
  FlagSet(std::string command, std::string usage, std::string summary);

  void String(const std::string& name, std::string* value, const std::string& help);
  void Strings(const std::string& name, std::vector<std::string>* values, const std::string& help);
  void Bool(const std::string& name, bool* value, const std::string& help);
  void Uint64(const std::string& name, uint64_t* value, const std::string& help);
  // A size such as 65536, 64K, 64M or 1G (powers of 1024).
  void Bytes(const std::string& name, uint64_t* value, const std::string& help);
  // A duration such as 500ms, 2s or 1m.
  void Duration(const std::string& name, absl::Duration* value, const std::string& help);

  // Parses `args` (after the subcommand). Returns the positional arguments.
  // NotFound when --help was asked for (print Help()); InvalidArgument naming
  // the flag otherwise.
  //
  // `--flagfile FILE` (or `--flagfile=FILE`) sets the flags FILE lists, at
  // that point of the command line: one flag a line, `--name=value` or
  // `--name value` (the value is the rest of the line, spaces included) or a
  // boolean's bare `--name`; blank lines and lines starting with `#` are
  // skipped. Flags after it on the command line override the file's; for a
  // repeatable flag (--upstream) they replace the file's values instead of
  // adding to them. A file may not name another --flagfile. Errors in the
  // file are InvalidArgument prefixed with "FILE:LINE: ".
  absl::StatusOr<std::vector<std::string>> Parse(const std::vector<std::string>& args);

  std::string Help() const;

 private:
  enum class Kind { kString, kStrings, kBool, kUint64, kBytes, kDuration };
  struct Flag {
    std::string name;
    Kind kind;
    void* target;
    std::string help;
    std::string default_text;
    // A repeatable flag: the source whose values it holds (-1: none yet).
    int source = -1;
  };
  Flag* Find(const std::string& name);
  // Sets `flag` from the source numbered `source` (the command line between
  // two flag files, or one file): a repeatable flag set by an earlier source
  // starts over.
  absl::Status Set(Flag& flag, const std::string& value, int source);
  absl::Status ReadFlagFile(const std::string& path, int source);

  std::string command_;
  std::string usage_;
  std::string summary_;
  std::vector<Flag> flags_;
};

// Parses "64M"-style sizes and "2s"-style durations (exposed for tests).
absl::StatusOr<uint64_t> ParseBytes(const std::string& text);

}  // namespace pgxn::cli

#endif  // PGXN_PGXND_FLAGS_H_
