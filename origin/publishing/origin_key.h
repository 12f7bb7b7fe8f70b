// The origin's signing key (feed/signing.h) in DIR/origin.key, mode 0600,
// created on first start. Every process that publishes for this origin (the
// server, `pgxnd user ...`, `pgxnd origin rebuild --fix`) loads it from the
// data directory; the database records the public half, so a data directory
// and a database that do not belong together are caught before anything is
// signed with the wrong key.
#ifndef PGXN_ORIGIN_PUBLISHING_ORIGIN_KEY_H_
#define PGXN_ORIGIN_PUBLISHING_ORIGIN_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "feed/signing.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

// Reads DIR/origin.key, creating it (0600) when missing. DataLoss for a file
// that is not a key; PermissionDenied when others can read it.
absl::StatusOr<feed::KeyPair> LoadOrCreateOriginKey(const std::string& data_dir);

// Records `key`'s public half in the database the first time; afterwards
// FailedPrecondition if the database's events were signed by another key.
absl::Status CheckOriginKey(PgConnection& conn, const feed::KeyPair& key);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PUBLISHING_ORIGIN_KEY_H_
