#include "origin/origin_database.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "origin/catalog/bootstrap.h"
#include "origin/catalog/catalog.h"
#include "origin/pg/migrations.h"
#include "origin/pg/pg.h"
#include "origin/publishing/origin_key.h"

namespace pgxn::origin {

absl::StatusOr<std::unique_ptr<OriginDatabase>> OriginDatabase::Open(
    OriginDatabaseOptions options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  if (absl::Status s = base::MakeDirectories(options.data_dir, 0755); !s.ok()) return s;
  auto db = std::unique_ptr<OriginDatabase>(new OriginDatabase());
  const std::string lock_path = options.data_dir + "/origin.lock";
  db->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (db->lock_fd_ < 0) return absl::InternalError(absl::StrCat("Cannot open ", lock_path));
  const bool locked = ::flock(db->lock_fd_, LOCK_EX | LOCK_NB) == 0;
  if (!locked && options.exclusive) {
    return absl::FailedPreconditionError(
        absl::StrCat("Another pgxnd is using ", options.data_dir, " (", lock_path, " is locked)"));
  }

  if (!options.postgres_dsn.empty()) {
    db->dsn_ = options.postgres_dsn;
  } else if (locked) {
    EmbeddedPostgresOptions pg_options;
    pg_options.dir = options.data_dir + "/postgres";
    pg_options.unsafe_no_fsync = options.unsafe_no_fsync;
    absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> embedded =
        EmbeddedPostgres::Start(pg_options);
    if (!embedded.ok()) return embedded.status();
    db->embedded_ = *std::move(embedded);
    db->dsn_ = db->embedded_->dsn();
  } else {
    // The origin running on this directory owns the cluster; use it.
    db->dsn_ = EmbeddedPostgresDsn(options.data_dir + "/postgres");
  }

  absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(db->dsn_);
  if (!conn.ok()) return conn.status();
  absl::StatusOr<int> migrated = ApplyMigrations(**conn, EmbeddedMigrations());
  if (!migrated.ok()) return migrated.status();
  absl::StatusOr<feed::KeyPair> key = LoadOrCreateOriginKey(options.data_dir);
  if (!key.ok()) return key.status();
  db->key_ = *std::move(key);
  if (absl::Status s = CheckOriginKey(**conn, db->key_); !s.ok()) return s;
  if (options.publish_meta_files) {
    absl::StatusOr<v1::Event> meta = PublishMetaFiles(**conn, db->publishing());
    if (!meta.ok()) return meta.status();
  }
  return db;
}

Publishing OriginDatabase::publishing(CommitListener on_commit) const {
  Publishing publishing;
  publishing.key = &key_;
  publishing.on_commit = std::move(on_commit);
  publishing.render_stats = [](PgConnection& conn) { return RenderStatsFiles(conn); };
  return publishing;
}

OriginDatabase::~OriginDatabase() {
  embedded_.reset();  // stops the cluster before the lock is released
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace pgxn::origin
