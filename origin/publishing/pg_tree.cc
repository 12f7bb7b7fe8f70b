#include "origin/publishing/pg_tree.h"

#include "absl/strings/str_cat.h"
#include "base/digest.h"

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
  file.sha256_hex = base::HexEncode(result->Get(0, 0));
  file.media_type = result->GetString(0, 1);
  file.modified_unix_seconds = result->GetInt(0, 2);
  file.content = result->GetString(0, 3);
  return file;
}

absl::Status PgTree::ForEachFile(
    const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit) const {
  auto conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  // Byte order, as the nodes' RocksDB stores list their files.
  auto result = (*conn)->Exec("SELECT path, sha256 FROM tree_files ORDER BY path COLLATE \"C\"");
  if (!result.ok()) return result.status();
  for (int row = 0; row < result->rows(); ++row) {
    if (!visit(result->Get(row, 0), base::HexEncode(result->Get(row, 1)))) break;
  }
  return absl::OkStatus();
}

}  // namespace pgxn::origin
