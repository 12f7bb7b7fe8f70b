// pgxnd origin backup / pgxnd origin restore: an origin's database and key,
// together, into a new directory, and back into a new data directory
// (origin/backup.h; docs/operating.md, "Backups").
#include <iostream>

#include "origin/backup.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"

namespace pgxn::cli {
namespace {

void PrintHead(const char* what, const std::string& where, const origin::BackupHead& head) {
  std::cout << what << " " << where << ": epoch " << head.epoch << ", head seq " << head.seq
            << ", origin key " << head.origin_key << std::endl;
}

}  // namespace

int RunOriginBackupCommand(const std::vector<std::string>& args) {
  origin::OriginDatabaseOptions db_options;
  std::string to;
  FlagSet flags("pgxnd origin backup", "--data-dir DIR --to BACKUP [flags]",
                "Backs up an origin, whether or not it runs: its database (pg_dump's custom\n"
                "format, one consistent snapshot, uploads going on meanwhile) and its signing\n"
                "key, into the new directory BACKUP (pgxn.dump, origin.key, backup.json naming\n"
                "the log's epoch and head seq in the dump). BACKUP holds the key: keep it\n"
                "private. 'pgxnd origin restore' makes a new origin of it that continues the\n"
                "same log, so mirrors keep their place.");
  flags.String("data-dir", &db_options.data_dir, "the origin's data directory (required)");
  flags.String("postgres", &db_options.postgres_dsn,
               "libpq connection string, when the origin uses an external PostgreSQL");
  flags.String("to", &to, "the backup directory to create; must not exist (required)");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd origin backup takes no arguments");
  if (db_options.data_dir.empty()) return UsageError("pgxnd origin backup: --data-dir is required");
  if (to.empty()) return UsageError("pgxnd origin backup: --to is required");
  absl::StatusOr<origin::BackupHead> head = origin::BackupOrigin(db_options, to);
  if (!head.ok()) return Fail(head.status());
  PrintHead("Backed up to", to, *head);
  return kExitOk;
}

int RunOriginRestoreCommand(const std::vector<std::string>& args) {
  origin::OriginDatabaseOptions db_options;
  std::string from;
  FlagSet flags("pgxnd origin restore", "--data-dir NEWDIR --from BACKUP [flags]",
                "Restores a backup made by 'pgxnd origin backup' into NEWDIR, which must not\n"
                "hold an origin: into a new embedded PostgreSQL in NEWDIR/postgres, or with\n"
                "--postgres into an empty external database. Checks that the restored log's\n"
                "head and key are the backup's. Then start 'pgxnd origin --data-dir NEWDIR':\n"
                "it continues the same log (same epoch, the next seq, the same key). On failure\n"
                "nothing restored is left behind.");
  flags.String("data-dir", &db_options.data_dir, "the new origin's data directory (required)");
  flags.String("postgres", &db_options.postgres_dsn,
               "libpq connection string of an empty external database to restore into");
  flags.String("from", &from, "the backup directory (required)");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd origin restore takes no arguments");
  if (db_options.data_dir.empty()) {
    return UsageError("pgxnd origin restore: --data-dir is required");
  }
  if (from.empty()) return UsageError("pgxnd origin restore: --from is required");
  absl::StatusOr<origin::BackupHead> head = origin::RestoreOrigin(db_options, from);
  if (!head.ok()) return Fail(head.status());
  PrintHead("Restored into", db_options.data_dir, *head);
  return kExitOk;
}

}  // namespace pgxn::cli
