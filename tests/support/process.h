// Test support: a child process (a pgxnd node, the pgxn client, curl) started
// without a shell, its output sent to a log file, stopped with a signal.
#ifndef PGXN_TESTS_SUPPORT_PROCESS_H_
#define PGXN_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace pgxn::testing {

class Process {
 public:
  // Starts argv with stdout and stderr appended to `log_path`. Aborts the test
  // binary if the program cannot be started (a broken test setup).
  Process(std::vector<std::string> argv, std::string log_path);
  ~Process();  // SIGKILL if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Sends `signal` and waits for the exit; returns the exit code, or 128 +
  // signal number when killed by a signal.
  int Stop(int signal);
  // True while the process has not exited.
  bool Running();
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string log_path_;
};

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs argv to completion with `input` on stdin.
RunResult RunProgram(const std::vector<std::string>& argv, const std::string& input = "");

// The stock pgxn client against the node at `node_url` (its HTTP root, no
// trailing slash): `pgxn CMD --mirror NODE_URL/ ARGS...` for args
// {CMD, ARGS...} (the client takes --mirror after the subcommand).
RunResult RunPgxnClient(const std::string& node_url, std::vector<std::string> args);

// The whole file, or "" if it cannot be read.
std::string ReadWholeFile(const std::string& path);
void WriteWholeFile(const std::string& path, const std::string& contents);

}  // namespace pgxn::testing

#endif  // PGXN_TESTS_SUPPORT_PROCESS_H_
