#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "origin/pg/command.h"

extern char** environ;

namespace pgxn::testing {

Process::Process(std::vector<std::string> argv, std::string log_path)
    : log_path_(std::move(log_path)) {
  int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    std::perror(log_path_.c_str());
    std::abort();
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log, STDERR_FILENO);
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  // The test's environment, and: nodes started by tests keep abseil's
  // lock-order check (pgxnd/main.cc).
  std::string lock_check = "PGXN_LOCK_ORDER_CHECK=1";
  std::vector<char*> env;
  for (char** var = environ; *var != nullptr; ++var) env.push_back(*var);
  env.push_back(lock_check.data());
  env.push_back(nullptr);
  int err = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(log);
  if (err != 0) {
    std::fprintf(stderr, "cannot start %s: %s\n", args[0], std::strerror(err));
    std::abort();
  }
}

Process::~Process() {
  if (Running()) Stop(SIGKILL);
}

bool Process::Running() {
  if (exit_code_ >= 0) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == 0) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

int Process::Stop(int signal) {
  if (!Running()) return exit_code_;
  ::kill(pid_, signal);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

RunResult RunProgram(const std::vector<std::string>& argv, const std::string& input) {
  absl::StatusOr<origin::CommandResult> result = origin::RunCommand(argv, input);
  if (!result.ok()) return RunResult{-1, std::string(result.status().message())};
  return RunResult{result->exit_code, result->output};
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteWholeFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

RunResult RunPgxnClient(const std::string& node_url, std::vector<std::string> args) {
  args.insert(args.begin() + (args.empty() ? 0 : 1), {"--mirror", node_url + "/"});
  args.insert(args.begin(), "pgxn");
  return RunProgram(args);
}

}  // namespace pgxn::testing
