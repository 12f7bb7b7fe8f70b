// pgxnd export: writes the tree of a mirror's or indexer's store as plain
// files (replica/tree_export.h), for rsync mirrors and static web servers.
// The store is read as a RocksDB read-only instance (Store::OpenReadOnly),
// so the node may keep running and nothing in its data dir is written. The event
// the export reflects is kept in a state file beside the directory, never in
// it: the directory holds exactly the tree.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/files.h"
#include "base/signals.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"
#include "replica/store.h"
#include "replica/tree_export.h"

namespace pgxn::cli {
namespace {

namespace fs = std::filesystem;

// `path` absolute, without a trailing slash.
std::string Normalized(const std::string& path) {
  std::string absolute = fs::path(base::AbsolutePath(path)).lexically_normal().string();
  while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  return absolute;
}

// Whether `inner` is `outer` or lies below it.
bool Within(const std::string& inner, const std::string& outer) {
  return inner == outer || absl::StartsWith(inner, outer == "/" ? outer : outer + "/");
}

bool IsEmptyOrMissing(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(fs::status(dir, ec))) return true;
  return fs::is_directory(fs::status(dir, ec)) && fs::is_empty(dir, ec) && !ec;
}

// Holds an exclusive lock on `file` (created if missing) until the process
// exits: two exports into one PATH (a cron run overlapping the previous one)
// could otherwise leave files of an older seq under a newer mark.
absl::Status LockExclusively(const std::string& file, const std::string& to) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("Cannot open ", file, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("Another pgxnd export is writing ", to, " (it holds ", file, ")"));
    }
    return absl::InternalError(absl::StrCat("Cannot lock ", file, ": ", std::strerror(err)));
  }
  return absl::OkStatus();  // the descriptor stays open: the lock lasts
}

// One export: catch up with the node (unless the store was just opened),
// export, keep the mark. `*full` forces a full export (once: it is cleared
// after a success).
absl::StatusOr<replica::ExportResult> ExportOnce(replica::Store& store, bool catch_up,
                                                 const std::string& to,
                                                 const std::string& state_file, bool* full,
                                                 const std::function<bool()>& cancelled) {
  if (catch_up) {
    if (absl::Status s = store.CatchUpWithNode(); !s.ok()) return s;
  }
  absl::optional<replica::ExportMark> last;
  absl::StatusOr<replica::ExportMark> mark = replica::ReadExportMark(state_file);
  if (mark.ok()) {
    last = *std::move(mark);
  } else if (absl::IsNotFound(mark.status())) {
    // A full export deletes whatever the directory holds besides the tree:
    // only in a directory this command wrote, or when asked to.
    if (!*full && !IsEmptyOrMissing(to)) {
      return absl::FailedPreconditionError(
          absl::StrCat(to, " is not empty and was not exported to (no ", state_file,
                       "); pass --full to replace what it holds with the tree"));
    }
  } else {
    return mark.status();
  }
  if (*full) last.reset();
  absl::StatusOr<replica::ExportResult> result = replica::ExportTree(store, to, last, cancelled);
  if (!result.ok()) return result.status();
  if (absl::Status s = replica::WriteExportMark(state_file, result->mark); !s.ok()) return s;
  *full = false;
  return result;
}

// Set by the thread that waits for SIGINT/SIGTERM (with --follow).
class StopFlag {
 public:
  void Set() {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  bool IsSet() {
    absl::MutexLock lock(&mu_);
    return stop_;
  }
  // Waits up to `timeout`; true once stopped.
  bool WaitFor(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), timeout);
    return stop_;
  }

 private:
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

int RunExportCommand(const std::vector<std::string>& args) {
  std::string data_dir;
  std::string to;
  std::string state_file;
  bool full = false;
  bool follow = false;
  absl::Duration interval = absl::Seconds(1);
  FlagSet flags(
      "pgxnd export",
      "--data-dir DIR --to PATH [--state FILE] [--full] [--follow [--interval DURATION]]",
      "Writes the tree of a mirror or indexer (its data dir DIR) as plain files under\n"
      "PATH, laid out as PGXN's root mirror, for rsync mirrors and static web servers.\n"
      "The node may be running: its store is only read (a RocksDB read-only instance,\n"
      "opened anew for each pass), nothing in DIR is written.\n"
      "Each file is written atomically (a temporary file beside it, fsync, rename) with\n"
      "mode 0644, directories 0755; a file already right is not rewritten.\n"
      "The seq exported is kept in FILE (default: PATH.pgxnd-export, beside PATH), so\n"
      "that the next run writes only the files the node's log changed since and\n"
      "deletes those it deleted (incremental). Without FILE, for another epoch, or when\n"
      "the log no longer reaches back that far (a node bootstrapped from a snapshot\n"
      "since), every file is compared and whatever else PATH holds is deleted (full).\n"
      "A PATH that is not empty and has no FILE is refused unless --full is given.\n"
      "One export at a time writes PATH: FILE.lock is held while it runs.\n"
      "Prints one line per export: \"Exported seq N: P written, D deleted (incremental|full)\".\n"
      "SIGINT or SIGTERM stop an export between two files (exit 1; the next run\n"
      "redoes it). With --follow keeps exporting new events every --interval until\n"
      "SIGINT or SIGTERM (exit 0); a failed pass after the first is printed and retried.\n"
      "A node that holds no events yet is not exported (its empty tree would\n"
      "delete a good export).\n"
      "Exits 1 with the reason on failure, 2 on a usage error.\n"
      "Example: pgxnd export --data-dir /var/lib/pgxnd --to /srv/pgxn --follow");
  flags.String("data-dir", &data_dir, "the data directory of a mirror or indexer (required)");
  flags.String("to", &to, "the directory to write the tree into (required; created if missing)");
  flags.String("state", &state_file,
               "file keeping the seq exported (default: PATH.pgxnd-export; never inside PATH)");
  flags.Bool("full", &full,
             "compare every file and delete whatever PATH holds besides the tree, even if an "
             "incremental export is possible");
  flags.Bool("follow", &follow, "keep exporting new events until SIGINT or SIGTERM");
  flags.Duration("interval", &interval, "how often --follow looks for new events");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd export takes no arguments (see --help)");
  if (data_dir.empty()) return UsageError("pgxnd export: --data-dir is required");
  if (to.empty()) return UsageError("pgxnd export: --to is required");
  if (interval <= absl::ZeroDuration()) {
    return UsageError("pgxnd export: --interval must be positive");
  }
  data_dir = Normalized(data_dir);
  to = Normalized(to);
  state_file = state_file.empty() ? to + ".pgxnd-export" : Normalized(state_file);
  if (to == "/") return UsageError("pgxnd export: --to cannot be /");
  if (Within(to, data_dir) || Within(data_dir, to)) {
    return UsageError(absl::StrCat("pgxnd export: --to ", to, " and --data-dir ", data_dir,
                                   " must not contain one another"));
  }
  if (Within(state_file, to) || Within(state_file, data_dir)) {
    return UsageError(
        absl::StrCat("pgxnd export: --state ", state_file, " must be outside --to and --data-dir"));
  }

  if (absl::Status s = LockExclusively(state_file + ".lock", to); !s.ok()) return Fail(s);

  // SIGINT and SIGTERM stop an export between two files (with --follow,
  // exit 0): blocked before any thread starts, so that only the thread
  // waiting for them receives them. It is never joined: without a signal it
  // waits until the process exits.
  base::BlockTerminationSignals();
  auto stop = std::make_shared<StopFlag>();
  std::thread([stop] {
    while (base::WaitForTerminationSignal() == SIGHUP) {
    }
    stop->Set();
  }).detach();
  const std::function<bool()> cancelled = [stop] { return stop->IsSet(); };

  absl::StatusOr<std::unique_ptr<replica::Store>> store =
      replica::Store::OpenReadOnly(data_dir + "/store");
  if (!store.ok()) {
    return Fail(absl::Status(
        store.status().code(),
        absl::StrCat(store.status().message(), " (is --data-dir a mirror's or indexer's?)")));
  }

  absl::StatusOr<replica::ExportResult> first =
      ExportOnce(**store, /*catch_up=*/false, to, state_file, &full, cancelled);
  // Read beside a node that writes, the store can be opened in a moment
  // that does not add up (Unavailable, or DataLoss for a log with a gap):
  // opened anew, it does, so a few tries before giving up.
  for (int tries = 1; tries < 4 && !first.ok() && !stop->IsSet() &&
                      (absl::IsUnavailable(first.status()) || absl::IsDataLoss(first.status()));
       ++tries) {
    std::cerr << "pgxnd export: " << first.status().message() << " (trying again)" << std::endl;
    stop->WaitFor(absl::Seconds(tries));
    first = ExportOnce(**store, /*catch_up=*/true, to, state_file, &full, cancelled);
  }
  if (!first.ok()) {
    if (follow && stop->IsSet()) return kExitOk;
    return Fail(first.status());
  }
  std::cout << replica::ExportSummary(*first) << std::endl;
  if (!follow) return kExitOk;

  uint64_t seq = first->seq;
  std::string failing;  // the last failure printed, printed again only when it changes
  while (!stop->WaitFor(interval)) {
    absl::StatusOr<replica::ExportResult> result =
        ExportOnce(**store, /*catch_up=*/true, to, state_file, &full, cancelled);
    if (!result.ok()) {
      if (stop->IsSet()) break;
      if (result.status().message() != failing) {
        failing = std::string(result.status().message());
        std::cerr << "pgxnd: " << failing << " (retrying)" << std::endl;
      }
      continue;
    }
    failing.clear();
    if (result->seq == seq && result->written == 0 && result->deleted == 0) continue;
    seq = result->seq;
    std::cout << replica::ExportSummary(*result) << std::endl;
  }
  return kExitOk;
}

}  // namespace pgxn::cli
