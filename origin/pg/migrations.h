// The origin's schema, as numbered SQL files (origin/pg/sql/NNN_name.sql) compiled
// into pgxnd and applied in order at start, all pending ones in one
// transaction, each recorded in schema_migrations. Safe to run from several
// processes at once (an advisory lock serialises them).
#ifndef PGXN_ORIGIN_PG_MIGRATIONS_H_
#define PGXN_ORIGIN_PG_MIGRATIONS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Every migration in origin/pg/sql, in version order.
const std::vector<Migration>& EmbeddedMigrations();

// Applies the migrations not yet recorded; returns how many it applied.
// FailedPrecondition if the database records a version this binary does not
// know (it was migrated by a newer pgxnd).
absl::StatusOr<int> ApplyMigrations(PgConnection& conn, const std::vector<Migration>& migrations);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PG_MIGRATIONS_H_
