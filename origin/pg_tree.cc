#include "origin/pg_tree.h"

#include "absl/strings/str_cat.h"
#include "node/digest.h"
#include "node/store_tree.h"

namespace pgxn::origin {

absl::StatusOr<gateway::TreeFile> PgTree::ReadFile(absl::string_view path) const {
  auto conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  auto result = (*conn)->Exec(
      "SELECT t.sha256, t.media_type, extract(epoch from t.updated_at)::bigint, b.content"
      " FROM tree_files t JOIN blobs b ON b.sha256 = t.sha256 WHERE t.path = $1",
      PgParams().Text(path));
  if (!result.ok()) return result.status();
  if (result->rows() == 0) return absl::NotFoundError(absl::StrCat("Not found: /", path));
  gateway::TreeFile file;
  file.sha256_hex = node::HexEncode(result->Get(0, 0));
  file.media_type = result->GetString(0, 1);
  file.modified_unix_seconds = result->GetInt(0, 2);
  file.content = result->GetString(0, 3);
  return file;
}

absl::StatusOr<std::string> PgTreeListing(PgPool* pool) {
  auto conn = pool->Acquire();
  if (!conn.ok()) return conn.status();
  auto result = (*conn)->Exec("SELECT path, sha256 FROM tree_files ORDER BY path COLLATE \"C\"");
  if (!result.ok()) return result.status();
  std::string listing;
  for (int row = 0; row < result->rows(); ++row) {
    listing += node::TreeListingLine(result->Get(row, 1), result->Get(row, 0));
  }
  return listing;
}

}  // namespace pgxn::origin
