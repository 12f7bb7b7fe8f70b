#include "origin/backup.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/digest.h"
#include "base/files.h"
#include "feed/signing.h"
#include "host/node_status.h"
#include "nlohmann/json.hpp"
#include "origin/pg/command.h"
#include "origin/pg/embedded_postgres.h"
#include "origin/pg/pg.h"
#include "origin/publishing/origin_key.h"

namespace pgxn::origin {
namespace {

constexpr char kDumpFile[] = "pgxn.dump";
constexpr char kKeyFile[] = "origin.key";
constexpr char kManifestFile[] = "backup.json";

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Runs one of PostgreSQL's client programs; its output is the error's detail,
// which names the problem (this runs for an operator, not a web client).
absl::Status RunPgProgram(const std::string& program, std::vector<std::string> args) {
  absl::StatusOr<std::string> bin_dir = FindPostgresBinDir();
  if (!bin_dir.ok()) return bin_dir.status();
  args.insert(args.begin(), *bin_dir + "/" + program);
  absl::StatusOr<CommandResult> result = RunCommand(args);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(program, " failed (exit ", result->exit_code, "): ", result->output));
  }
  return absl::OkStatus();
}

// The log's head as `conn` sees it (in its transaction's snapshot, if any).
absl::StatusOr<BackupHead> ReadHead(PgConnection& conn) {
  absl::StatusOr<PgResult> head =
      conn.Exec("SELECT epoch, seq, encode(hash, 'hex') FROM feed_head");
  if (!head.ok()) return head.status();
  if (head->rows() != 1) return absl::DataLossError("The database has no feed_head row");
  BackupHead out;
  out.epoch = head->GetString(0, 0);
  out.seq = static_cast<uint64_t>(head->GetInt(0, 1));
  out.hash_hex = head->GetString(0, 2);
  return out;
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("Cannot open ", dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat("Cannot sync ", dir));
  return absl::OkStatus();
}

absl::StatusOr<BackupHead> ReadManifest(const std::string& from) {
  absl::StatusOr<std::string> text = base::ReadFile(from + "/" + kManifestFile);
  if (!text.ok()) return text.status();
  nlohmann::json manifest = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object() || !manifest.value("epoch", nlohmann::json()).is_string() ||
      !manifest.value("head_seq", nlohmann::json()).is_number_unsigned() ||
      !manifest.value("head_hash", nlohmann::json()).is_string() ||
      !manifest.value("origin_key", nlohmann::json()).is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(from, "/", kManifestFile,
                     " is not a pgxnd backup manifest (epoch, head_seq, head_hash, origin_key)"));
  }
  BackupHead head;
  head.epoch = manifest["epoch"].get<std::string>();
  head.seq = manifest["head_seq"].get<uint64_t>();
  head.hash_hex = manifest["head_hash"].get<std::string>();
  head.origin_key = manifest["origin_key"].get<std::string>();
  return head;
}

}  // namespace

absl::StatusOr<BackupHead> BackupOrigin(const OriginDatabaseOptions& db_options,
                                        const std::string& to) {
  if (!Exists(db_options.data_dir + "/" + kKeyFile)) {
    return absl::FailedPreconditionError(absl::StrCat(db_options.data_dir, " holds no origin (no ",
                                                      kKeyFile, "): nothing to back up"));
  }
  if (to.empty()) return absl::InvalidArgumentError("The backup directory is empty");
  if (Exists(to)) {
    return absl::AlreadyExistsError(absl::StrCat(to, " exists; a backup goes to a new directory"));
  }
  OriginDatabaseOptions options = db_options;
  options.exclusive = false;           // beside a running origin, or alone
  options.publish_meta_files = false;  // a backup changes nothing
  absl::StatusOr<std::unique_ptr<OriginDatabase>> db = OriginDatabase::Open(options);
  if (!db.ok()) return db.status();

  const std::string partial = to + ".partial";
  std::error_code ec;
  std::filesystem::remove_all(partial, ec);  // left by a backup that was interrupted
  if (absl::Status s = base::MakeDirectories(partial, 0700); !s.ok()) return s;
  absl::Cleanup remove_partial = [&partial] {
    std::error_code ignored;
    std::filesystem::remove_all(partial, ignored);
  };

  // The head is read in the snapshot pg_dump dumps (exported from this
  // transaction), so the manifest states exactly the log the dump holds while
  // uploads go on.
  absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect((*db)->dsn());
  if (!conn.ok()) return conn.status();
  if (absl::Status s = (*conn)->ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<PgResult> snapshot = (*conn)->Exec("SELECT pg_export_snapshot()");
  if (!snapshot.ok()) return snapshot.status();
  absl::StatusOr<BackupHead> head = ReadHead(**conn);
  if (!head.ok()) return head.status();
  head->origin_key = absl::StrCat("ed25519:", base::HexEncode((*db)->key().public_key));
  if (absl::Status s = RunPgProgram(
          "pg_dump", {"--format=custom", "--no-owner", "--no-privileges",
                      absl::StrCat("--snapshot=", snapshot->GetString(0, 0)),
                      "--file=" + partial + "/" + kDumpFile, "--dbname=" + (*db)->dsn()});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = (*conn)->ExecScript("COMMIT"); !s.ok()) return s;

  absl::StatusOr<std::string> key = base::ReadFile(db_options.data_dir + "/" + kKeyFile);
  if (!key.ok()) return key.status();
  if (absl::Status s = base::WriteFileAtomically(partial + "/" + kKeyFile, *key, 0600); !s.ok()) {
    return s;
  }
  const nlohmann::json manifest = {
      {"epoch", head->epoch},
      {"head_seq", head->seq},
      {"head_hash", head->hash_hex},
      {"origin_key", head->origin_key},
      {"created", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone())},
      {"version", host::kVersion},
  };
  if (absl::Status s =
          base::WriteFileAtomically(partial + "/" + kManifestFile, manifest.dump(2) + "\n", 0600);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SyncDirectory(partial); !s.ok()) return s;
  std::filesystem::rename(partial, to, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("Cannot rename ", partial, " to ", to, ": ", ec.message()));
  }
  std::move(remove_partial).Cancel();
  return head;
}

absl::StatusOr<BackupHead> RestoreOrigin(const OriginDatabaseOptions& db_options,
                                         const std::string& from) {
  for (const char* file : {kDumpFile, kKeyFile, kManifestFile}) {
    if (!Exists(from + "/" + file)) {
      return absl::NotFoundError(
          absl::StrCat(from, " is not a pgxnd backup: ", file, " is missing"));
    }
  }
  absl::StatusOr<BackupHead> expected = ReadManifest(from);
  if (!expected.ok()) return expected.status();
  const std::string& dir = db_options.data_dir;
  if (dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  const bool created_dir = !Exists(dir);
  if (absl::Status s = base::MakeDirectories(dir, 0755); !s.ok()) return s;
  // The lock an origin takes: none may start on this directory meanwhile.
  const std::string lock_path = dir + "/origin.lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return absl::InternalError(absl::StrCat("Cannot open ", lock_path));
  absl::Cleanup close_lock = [lock_fd] { ::close(lock_fd); };
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("Another pgxnd is using ", dir, " (", lock_path, " is locked)"));
  }
  if (Exists(dir + "/" + kKeyFile) || Exists(dir + "/postgres/data")) {
    return absl::AlreadyExistsError(
        absl::StrCat(dir, " already holds an origin; restore into a new data directory"));
  }
  // Nothing half-restored is left: on failure what this created goes again,
  // under the lock (an external database is restored in one transaction).
  std::unique_ptr<EmbeddedPostgres> embedded;
  absl::Cleanup undo = [&] {
    if (embedded != nullptr) (void)embedded->Stop();
    std::error_code ignored;
    if (created_dir) {
      std::filesystem::remove_all(dir, ignored);
    } else {
      std::filesystem::remove_all(dir + "/postgres", ignored);
      std::filesystem::remove(dir + "/" + kKeyFile, ignored);
    }
  };

  std::string dsn = db_options.postgres_dsn;
  if (dsn.empty()) {
    EmbeddedPostgresOptions pg_options;
    pg_options.dir = dir + "/postgres";
    pg_options.unsafe_no_fsync = db_options.unsafe_no_fsync;
    absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> started = EmbeddedPostgres::Start(pg_options);
    if (!started.ok()) return started.status();
    embedded = *std::move(started);
    dsn = embedded->dsn();
  }
  {
    absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(dsn);
    if (!conn.ok()) return conn.status();
    absl::StatusOr<PgResult> existing =
        (*conn)->Exec("SELECT to_regclass('feed_head') IS NOT NULL");
    if (!existing.ok()) return existing.status();
    if (existing->GetBool(0, 0)) {
      return absl::AlreadyExistsError(
          "The database already holds an origin; restore into an empty database");
    }
  }
  if (absl::Status s = RunPgProgram(
          "pg_restore", {"--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
                         "--dbname=" + dsn, from + "/" + kDumpFile});
      !s.ok()) {
    return s;
  }

  absl::StatusOr<std::string> key_text = base::ReadFile(from + "/" + kKeyFile);
  if (!key_text.ok()) return key_text.status();
  if (absl::Status s = base::WriteFileAtomically(dir + "/" + kKeyFile, *key_text, 0600); !s.ok()) {
    return s;
  }
  absl::StatusOr<feed::KeyPair> key = LoadOrCreateOriginKey(dir);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(dsn);
  if (!conn.ok()) return conn.status();
  if (absl::Status s = CheckOriginKey(**conn, *key); !s.ok()) return s;
  absl::StatusOr<BackupHead> restored = ReadHead(**conn);
  if (!restored.ok()) return restored.status();
  restored->origin_key = absl::StrCat("ed25519:", base::HexEncode(key->public_key));
  if (restored->epoch != expected->epoch || restored->seq != expected->seq ||
      restored->hash_hex != expected->hash_hex || restored->origin_key != expected->origin_key) {
    return absl::DataLossError(absl::StrCat("The restored database's head (epoch ", restored->epoch,
                                            ", seq ", restored->seq, ") or key is not the one ",
                                            from, "/", kManifestFile, " states (epoch ",
                                            expected->epoch, ", seq ", expected->seq, ")"));
  }
  conn->reset();
  if (embedded != nullptr) {
    if (absl::Status s = embedded->Stop(); !s.ok()) return s;
    embedded.reset();
  }
  std::move(undo).Cancel();
  return restored;
}

}  // namespace pgxn::origin
