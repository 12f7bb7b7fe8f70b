// The origin's published tree as the HTTP gateway reads it: tree_files joined
// with blobs in Postgres. Thread-safe (each read leases a pooled connection
// for one query).
#ifndef PGXN_ORIGIN_PUBLISHING_PG_TREE_H_
#define PGXN_ORIGIN_PUBLISHING_PG_TREE_H_

#include <cstdint>
#include <string>

#include "gateway/tree_handler.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

class PgTree final : public gateway::TreeReader {
 public:
  explicit PgTree(PgPool* pool) : pool_(pool) {}
  absl::StatusOr<gateway::TreeFile> ReadFile(absl::string_view path) const override;
  // Files over kStreamAbove bytes come back with a reader that fetches one
  // piece per call (substring of the blob, which Postgres slices out of its
  // TOAST chunks without reading the rest: blobs.content is stored EXTERNAL,
  // 001_init.sql), leasing a connection for that query only, so a slow
  // client holds no connection between pieces. The pool must outlive the
  // reader (the HTTP server stops before the pool closes).
  absl::StatusOr<gateway::TreeFile> OpenFile(absl::string_view path) const override;
  static constexpr uint64_t kStreamAbove = 256 * 1024;
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit)
      const override;

 private:
  PgPool* const pool_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PUBLISHING_PG_TREE_H_
