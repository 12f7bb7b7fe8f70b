// Test support: a private PostgreSQL cluster in a temp dir with the origin's
// schema applied and the test key recorded, for tests that need the real
// database.
#ifndef PGXN_ORIGIN_TESTING_TEST_POSTGRES_H_
#define PGXN_ORIGIN_TESTING_TEST_POSTGRES_H_

#include <memory>
#include <string>

#include "base/temp_dir.h"
#include "origin/pg/embedded_postgres.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

// Signs what tests publish; one key per test process, recorded by every
// TestPostgres as the origin's key.
const Publishing& TestPublishing();

class TestPostgres {
 public:
  // Starts the cluster and migrates; on failure ok() is false and error() says why.
  TestPostgres();
  bool ok() const { return pg_ != nullptr; }
  const std::string& error() const { return error_; }
  const std::string& dsn() const { return pg_->dsn(); }
  std::unique_ptr<PgConnection> Connect() const;

 private:
  base::TempDir dir_;
  std::unique_ptr<EmbeddedPostgres> pg_;
  std::string error_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_TESTING_TEST_POSTGRES_H_
