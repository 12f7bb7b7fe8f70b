// The origin's embedded PostgreSQL (docs/architecture.md §6): a private cluster in
// DIR/postgres, created with initdb on first start, listening only on a unix
// socket in a private directory (no TCP), run as the `postgres` system user
// when pgxnd runs as root (Postgres refuses root). A cluster left running by a
// crashed pgxnd is adopted, not started twice.
//
// Not thread-safe; owned by the origin's main thread.
#ifndef PGXN_ORIGIN_PG_EMBEDDED_POSTGRES_H_
#define PGXN_ORIGIN_PG_EMBEDDED_POSTGRES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pgxn::origin {

struct EmbeddedPostgresOptions {
  std::string dir;      // DIR/postgres; created if missing
  std::string bin_dir;  // where initdb and pg_ctl are; empty: the newest under /usr/lib/postgresql
  // Skip fsync in initdb and the server: for tests and benchmarks only.
  bool unsafe_no_fsync = false;
};

class EmbeddedPostgres {
 public:
  static absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> Start(EmbeddedPostgresOptions options);
  ~EmbeddedPostgres();  // Stop()

  // A libpq connection string for the `pgxn` database.
  const std::string& dsn() const { return dsn_; }

  // Stops the cluster (fast shutdown) and waits for it; idempotent.
  absl::Status Stop();

 private:
  EmbeddedPostgres(EmbeddedPostgresOptions options, std::string bin_dir, std::string socket_dir);
  absl::Status Run(const std::vector<std::string>& argv, const std::string& what) const;

  const EmbeddedPostgresOptions options_;
  const std::string bin_dir_;
  const std::string socket_dir_;
  std::string dsn_;
  bool running_ = false;
};

// The newest PostgreSQL's binaries (initdb, pg_ctl, pg_dump, pg_restore) under
// /usr/lib/postgresql, or NotFound naming the package to install.
absl::StatusOr<std::string> FindPostgresBinDir();

// Whether a cluster in `dir` (DIR/postgres) is running, per its postmaster.pid.
bool EmbeddedPostgresRunning(const std::string& dir);

// The DSN for a cluster in `dir` started by EmbeddedPostgres (running or not).
std::string EmbeddedPostgresDsn(const std::string& dir);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PG_EMBEDDED_POSTGRES_H_
