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

absl::StatusOr<gateway::TreeFile> PgTree::OpenFile(absl::string_view path) const {
  auto conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  // The content only when it is small: for a large file the row holds a
  // TOAST pointer, which the CASE never follows.
  auto result = (*conn)->Exec(
      "SELECT t.sha256, t.media_type, extract(epoch from t.updated_at)::bigint, b.size,"
      " CASE WHEN b.size <= $2 THEN b.content END"
      " FROM tree_files t JOIN blobs b ON b.sha256 = t.sha256 WHERE t.path = $1",
      PgParams().Text(path).Int(static_cast<int64_t>(kStreamAbove)));
  if (!result.ok()) return result.status();
  if (result->rows() == 0) return absl::NotFoundError(absl::StrCat("Not found: /", path));
  gateway::TreeFile file;
  const std::string sha256 = result->GetString(0, 0);
  file.sha256_hex = base::HexEncode(sha256);
  file.media_type = result->GetString(0, 1);
  file.modified_unix_seconds = result->GetInt(0, 2);
  const int64_t size = result->GetInt(0, 3);
  if (size <= static_cast<int64_t>(kStreamAbove)) {
    file.content = result->GetString(0, 4);
    return file;
  }
  file.size = static_cast<uint64_t>(size);
  file.read = [pool = pool_, sha256](uint64_t offset,
                                     size_t length) -> absl::StatusOr<std::string> {
    auto conn = pool->Acquire();
    if (!conn.ok()) return conn.status();
    // substring counts from 1; bytea is at most 1 GB, so int4 holds both.
    auto piece = (*conn)->Exec(
        "SELECT substring(content from $2::int for $3::int) FROM blobs WHERE sha256 = $1",
        PgParams()
            .Bytes(sha256)
            .Int(static_cast<int64_t>(offset) + 1)
            .Int(static_cast<int64_t>(length)));
    if (!piece.ok()) return piece.status();
    if (piece->rows() == 0) {
      return absl::NotFoundError(
          absl::StrCat("Blob ", base::HexEncode(sha256), " is gone from the origin's store"));
    }
    std::string bytes = piece->GetString(0, 0);
    if (bytes.size() != length) {
      return absl::DataLossError(absl::StrCat("Blob ", base::HexEncode(sha256), " gave ",
                                              bytes.size(), " bytes at ", offset, " for ", length));
    }
    return bytes;
  };
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
