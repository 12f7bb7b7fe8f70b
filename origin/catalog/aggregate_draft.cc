#include "origin/catalog/aggregate_draft.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "origin/catalog/catalog.h"

namespace pgxn::origin {
namespace {

// Each path's tree entry as `conn` sees it now: path -> raw SHA-256.
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> TreeDigests(
    PgConnection& conn, const std::vector<FileChange>& files) {
  std::vector<std::string> paths;
  paths.reserve(files.size());
  for (const FileChange& file : files) paths.push_back(file.path);
  auto rows =
      conn.Exec("SELECT path, sha256 FROM tree_files WHERE path = ANY($1)", PgParams().TextArray(paths));
  if (!rows.ok()) return rows.status();
  absl::flat_hash_map<std::string, std::string> digests;
  for (int row = 0; row < rows->rows(); ++row) {
    digests[rows->GetString(row, 0)] = rows->GetString(row, 1);
  }
  return digests;
}

std::string DigestOf(const absl::flat_hash_map<std::string, std::string>& digests,
                     const std::string& path) {
  auto found = digests.find(path);
  return found == digests.end() ? std::string() : found->second;
}

}  // namespace

absl::StatusOr<AggregateDraft> DraftAggregates(PgConnection& conn, int64_t limit) {
  AggregateDraft draft;
  absl::Status drafted = conn.SnapshotTransaction([&]() -> absl::Status {
    auto pending = conn.Exec("SELECT path, gen FROM aggregate_pending ORDER BY path LIMIT $1",
                             PgParams().Int(limit + 1));
    if (!pending.ok()) return pending.status();
    for (int row = 0; row < pending->rows() && row < limit; ++row) {
      AggregateDraft::Pending entry{pending->GetString(row, 0), pending->GetInt(row, 1)};
      absl::StatusOr<FileChange> file = RenderAggregateFile(conn, entry.path);
      if (!file.ok()) return file.status();
      draft.files.push_back(*std::move(file));
      draft.pending.push_back(std::move(entry));
    }
    draft.more = pending->rows() > limit;
    absl::StatusOr<std::vector<FileChange>> stats = RenderStatsFiles(conn);
    if (!stats.ok()) return stats.status();
    for (FileChange& file : *stats) draft.files.push_back(std::move(file));
    auto digests = TreeDigests(conn, draft.files);
    if (!digests.ok()) return digests.status();
    for (const FileChange& file : draft.files) {
      draft.tree_sha256.push_back(DigestOf(*digests, file.path));
    }
    return absl::OkStatus();
  });
  if (!drafted.ok()) return drafted;
  return draft;
}

absl::StatusOr<AggregateBatch> FinishAggregates(PgConnection& conn, AggregateDraft draft) {
  auto digests = TreeDigests(conn, draft.files);
  if (!digests.ok()) return digests.status();
  const size_t stats_begin = draft.pending.size();
  bool stats_stale = false;
  for (size_t i = 0; i < draft.files.size(); ++i) {
    if (DigestOf(*digests, draft.files[i].path) == draft.tree_sha256[i]) continue;
    // Another event wrote this file since the snapshot: the draft may be
    // older than what the tree has now.
    if (i >= stats_begin) {
      stats_stale = true;
      continue;
    }
    absl::StatusOr<FileChange> file = RenderAggregateFile(conn, draft.files[i].path);
    if (!file.ok()) return file.status();
    draft.files[i] = *std::move(file);
  }
  if (stats_stale) {
    absl::StatusOr<std::vector<FileChange>> stats = RenderStatsFiles(conn);
    if (!stats.ok()) return stats.status();
    draft.files.resize(stats_begin);
    for (FileChange& file : *stats) draft.files.push_back(std::move(file));
  }
  if (!draft.pending.empty()) {
    std::vector<std::string> paths;
    std::vector<std::string> gens;
    for (const AggregateDraft::Pending& entry : draft.pending) {
      paths.push_back(entry.path);
      gens.push_back(absl::StrCat(entry.gen));
    }
    // A row whose gen moved on was deferred again by a change the snapshot
    // did not see: it stays for the next event.
    auto done = conn.Exec(
        "DELETE FROM aggregate_pending p USING unnest($1::text[], $2::text[]::bigint[]) "
        "AS d(path, gen) WHERE p.path = d.path AND p.gen = d.gen",
        PgParams().TextArray(paths).TextArray(gens));
    if (!done.ok()) return done.status();
  }
  return AggregateBatch{std::move(draft.files), draft.more};
}

}  // namespace pgxn::origin
