#include "indexer/docs/sandboxed_command.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pgxn::indexer {
namespace {

constexpr size_t kMaxErrorBytes = 64 * 1024;
constexpr rlim_t kMaxFileBytes = rlim_t{64} << 20;
constexpr int kExecFailed = 127;

// --- In the child: async-signal-safe system calls only ------------------------

// Lets the process write only beneath `dir` (and to /dev/null), and read and
// run only the system's programs and libraries and `dir`, from now on, for
// itself and what it runs: not the node's data, keys or home. False if this
// kernel has no Landlock.
bool RestrictFilesystemTo(const char* dir) {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0,
                           static_cast<unsigned long>(LANDLOCK_CREATE_RULESET_VERSION));
  if (abi < 1) return false;
  uint64_t writes = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
  if (abi >= 2) writes |= LANDLOCK_ACCESS_FS_REFER;
#endif
  uint64_t truncate = 0;
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
  if (abi >= 3) truncate = LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
  writes |= truncate;
  const uint64_t reads =
      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE;
  struct landlock_ruleset_attr ruleset_attr;
  memset(&ruleset_attr, 0, sizeof ruleset_attr);
  ruleset_attr.handled_access_fs = writes | reads;
  const int ruleset =
      static_cast<int>(syscall(SYS_landlock_create_ruleset, &ruleset_attr, sizeof ruleset_attr, 0));
  if (ruleset < 0) return false;
  auto allow = [&](const char* path, uint64_t access) {
    struct landlock_path_beneath_attr beneath;
    memset(&beneath, 0, sizeof beneath);
    beneath.allowed_access = access;
    beneath.parent_fd = open(path, O_PATH | O_CLOEXEC);
    if (beneath.parent_fd < 0) return false;  // not on this system: nothing to allow
    const bool added =
        syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) == 0;
    close(beneath.parent_fd);
    return added;
  };
  bool ok = allow(dir, writes | reads);
  // What the converters run on: programs, libraries, their data, the few
  // files in /etc that the C library and interpreters read.
  for (const char* path : {"/usr",
                           "/lib",
                           "/lib64",
                           "/bin",
                           "/sbin",
                           "/etc/ld.so.cache",
                           "/etc/alternatives",
                           "/etc/localtime",
                           "/etc/nsswitch.conf",
                           "/etc/passwd",
                           "/etc/group",
                           "/etc/ssl",
                           "/etc/ruby",
                           "/etc/perl",
                           "/etc/python3",
                           "/etc/python3.11",
                           "/var/lib/gems",
                           "/proc",
                           "/sys",
                           "/dev/urandom",
                           "/dev/random"}) {
    allow(path, reads);
  }
  allow("/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | truncate);
  ok = ok && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
       syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
  close(ruleset);
  return ok;
}

// A network namespace of its own: no interface but a down loopback. Root may
// make one directly; others inside a user namespace of their own, where the
// kernel allows unprivileged ones.
bool IsolateNetwork() {
  return unshare(CLONE_NEWNET) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
}

void SetLimit(int resource, rlim_t value) {
  struct rlimit limit = {value, value};
  setrlimit(resource, &limit);
}

// --- In the parent -----------------------------------------------------------

void IgnoreSigpipeOnce() {
  // A converter that exits before reading all of its input must not take
  // the node down with SIGPIPE (pgxnd ignores it already; tests may not).
  static std::once_flag once;
  std::call_once(once, [] { signal(SIGPIPE, SIG_IGN); });
}

void KillGroup(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

SandboxSupport ProbeSandbox() {
  char dir_template[] = "/tmp/pgxnd-probe-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  SandboxSupport support;
  const pid_t pid = fork();
  if (pid == 0) {
    int bits = 0;
    if (IsolateNetwork()) bits |= 1;
    if (dir != nullptr && RestrictFilesystemTo(dir)) bits |= 2;
    _exit(bits);
  }
  if (pid > 0) {
    const int bits = WaitFor(pid);
    if (bits >= 0) {
      support.network = (bits & 1) != 0;
      support.filesystem = (bits & 2) != 0;
    }
  }
  if (dir != nullptr) rmdir(dir);
  return support;
}

absl::StatusOr<SandboxResult> RunSandboxed(const std::vector<std::string>& argv,
                                           absl::string_view input, const SandboxLimits& limits,
                                           const SandboxSupport& isolation) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return absl::InvalidArgumentError("a converter's path must be absolute");
  }
  IgnoreSigpipeOnce();
  const char* tmp = getenv("TMPDIR");
  std::string dir_template =
      absl::StrCat(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp", "/pgxnd-convert-XXXXXX");
  if (mkdtemp(dir_template.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("Cannot make a directory for ", argv[0], ": ", std::strerror(errno)));
  }
  const std::string dir = dir_template;
  auto remove_dir = absl::MakeCleanup([&] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });

  // Everything the child uses is made before fork: it may not allocate.
  std::vector<std::string> environment = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                          absl::StrCat("HOME=", dir),
                                          absl::StrCat("TMPDIR=", dir),
                                          "LANG=C.UTF-8",
                                          "LC_ALL=C.UTF-8",
                                          "PYTHONDONTWRITEBYTECODE=1",
                                          "PYTHONIOENCODING=utf-8"};
  std::vector<char*> args, envp;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  for (std::string& variable : environment) envp.push_back(variable.data());
  envp.push_back(nullptr);
  const rlim_t cpu_seconds =
      static_cast<rlim_t>(std::ceil(absl::ToDoubleSeconds(limits.timeout))) + 1;

  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return absl::InternalError("pipe failed");
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) close(fd);
    return absl::InternalError("pipe failed");
  }
  const pid_t pid = fork();
  if (pid == 0) {
    // A session of its own: its own process group, and no controlling
    // terminal of the node's to push input into.
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(in_pipe[0], STDIN_FILENO) < 0 || dup2(out_pipe[1], STDOUT_FILENO) < 0 ||
        dup2(err_pipe[1], STDERR_FILENO) < 0) {
      _exit(kExecFailed);
    }
    // Whatever the node had open; where close_range is missing, the
    // descriptors are closed one by one.
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
      for (int fd = 3; fd < 65536; ++fd) close(fd);
    }
    if (chdir(dir.c_str()) != 0) _exit(kExecFailed);
    SetLimit(RLIMIT_AS, static_cast<rlim_t>(limits.max_memory_bytes));
    SetLimit(RLIMIT_CPU, cpu_seconds);
    SetLimit(RLIMIT_FSIZE, kMaxFileBytes);
    SetLimit(RLIMIT_CORE, 0);
    // What the probe found the kernel grants must hold for every run.
    if (!IsolateNetwork() && isolation.network) _exit(kExecFailed);
    if (!RestrictFilesystemTo(dir.c_str()) && isolation.filesystem) _exit(kExecFailed);
    execve(args[0], args.data(), envp.data());
    _exit(kExecFailed);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0]}) close(fd);
    return absl::InternalError(absl::StrCat("Cannot start ", argv[0], ": fork failed"));
  }

  // Feed stdin and drain both outputs together, so that no side blocks
  // another, until both outputs close or a limit is passed.
  SandboxResult result;
  absl::Status cut_off;
  int in_fd = in_pipe[1], out_fd = out_pipe[0], err_fd = err_pipe[0];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  const absl::Time deadline = absl::Now() + limits.timeout;
  char buffer[65536];
  while ((out_fd >= 0 || err_fd >= 0) && cut_off.ok()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      cut_off = absl::DeadlineExceededError(
          absl::StrCat(argv[0], " ran longer than ", absl::FormatDuration(limits.timeout)));
      break;
    }
    pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    const int n = poll(fds, 3, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      cut_off = absl::InternalError("poll failed");
      break;
    }
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out_fd : err_fd;
      if (fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = read(fd, buffer, sizeof buffer);
      if (got > 0) {
        std::string& into = i == 0 ? result.output : result.errors;
        const size_t room = i == 0 ? limits.max_output_bytes + 1 : kMaxErrorBytes;
        into.append(buffer, std::min(static_cast<size_t>(got), room - std::min(room, into.size())));
      } else if (got == 0 || errno != EINTR) {
        close(fd);
        fd = -1;
      }
    }
    if (result.output.size() > limits.max_output_bytes) {
      cut_off = absl::ResourceExhaustedError(absl::StrCat(argv[0], " wrote more than the limit of ",
                                                          limits.max_output_bytes, " bytes"));
    }
    if (in_fd >= 0 && fds[2].revents != 0) {
      const ssize_t put = write(in_fd, input.data() + written, input.size() - written);
      if (put > 0) written += static_cast<size_t>(put);
      if ((put < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) close(fd);
  }
  if (cut_off.ok()) {
    // Its outputs are closed: it is exiting, or has closed them and runs on,
    // which it may do only until the deadline.
    // Checked without reaping it, so that its process group, and the pid
    // naming it, stay its own until what it left behind there is killed.
    siginfo_t info;
    bool exited = false;
    while (absl::Now() < deadline) {
      memset(&info, 0, sizeof info);
      if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        exited = true;
        break;
      }
      poll(nullptr, 0, 5);
    }
    if (exited) {
      kill(-pid, SIGKILL);
      result.exit_code = WaitFor(pid);
      return result;
    }
    cut_off = absl::DeadlineExceededError(
        absl::StrCat(argv[0], " ran longer than ", absl::FormatDuration(limits.timeout)));
  }
  KillGroup(pid);
  WaitFor(pid);
  return cut_off;
}

}  // namespace pgxn::indexer
