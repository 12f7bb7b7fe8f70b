#include "origin/pg/migrations.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace pgxn::origin {
namespace {

// An arbitrary constant naming the advisory lock held while migrating.
constexpr int64_t kMigrationLock = 0x70677868;  // "pgxh"

}  // namespace

absl::StatusOr<int> ApplyMigrations(PgConnection& conn, const std::vector<Migration>& migrations) {
  int applied = 0;
  absl::Status status = conn.Transaction([&]() -> absl::Status {
    if (auto r = conn.Exec("SELECT pg_advisory_xact_lock($1)", PgParams().Int(kMigrationLock));
        !r.ok()) {
      return r.status();
    }
    if (absl::Status s = conn.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                         " version integer PRIMARY KEY, name text NOT NULL,"
                                         " applied_at timestamptz NOT NULL DEFAULT now())");
        !s.ok()) {
      return s;
    }
    auto done = conn.Exec("SELECT version FROM schema_migrations");
    if (!done.ok()) return done.status();
    absl::flat_hash_set<int64_t> recorded;
    for (int row = 0; row < done->rows(); ++row) recorded.insert(done->GetInt(row, 0));
    absl::flat_hash_set<int64_t> known;
    for (const Migration& m : migrations) known.insert(m.version);
    for (int64_t version : recorded) {
      if (!known.contains(version)) {
        return absl::FailedPreconditionError(
            absl::StrCat("The database has schema version ", version,
                         ", which this pgxnd does not know: it was migrated by a newer release"));
      }
    }
    for (const Migration& m : migrations) {
      if (recorded.contains(m.version)) continue;
      base::LogInfo(absl::StrCat("Applying migration ", m.version, " ", m.name));
      if (absl::Status s = conn.ExecScript(m.sql); !s.ok()) {
        return absl::Status(
            s.code(), absl::StrCat("Migration ", m.version, " ", m.name, " failed: ", s.message()));
      }
      if (auto r = conn.Exec("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                             PgParams().Int(m.version).Text(m.name));
          !r.ok()) {
        return r.status();
      }
      ++applied;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return applied;
}

}  // namespace pgxn::origin
