// The origin's published tree as the HTTP gateway reads it: tree_files joined
// with blobs in Postgres. Thread-safe (each read leases a pooled connection).
#ifndef PGXN_ORIGIN_PUBLISHING_PG_TREE_H_
#define PGXN_ORIGIN_PUBLISHING_PG_TREE_H_

#include <string>

#include "gateway/tree_handler.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

class PgTree final : public gateway::TreeReader {
 public:
  explicit PgTree(PgPool* pool) : pool_(pool) {}
  absl::StatusOr<gateway::TreeFile> ReadFile(absl::string_view path) const override;
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit)
      const override;

 private:
  PgPool* const pool_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PUBLISHING_PG_TREE_H_
