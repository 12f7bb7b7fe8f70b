// Renders the JSON files of PGXN's tree (docs/pgxn.md §2) from relational rows:
// dist, extension, user and tag documents, the five stats files, the release
// META.json and index.json. Pure functions of their inputs (the same rows give
// the same bytes), so `rebuild` can compare; thread-safe.
#ifndef PGXN_ORIGIN_CATALOG_TREE_RENDER_H_
#define PGXN_ORIGIN_CATALOG_TREE_RENDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace pgxn::origin {

// One release of a distribution, with what the files about it mention.
struct ReleaseRow {
  std::string dist;  // as the author spelled it
  std::string version;
  std::string status;  // stable, testing, unstable
  std::string abstract;
  std::string user;
  std::string user_name;
  std::string sha1;
  int64_t released_at_us = 0;
};

// One extension as provided by one release.
struct ProvidedRow {
  std::string extension;  // as the author spelled it
  std::string ext_version;
  std::string abstract;
  ReleaseRow release;
};

struct UserRow {
  std::string nickname;
  std::string full_name;
  std::string email;
  std::string uri;      // empty: omitted
  std::string twitter;  // empty: omitted
};

struct ProlificRow {
  std::string nickname;
  std::string name;
  int64_t dists = 0;
  int64_t releases = 0;
};

struct TagCount {
  std::string tag;
  int64_t dists = 0;
};

struct Summary {
  int64_t dists = 0;
  int64_t releases = 0;
  int64_t extensions = 0;
  int64_t users = 0;
  int64_t tags = 0;
  int64_t mirrors = 0;
};

struct MirrorRow {
  std::string uri, frequency, location, organization, timezone, email, bandwidth, src;
  absl::optional<std::string> rsync;  // optional fields: omitted when absent
  absl::optional<std::string> notes;
};

// How many entries a stats list holds, as on PGXN.
inline constexpr int kStatsListSize = 56;

// Orders versions by SemVer precedence (unparsable versions sort by text,
// before every valid one). True when a < b.
bool VersionLess(absl::string_view a, absl::string_view b);

// PGXN's date format: 2010-10-19T03:59:54Z.
std::string FormatDate(int64_t unix_micros);

// Lower-case path components, as PGXN builds paths.
std::string DistJsonPath(absl::string_view dist);
std::string ReleaseDirPath(absl::string_view dist, absl::string_view version);
std::string ExtensionJsonPath(absl::string_view extension);
std::string UserJsonPath(absl::string_view nickname);
std::string TagJsonPath(absl::string_view tag);

// dist/D.json from every release of D (the name is spelled as in the newest).
std::string RenderDistJson(const std::vector<ReleaseRow>& releases);
// extension/E.json from every release providing E.
std::string RenderExtensionJson(const std::vector<ProvidedRow>& rows);
// user/U.json from the account and the releases it uploaded.
std::string RenderUserJson(const UserRow& user, const std::vector<ReleaseRow>& releases);
// tag/T.json from the releases carrying T.
std::string RenderTagJson(absl::string_view tag, const std::vector<ReleaseRow>& releases);

// The stats files; the lists are already ordered and at most kStatsListSize long.
std::string RenderDistStats(int64_t dists, int64_t releases, const std::vector<ReleaseRow>& recent);
std::string RenderExtensionStats(int64_t extensions, const std::vector<ProvidedRow>& recent);
std::string RenderUserStats(int64_t users, const std::vector<ProlificRow>& prolific);
std::string RenderTagStats(int64_t tags, const std::vector<TagCount>& popular);
std::string RenderSummaryStats(const Summary& summary);

// The release META.json: the author's META without meta-spec, generated_by and
// any x_/X_ key at any level, plus user, date, sha1 (and sha256 and sha512 of
// the archive, which clients ignore) and release_status (default stable).
std::string RenderReleaseMeta(const nlohmann::ordered_json& author_meta, absl::string_view user,
                              int64_t released_at_us, absl::string_view sha1,
                              absl::string_view sha256, absl::string_view sha512);

// meta/mirrors.json: an array of mirrors, emails as "domain|user".
std::string RenderMirrorsJson(const std::vector<MirrorRow>& mirrors);

// The origin's index.json: the URI templates of the root mirror.
std::string RenderIndexJson();

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_CATALOG_TREE_RENDER_H_
