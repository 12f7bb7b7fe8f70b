// Reads the relational rows the tree files are rendered from, and renders the
// files one change touches. Every call runs on the caller's connection, so a
// publisher sees its own uncommitted rows. Thread-compatible (one connection
// per thread).
#ifndef PGXN_ORIGIN_CATALOG_CATALOG_H_
#define PGXN_ORIGIN_CATALOG_CATALOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "origin/catalog/tree_render.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

// Every release of a distribution (name compared case-insensitively).
absl::StatusOr<std::vector<ReleaseRow>> QueryDistReleases(PgConnection& conn,
                                                          absl::string_view dist);
// Every release providing an extension.
absl::StatusOr<std::vector<ProvidedRow>> QueryExtensionReleases(PgConnection& conn,
                                                                absl::string_view extension);
// NotFound if there is no such account.
absl::StatusOr<UserRow> QueryUser(PgConnection& conn, absl::string_view nickname);
absl::StatusOr<std::vector<ReleaseRow>> QueryUserReleases(PgConnection& conn,
                                                          absl::string_view nickname);
// Every release carrying a tag, and the tag as spelled by the newest of them.
absl::StatusOr<std::vector<ReleaseRow>> QueryTagReleases(PgConnection& conn, absl::string_view tag,
                                                         std::string* spelling);

// Whether user/U.json belongs in the tree: the account is active, or it
// uploaded a release still published (the dist files name it, so its file
// stays when the account is deactivated).
absl::StatusOr<bool> UserFileBelongs(PgConnection& conn, absl::string_view nickname);
// Every nickname whose user file belongs in the tree, in byte order.
absl::StatusOr<std::vector<std::string>> QueryUsersWithFiles(PgConnection& conn);

// What a release (or its removal) touches.
struct AffectedNames {
  std::string dist;
  std::vector<std::string> extensions;
  std::vector<std::string> users;
  std::vector<std::string> tags;
};

// dist, extension, user and tag files for `names`. A dist, extension or tag
// with no release left is removed, and so is a user file that no longer
// belongs (UserFileBelongs). With `defer_aggregates` (the Publishing defers,
// Publishing::defers_aggregates) the user and tag files, which list a set
// that grows with the catalog, are not rendered: they come back as deferred
// changes, for the aggregate refresher to publish a moment later.
absl::StatusOr<std::vector<FileChange>> RenderAffectedFiles(PgConnection& conn,
                                                            const AffectedNames& names,
                                                            bool defer_aggregates);

// user/U.json or tag/T.json as the rows make it (a removal if it no longer
// belongs); InvalidArgument for any other path.
absl::StatusOr<FileChange> RenderAggregateFile(PgConnection& conn, absl::string_view path);

// The paths pending publication, in byte order.
absl::StatusOr<std::vector<std::string>> QueryPendingAggregates(PgConnection& conn);

// The user file alone (for account events).
absl::StatusOr<FileChange> RenderUserFile(PgConnection& conn, absl::string_view nickname);

// meta/mirrors.json from the mirror registry, emails written as domain|user.
absl::StatusOr<FileChange> RenderMirrorsFile(PgConnection& conn);

// The five stats files. The newest extensions are looked for among the
// newest `recent_window` releases first (the whole catalog when that window
// holds too few); the answer is the same for any window, which only bounds
// the work.
inline constexpr int64_t kStatsWindow = 256;
absl::StatusOr<std::vector<FileChange>> RenderStatsFiles(PgConnection& conn,
                                                         int64_t recent_window = kStatsWindow);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_CATALOG_CATALOG_H_
