// Backing up an origin and restoring it into a new data directory
// (docs/operating.md, "Backups"). What makes an origin is its database (every
// row, the whole tree, the event log) and its signing key, DIR/origin.key: a
// backup is both, taken together, so that the restored origin continues the
// same log (same epoch, next seq after the backup's head, same key) and every
// mirror following it keeps its place.
//
// A backup is a directory:
//   pgxn.dump    pg_dump's custom format of the database, one consistent snapshot
//   origin.key   the signing key (mode 0600: whoever holds it can sign events)
//   backup.json  {"epoch", "head_seq", "head_hash", "origin_key", "created", "version"}:
//                the head the dump holds, read in the dump's own snapshot
// written as DIR.partial and renamed, so a backup that exists is complete.
#ifndef PGXN_ORIGIN_BACKUP_H_
#define PGXN_ORIGIN_BACKUP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "origin/origin_database.h"

namespace pgxn::origin {

struct BackupHead {
  std::string epoch;
  uint64_t seq = 0;
  std::string hash_hex;
  std::string origin_key;  // "ed25519:<hex>"
};

// Writes a backup of the origin in `db.data_dir` (embedded cluster, or
// `db.postgres_dsn`) to the new directory `to`, whether or not the origin
// runs; uploads go on meanwhile and are in the backup or not, whole. Refuses a
// data directory without an origin key and an existing `to`.
absl::StatusOr<BackupHead> BackupOrigin(const OriginDatabaseOptions& db, const std::string& to);

// Restores the backup in `from` into `db.data_dir`, which must not hold an
// origin yet: into a new embedded cluster, or into the empty database
// `db.postgres_dsn`. Checks that the restored head is the backup's and that
// the key is the one the database's events are signed with. The origin is
// then started as usual on `db.data_dir`.
absl::StatusOr<BackupHead> RestoreOrigin(const OriginDatabaseOptions& db, const std::string& from);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_BACKUP_H_
