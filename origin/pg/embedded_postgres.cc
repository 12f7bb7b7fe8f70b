#include "origin/pg/embedded_postgres.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/digest.h"
#include "base/files.h"
#include "base/log.h"
#include "origin/pg/command.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {
namespace {

constexpr char kSuperuser[] = "pgxn";
constexpr char kDatabase[] = "pgxn";
// sockaddr_un.sun_path holds 108 bytes including the NUL; the socket file is
// "<dir>/.s.PGSQL.5432".
constexpr size_t kMaxSocketDirBytes = 107 - sizeof("/.s.PGSQL.5432");

bool RunningAsRoot() { return ::geteuid() == 0; }

}  // namespace

absl::StatusOr<std::string> FindPostgresBinDir() {
  std::vector<std::string> candidates;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (std::filesystem::exists(entry.path() / "bin" / "initdb")) {
      candidates.push_back((entry.path() / "bin").string());
    }
  }
  if (candidates.empty()) {
    return absl::NotFoundError(
        "No PostgreSQL server found under /usr/lib/postgresql (install postgresql-15, or pass "
        "--postgres DSN)");
  }
  // Newest major version first ("15" > "14"; compare as numbers).
  std::sort(candidates.begin(), candidates.end(), [](const std::string& a, const std::string& b) {
    return std::stoi(std::filesystem::path(a).parent_path().filename().string()) >
           std::stoi(std::filesystem::path(b).parent_path().filename().string());
  });
  return candidates.front();
}

namespace {

// Short enough for a unix socket path; falls back to a directory in /tmp
// named after the cluster, so every process finds the same one.
std::string SocketDirFor(const std::string& dir) {
  std::string preferred = dir + "/run";
  if (preferred.size() <= kMaxSocketDirBytes) return preferred;
  return absl::StrCat("/tmp/pgxnd-", base::Sha256Hex(dir).substr(0, 16));
}

absl::Status ChownToPostgres(const std::string& path) {
  struct passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    return absl::FailedPreconditionError(
        "pgxnd runs as root, so the embedded Postgres must run as the \"postgres\" user, which "
        "does not exist (install postgresql-15)");
  }
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return absl::InternalError(absl::StrCat("Cannot chown ", path, " to postgres"));
  }
  return absl::OkStatus();
}

absl::Status MakePrivateDir(const std::string& path) {
  if (absl::Status s = base::MakeDirectories(path, 0700); !s.ok()) return s;
  return RunningAsRoot() ? ChownToPostgres(path) : absl::OkStatus();
}

}  // namespace

namespace {

// A libpq connection string value, quoted.
std::string DsnValue(absl::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string DsnFor(const std::string& socket_dir, absl::string_view database) {
  // The timeout keeps a stuck connection attempt from hanging shutdown.
  return absl::StrCat("host=", DsnValue(socket_dir), " port=5432 user=", kSuperuser,
                      " dbname=", database, " connect_timeout=10");
}

}  // namespace

std::string EmbeddedPostgresDsn(const std::string& dir) {
  return DsnFor(SocketDirFor(base::AbsolutePath(dir)), kDatabase);
}

bool EmbeddedPostgresRunning(const std::string& dir) {
  const std::string pid_file = base::AbsolutePath(dir) + "/data/postmaster.pid";
  absl::StatusOr<std::string> contents = base::ReadFile(pid_file);
  if (!contents.ok()) return false;
  const pid_t pid = static_cast<pid_t>(std::atol(contents->c_str()));
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

EmbeddedPostgres::EmbeddedPostgres(EmbeddedPostgresOptions options, std::string bin_dir,
                                   std::string socket_dir)
    : options_(std::move(options)),
      bin_dir_(std::move(bin_dir)),
      socket_dir_(std::move(socket_dir)) {}

EmbeddedPostgres::~EmbeddedPostgres() {
  if (absl::Status s = Stop(); !s.ok()) base::LogWarning(s.message());
}

absl::Status EmbeddedPostgres::Run(const std::vector<std::string>& argv,
                                   const std::string& what) const {
  std::vector<std::string> command;
  if (RunningAsRoot()) command = {"runuser", "-u", "postgres", "--"};
  command.insert(command.end(), argv.begin(), argv.end());
  absl::StatusOr<CommandResult> result = RunCommand(command);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(what, " failed (exit ", result->exit_code, "): ", result->output));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::Start(
    EmbeddedPostgresOptions options) {
  options.dir = base::AbsolutePath(options.dir);
  // pg_ctl hands the server options to a shell; keep quoting simple and safe.
  if (options.dir.find_first_of("'\"\\$`\n\r") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "The data directory \"", options.dir,
        "\" contains a quote, backslash, $, ` or line break, which the embedded PostgreSQL "
        "cannot use; choose another directory or pass --postgres"));
  }
  std::string bin_dir = options.bin_dir;
  if (bin_dir.empty()) {
    absl::StatusOr<std::string> found = FindPostgresBinDir();
    if (!found.ok()) return found.status();
    bin_dir = *found;
  }
  const std::string socket_dir = SocketDirFor(options.dir);
  auto pg = std::unique_ptr<EmbeddedPostgres>(new EmbeddedPostgres(options, bin_dir, socket_dir));
  const std::string data = options.dir + "/data";
  if (absl::Status s = MakePrivateDir(options.dir); !s.ok()) return s;
  if (absl::Status s = MakePrivateDir(socket_dir); !s.ok()) return s;

  if (!std::filesystem::exists(data + "/PG_VERSION")) {
    base::LogInfo(absl::StrCat("Creating the embedded Postgres cluster in ", data));
    std::vector<std::string> initdb = {
        bin_dir + "/initdb", "-D", data, "-U", kSuperuser, "-A", "trust", "-E", "UTF8",
        "--locale=C.UTF-8"};
    if (options.unsafe_no_fsync) initdb.push_back("--no-sync");
    if (absl::Status s = pg->Run(initdb, "initdb"); !s.ok()) {
      return absl::Status(
          s.code(),
          absl::StrCat(s.message(), RunningAsRoot() ? " (the postgres user must be able to "
                                                      "reach the data directory: make its "
                                                      "parents traversable, chmod o+x)"
                                                    : ""));
    }
  }

  if (EmbeddedPostgresRunning(options.dir)) {
    base::LogInfo(absl::StrCat("Adopting the embedded Postgres already running in ", data));
  } else {
    std::string server_options = absl::StrCat("-c listen_addresses='' -c unix_socket_directories='",
                                              socket_dir, "' -c max_connections=200");
    if (options.unsafe_no_fsync) {
      absl::StrAppend(&server_options, " -c fsync=off -c full_page_writes=off");
    }
    if (absl::Status s =
            pg->Run({bin_dir + "/pg_ctl", "-D", data, "-l", options.dir + "/server.log", "-o",
                     server_options, "-w", "-t", "120", "start"},
                    "pg_ctl start");
        !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat(s.message(), " (see ", options.dir, "/server.log)"));
    }
  }
  pg->running_ = true;

  auto admin = PgConnection::Connect(DsnFor(socket_dir, "postgres"));
  if (!admin.ok()) return admin.status();
  auto exists =
      (*admin)->Exec("SELECT 1 FROM pg_database WHERE datname = $1", PgParams().Text(kDatabase));
  if (!exists.ok()) return exists.status();
  if (exists->rows() == 0) {
    if (absl::Status s = (*admin)->ExecScript(absl::StrCat("CREATE DATABASE ", kDatabase));
        !s.ok()) {
      return s;
    }
  }
  pg->dsn_ = EmbeddedPostgresDsn(options.dir);
  return pg;
}

absl::Status EmbeddedPostgres::Stop() {
  if (!running_) return absl::OkStatus();
  running_ = false;
  return Run({bin_dir_ + "/pg_ctl", "-D", options_.dir + "/data", "-m", "fast", "-w", "stop"},
             "pg_ctl stop");
}

}  // namespace pgxn::origin
