#include "origin/catalog/catalog.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pgxn::origin {
namespace {

// Columns 0-7 of every release query, in ReleaseRow order.
constexpr char kReleaseColumns[] =
    "d.name, d.version, d.release_status, d.abstract, d.creator, u.full_name, d.sha1, "
    "(extract(epoch from d.released_at) * 1000000)::bigint";
constexpr char kReleaseFrom[] = "distributions d JOIN users u ON u.nickname = d.creator";

ReleaseRow ReadRelease(const PgResult& r, int row, int first = 0) {
  ReleaseRow release;
  release.dist = r.GetString(row, first + 0);
  release.version = r.GetString(row, first + 1);
  release.status = r.GetString(row, first + 2);
  release.abstract = r.GetString(row, first + 3);
  release.user = r.GetString(row, first + 4);
  release.user_name = r.GetString(row, first + 5);
  release.sha1 = r.GetString(row, first + 6);
  release.released_at_us = r.GetInt(row, first + 7);
  return release;
}

absl::StatusOr<std::vector<ReleaseRow>> QueryReleases(PgConnection& conn, const std::string& sql,
                                                      const PgParams& params) {
  auto result = conn.Exec(sql, params);
  if (!result.ok()) return result.status();
  std::vector<ReleaseRow> rows;
  rows.reserve(result->rows());
  for (int row = 0; row < result->rows(); ++row) rows.push_back(ReadRelease(*result, row));
  return rows;
}

// The rule of UserFileBelongs, over users u.
constexpr char kUserFileBelongs[] =
    "(u.status = 'active' OR EXISTS (SELECT 1 FROM distributions d WHERE d.creator = u.nickname))";

}  // namespace

absl::StatusOr<bool> UserFileBelongs(PgConnection& conn, absl::string_view nickname) {
  auto result = conn.Exec(
      absl::StrCat("SELECT ", kUserFileBelongs, " FROM users u WHERE u.nickname = pgxn_lower($1)"),
      PgParams().Text(nickname));
  if (!result.ok()) return result.status();
  return result->rows() > 0 && result->GetBool(0, 0);
}

absl::StatusOr<std::vector<std::string>> QueryUsersWithFiles(PgConnection& conn) {
  auto result = conn.Exec(absl::StrCat("SELECT u.nickname FROM users u WHERE ", kUserFileBelongs,
                                       " ORDER BY u.nickname COLLATE \"C\""));
  if (!result.ok()) return result.status();
  std::vector<std::string> nicknames;
  for (int row = 0; row < result->rows(); ++row) nicknames.push_back(result->GetString(row, 0));
  return nicknames;
}

absl::StatusOr<std::vector<ReleaseRow>> QueryDistReleases(PgConnection& conn,
                                                          absl::string_view dist) {
  return QueryReleases(conn,
                       absl::StrCat("SELECT ", kReleaseColumns, " FROM ", kReleaseFrom,
                                    " WHERE pgxn_lower(d.name) = pgxn_lower($1)"),
                       PgParams().Text(dist));
}

absl::StatusOr<std::vector<ProvidedRow>> QueryExtensionReleases(PgConnection& conn,
                                                                absl::string_view extension) {
  auto result =
      conn.Exec(absl::StrCat("SELECT ", kReleaseColumns,
                             ", de.ext_name, de.ext_version, de.abstract FROM ", kReleaseFrom,
                             " JOIN distribution_extensions de"
                             " ON de.dist_name = d.name AND de.dist_version = d.version"
                             " WHERE de.extension = pgxn_lower($1)"),
                PgParams().Text(extension));
  if (!result.ok()) return result.status();
  std::vector<ProvidedRow> rows;
  for (int row = 0; row < result->rows(); ++row) {
    ProvidedRow provided;
    provided.release = ReadRelease(*result, row);
    provided.extension = result->GetString(row, 8);
    provided.ext_version = result->GetString(row, 9);
    provided.abstract = result->GetString(row, 10);
    rows.push_back(std::move(provided));
  }
  return rows;
}

absl::StatusOr<UserRow> QueryUser(PgConnection& conn, absl::string_view nickname) {
  auto result = conn.Exec(
      "SELECT nickname, full_name, email, coalesce(uri, ''), coalesce(twitter, '') "
      "FROM users WHERE nickname = pgxn_lower($1)",
      PgParams().Text(nickname));
  if (!result.ok()) return result.status();
  if (result->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("User \"", nickname, "\" does not exist"));
  }
  return UserRow{result->GetString(0, 0), result->GetString(0, 1), result->GetString(0, 2),
                 result->GetString(0, 3), result->GetString(0, 4)};
}

absl::StatusOr<std::vector<ReleaseRow>> QueryUserReleases(PgConnection& conn,
                                                          absl::string_view nickname) {
  return QueryReleases(conn,
                       absl::StrCat("SELECT ", kReleaseColumns, " FROM ", kReleaseFrom,
                                    " WHERE d.creator = pgxn_lower($1)"),
                       PgParams().Text(nickname));
}

absl::StatusOr<std::vector<ReleaseRow>> QueryTagReleases(PgConnection& conn, absl::string_view tag,
                                                         std::string* spelling) {
  auto result = conn.Exec(
      absl::StrCat("SELECT ", kReleaseColumns, ", t.tag FROM ", kReleaseFrom,
                   " JOIN distribution_tags t"
                   " ON t.dist_name = d.name AND t.dist_version = d.version"
                   " WHERE pgxn_lower(t.tag) = pgxn_lower($1) ORDER BY d.released_at DESC"),
      PgParams().Text(tag));
  if (!result.ok()) return result.status();
  std::vector<ReleaseRow> rows;
  for (int row = 0; row < result->rows(); ++row) rows.push_back(ReadRelease(*result, row));
  *spelling = result->rows() > 0 ? result->GetString(0, 8) : std::string(tag);
  return rows;
}

absl::StatusOr<FileChange> RenderUserFile(PgConnection& conn, absl::string_view nickname) {
  absl::StatusOr<UserRow> user = QueryUser(conn, nickname);
  if (!user.ok()) return user.status();
  absl::StatusOr<std::vector<ReleaseRow>> releases = QueryUserReleases(conn, nickname);
  if (!releases.ok()) return releases.status();
  return FileChange{UserJsonPath(user->nickname), RenderUserJson(*user, *releases), ""};
}

namespace {

absl::StatusOr<FileChange> RenderUserOrRemove(PgConnection& conn, absl::string_view user) {
  absl::StatusOr<bool> belongs = UserFileBelongs(conn, user);
  if (!belongs.ok()) return belongs.status();
  if (!*belongs) return FileChange{UserJsonPath(user), "", "", true};
  return RenderUserFile(conn, user);
}

absl::StatusOr<FileChange> RenderTagOrRemove(PgConnection& conn, absl::string_view tag) {
  std::string spelling;
  absl::StatusOr<std::vector<ReleaseRow>> rows = QueryTagReleases(conn, tag, &spelling);
  if (!rows.ok()) return rows.status();
  return FileChange{TagJsonPath(tag), rows->empty() ? "" : RenderTagJson(spelling, *rows), "",
                    rows->empty()};
}

}  // namespace

absl::StatusOr<std::vector<FileChange>> RenderAffectedFiles(PgConnection& conn,
                                                            const AffectedNames& names,
                                                            bool defer_aggregates) {
  std::vector<FileChange> files;
  absl::StatusOr<std::vector<ReleaseRow>> dist = QueryDistReleases(conn, names.dist);
  if (!dist.ok()) return dist.status();
  files.push_back(FileChange{DistJsonPath(names.dist), dist->empty() ? "" : RenderDistJson(*dist),
                             "", dist->empty()});
  for (const std::string& extension : names.extensions) {
    absl::StatusOr<std::vector<ProvidedRow>> rows = QueryExtensionReleases(conn, extension);
    if (!rows.ok()) return rows.status();
    files.push_back(FileChange{ExtensionJsonPath(extension),
                               rows->empty() ? "" : RenderExtensionJson(*rows), "", rows->empty()});
  }
  for (const std::string& user : names.users) {
    if (defer_aggregates) {
      FileChange later;
      later.path = UserJsonPath(user);
      later.deferred = true;
      files.push_back(std::move(later));
      continue;
    }
    absl::StatusOr<FileChange> file = RenderUserOrRemove(conn, user);
    if (!file.ok()) return file.status();
    files.push_back(*std::move(file));
  }
  for (const std::string& tag : names.tags) {
    if (defer_aggregates) {
      FileChange later;
      later.path = TagJsonPath(tag);
      later.deferred = true;
      files.push_back(std::move(later));
      continue;
    }
    absl::StatusOr<FileChange> file = RenderTagOrRemove(conn, tag);
    if (!file.ok()) return file.status();
    files.push_back(*std::move(file));
  }
  return files;
}

absl::StatusOr<FileChange> RenderAggregateFile(PgConnection& conn, absl::string_view path) {
  absl::string_view name = path;
  if (absl::ConsumePrefix(&name, "user/") && absl::ConsumeSuffix(&name, ".json") && !name.empty()) {
    return RenderUserOrRemove(conn, name);
  }
  name = path;
  if (absl::ConsumePrefix(&name, "tag/") && absl::ConsumeSuffix(&name, ".json") && !name.empty()) {
    return RenderTagOrRemove(conn, name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", path, "\" is not an aggregate file (user/U.json or tag/T.json)"));
}

absl::StatusOr<std::vector<std::string>> QueryPendingAggregates(PgConnection& conn) {
  auto pending = conn.Exec("SELECT path FROM aggregate_pending ORDER BY path");
  if (!pending.ok()) return pending.status();
  std::vector<std::string> paths;
  for (int row = 0; row < pending->rows(); ++row) paths.push_back(pending->GetString(row, 0));
  return paths;
}

absl::StatusOr<FileChange> RenderMirrorsFile(PgConnection& conn) {
  auto rows = conn.Exec(
      "SELECT uri, frequency, location, organization, timezone, email, bandwidth, src,"
      " rsync, notes FROM mirrors ORDER BY created_at, uri");
  if (!rows.ok()) return rows.status();
  std::vector<MirrorRow> mirrors;
  for (int row = 0; row < rows->rows(); ++row) {
    MirrorRow mirror;
    mirror.uri = rows->GetString(row, 0);
    mirror.frequency = rows->GetString(row, 1);
    mirror.location = rows->GetString(row, 2);
    mirror.organization = rows->GetString(row, 3);
    mirror.timezone = rows->GetString(row, 4);
    mirror.email = rows->GetString(row, 5);
    mirror.bandwidth = rows->GetString(row, 6);
    mirror.src = rows->GetString(row, 7);
    if (!rows->IsNull(row, 8)) mirror.rsync = rows->GetString(row, 8);
    if (!rows->IsNull(row, 9)) mirror.notes = rows->GetString(row, 9);
    mirrors.push_back(std::move(mirror));
  }
  return FileChange{"meta/mirrors.json", RenderMirrorsJson(mirrors), ""};
}

absl::StatusOr<std::vector<FileChange>> RenderStatsFiles(PgConnection& conn,
                                                         int64_t recent_window) {
  Summary summary;
  auto counts = conn.Exec(
      "SELECT (SELECT count(DISTINCT pgxn_lower(name)) FROM distributions),"
      " (SELECT count(*) FROM distributions),"
      " (SELECT count(DISTINCT extension) FROM distribution_extensions),"
      " (SELECT count(*) FROM users WHERE status = 'active'),"
      " (SELECT count(DISTINCT pgxn_lower(tag)) FROM distribution_tags),"
      " (SELECT count(*) FROM mirrors)");
  if (!counts.ok()) return counts.status();
  summary.dists = counts->GetInt(0, 0);
  summary.releases = counts->GetInt(0, 1);
  summary.extensions = counts->GetInt(0, 2);
  summary.users = counts->GetInt(0, 3);
  summary.tags = counts->GetInt(0, 4);
  summary.mirrors = counts->GetInt(0, 5);

  absl::StatusOr<std::vector<ReleaseRow>> recent =
      QueryReleases(conn,
                    absl::StrCat("SELECT ", kReleaseColumns, " FROM ", kReleaseFrom,
                                 " ORDER BY d.released_at DESC, d.name, d.version LIMIT $1"),
                    PgParams().Int(kStatsListSize));
  if (!recent.ok()) return recent.status();

  // Each extension once, at its newest release, newest first. Scanning every
  // release for this on each release made publishing O(catalog); instead,
  // first only the newest `recent_window` releases (by the released_at index):
  // an extension released in that window has its newest release in it, and
  // every other extension's newest is older than all of those, so when the
  // window holds enough extensions its top ones are exactly the answer.
  // Otherwise (few extensions) the query runs over every release.
  const std::string extensions_sql = absl::StrCat(
      "SELECT * FROM (SELECT DISTINCT ON (de.extension) ", kReleaseColumns,
      ", de.ext_name, de.ext_version, de.abstract, d.released_at AS at FROM ", kReleaseFrom,
      " JOIN distribution_extensions de"
      " ON de.dist_name = d.name AND de.dist_version = d.version"
      " WHERE d.released_at >= COALESCE((SELECT released_at FROM distributions"
      " ORDER BY released_at DESC OFFSET $2 LIMIT 1), '-infinity')"
      " ORDER BY de.extension, d.released_at DESC) newest"
      " ORDER BY at DESC, ext_name LIMIT $1");
  absl::StatusOr<PgResult> extensions = conn.Exec(
      extensions_sql, PgParams().Int(kStatsListSize).Int(std::max<int64_t>(0, recent_window - 1)));
  if (extensions.ok() && extensions->rows() < kStatsListSize) {
    // No window: the offset is past every release, so the bound is -infinity.
    extensions = conn.Exec(extensions_sql,
                           PgParams().Int(kStatsListSize).Int(std::numeric_limits<int64_t>::max()));
  }
  if (!extensions.ok()) return extensions.status();
  std::vector<ProvidedRow> recent_extensions;
  for (int row = 0; row < extensions->rows(); ++row) {
    ProvidedRow provided;
    provided.release = ReadRelease(*extensions, row);
    provided.extension = extensions->GetString(row, 8);
    provided.ext_version = extensions->GetString(row, 9);
    provided.abstract = extensions->GetString(row, 10);
    recent_extensions.push_back(std::move(provided));
  }

  auto prolific_rows = conn.Exec(
      "SELECT u.nickname, u.full_name, count(DISTINCT pgxn_lower(d.name)) AS dists, count(*) AS "
      "releases"
      " FROM distributions d JOIN users u ON u.nickname = d.creator"
      " GROUP BY u.nickname, u.full_name ORDER BY dists DESC, releases DESC, u.nickname LIMIT $1",
      PgParams().Int(kStatsListSize));
  if (!prolific_rows.ok()) return prolific_rows.status();
  std::vector<ProlificRow> prolific;
  for (int row = 0; row < prolific_rows->rows(); ++row) {
    prolific.push_back(ProlificRow{prolific_rows->GetString(row, 0),
                                   prolific_rows->GetString(row, 1), prolific_rows->GetInt(row, 2),
                                   prolific_rows->GetInt(row, 3)});
  }

  // Each tag spelled as in its newest use, counted by distinct distributions.
  auto tag_rows = conn.Exec(
      "SELECT (array_agg(t.tag ORDER BY d.released_at DESC))[1] AS tag,"
      " count(DISTINCT pgxn_lower(t.dist_name)) AS dists"
      " FROM distribution_tags t JOIN distributions d"
      " ON d.name = t.dist_name AND d.version = t.dist_version"
      " GROUP BY pgxn_lower(t.tag) ORDER BY dists DESC, pgxn_lower(t.tag) LIMIT $1",
      PgParams().Int(kStatsListSize));
  if (!tag_rows.ok()) return tag_rows.status();
  std::vector<TagCount> popular;
  for (int row = 0; row < tag_rows->rows(); ++row) {
    popular.push_back(TagCount{tag_rows->GetString(row, 0), tag_rows->GetInt(row, 1)});
  }

  return std::vector<FileChange>{
      {"stats/dist.json", RenderDistStats(summary.dists, summary.releases, *recent), ""},
      {"stats/extension.json", RenderExtensionStats(summary.extensions, recent_extensions), ""},
      {"stats/user.json", RenderUserStats(summary.users, prolific), ""},
      {"stats/tag.json", RenderTagStats(summary.tags, popular), ""},
      {"stats/summary.json", RenderSummaryStats(summary), ""},
  };
}

}  // namespace pgxn::origin
