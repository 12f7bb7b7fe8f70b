#include "origin/intake/release_removal.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "origin/catalog/catalog.h"
#include "origin/catalog/tree_render.h"

namespace pgxn::origin {
namespace {

absl::Status NoSuchRelease(absl::string_view dist, absl::string_view version) {
  return absl::NotFoundError(
      absl::StrCat("Distribution \"", dist, " ", version, "\" does not exist"));
}

// The release as its author spelled it.
struct ReleaseKey {
  std::string name;
  std::string version;
  std::string creator;
};

absl::StatusOr<ReleaseKey> FindRelease(PgConnection& conn, absl::string_view dist,
                                       absl::string_view version, bool lock) {
  auto row = conn.Exec(
      absl::StrCat(
          "SELECT name, version, creator FROM distributions"
          " WHERE pgxn_lower(name) = pgxn_lower($1) AND pgxn_lower(version) = pgxn_lower($2)",
          lock ? " FOR UPDATE" : ""),
      PgParams().Text(dist).Text(version));
  if (!row.ok()) return row.status();
  if (row->rows() == 0) return NoSuchRelease(dist, version);
  return ReleaseKey{row->GetString(0, 0), row->GetString(0, 1), row->GetString(0, 2)};
}

absl::StatusOr<std::vector<std::string>> Column(PgConnection& conn, const char* sql,
                                                const ReleaseKey& key) {
  auto rows = conn.Exec(sql, PgParams().Text(key.name).Text(key.version));
  if (!rows.ok()) return rows.status();
  std::vector<std::string> values;
  for (int row = 0; row < rows->rows(); ++row) values.push_back(rows->GetString(row, 0));
  return values;
}

}  // namespace

absl::StatusOr<v1::Event> RemoveRelease(PgConnection& conn, absl::string_view actor,
                                        absl::string_view dist, absl::string_view version,
                                        const Publishing& publishing) {
  // The event names the release as published; it is looked up again, locked,
  // inside the transaction, in case someone removed it in between.
  absl::StatusOr<ReleaseKey> found = FindRelease(conn, dist, version, /*lock=*/false);
  if (!found.ok()) return found.status();
  EventHeader header{feed::EventKind::kDelete, std::string(actor), found->name, found->version};
  header.changes_stats = true;
  return Publish(
      conn, header,
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        absl::StatusOr<ReleaseKey> key = FindRelease(conn, dist, version, /*lock=*/true);
        if (!key.ok()) return key.status();
        if (key->name != found->name || key->version != found->version) {
          return NoSuchRelease(dist, version);
        }
        absl::StatusOr<std::vector<std::string>> tags = Column(
            conn, "SELECT tag FROM distribution_tags WHERE dist_name = $1 AND dist_version = $2",
            *key);
        if (!tags.ok()) return tags.status();
        absl::StatusOr<std::vector<std::string>> extensions =
            Column(conn,
                   "SELECT ext_name FROM distribution_extensions"
                   " WHERE dist_name = $1 AND dist_version = $2",
                   *key);
        if (!extensions.ok()) return extensions.status();
        // Tags and provided extensions go with it (ON DELETE CASCADE).
        auto deleted = conn.Exec("DELETE FROM distributions WHERE name = $1 AND version = $2",
                                 PgParams().Text(key->name).Text(key->version));
        if (!deleted.ok()) return deleted.status();

        const std::string dir = ReleaseDirPath(key->name, key->version);
        std::vector<FileChange> files = {
            {absl::StrCat(dir, "/", absl::AsciiStrToLower(key->name), "-",
                          absl::AsciiStrToLower(key->version), ".zip"),
             "", "", true},
            {absl::StrCat(dir, "/META.json"), "", "", true},
            {absl::StrCat(dir, "/README.txt"), "", "", true},
        };
        absl::StatusOr<std::vector<FileChange>> affected = RenderAffectedFiles(
            conn,
            AffectedNames{key->name, *std::move(extensions), {key->creator}, *std::move(tags)},
            publishing.defers_aggregates());
        if (!affected.ok()) return affected.status();
        for (FileChange& file : *affected) files.push_back(std::move(file));
        return files;
      },
      publishing);
}

}  // namespace pgxn::origin
