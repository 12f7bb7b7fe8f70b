// Opens the origin's database for a data directory, with the origin's key: the embedded cluster in
// DIR/postgres (started if needed, adopted if running) or an external one
// given by DSN; applies the migrations and (unless told not to) publishes the
// origin's meta files.
//
// DIR/origin.lock is held for the object's lifetime, so an origin server and
// an operator command never both manage the embedded cluster: a command run
// while the origin is up finds the lock taken and connects to the running
// cluster instead.
#ifndef PGXN_ORIGIN_ORIGIN_DATABASE_H_
#define PGXN_ORIGIN_ORIGIN_DATABASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "origin/pg/embedded_postgres.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

struct OriginDatabaseOptions {
  std::string data_dir;
  std::string postgres_dsn;  // empty: embedded
  bool unsafe_no_fsync = false;
  // true for the origin server: fail if another process holds the lock.
  // false for operator commands: share the database of a running origin.
  bool exclusive = false;
  // Publish the origin's meta files (bootstrap.h) if they changed. Off for a
  // check that must see the tree as it is (`pgxnd origin rebuild`).
  bool publish_meta_files = true;
};

class OriginDatabase {
 public:
  // Also loads (or creates) the origin's signing key, DIR/origin.key.
  static absl::StatusOr<std::unique_ptr<OriginDatabase>> Open(OriginDatabaseOptions options);
  ~OriginDatabase();

  const std::string& dsn() const { return dsn_; }
  const feed::KeyPair& key() const { return key_; }
  // How this process publishes: signed with key(), announced to `on_commit`,
  // the stats rendered by the catalog.
  Publishing publishing(CommitListener on_commit = nullptr) const;

 private:
  OriginDatabase() = default;
  int lock_fd_ = -1;
  std::unique_ptr<EmbeddedPostgres> embedded_;  // null when external or shared
  std::string dsn_;
  feed::KeyPair key_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ORIGIN_DATABASE_H_
