// The origin's published tree as the HTTP gateway reads it: tree_files joined
// with blobs in Postgres. Thread-safe (each read leases a pooled connection).
#ifndef PGXN_ORIGIN_PG_TREE_H_
#define PGXN_ORIGIN_PG_TREE_H_

#include <string>

#include "gateway/tree_handler.h"
#include "origin/pg.h"

namespace pgxn::origin {

class PgTree final : public gateway::TreeReader {
 public:
  explicit PgTree(PgPool* pool) : pool_(pool) {}
  absl::StatusOr<gateway::TreeFile> ReadFile(absl::string_view path) const override;

 private:
  PgPool* const pool_;
};

// GET /_tree: "<sha256 hex>  <path>\n" per file in byte order of the paths,
// the same listing every node serves (node/store_tree.h).
absl::StatusOr<std::string> PgTreeListing(PgPool* pool);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PG_TREE_H_
