#include "origin/catalog/tree_render.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "origin/catalog/semver.h"

namespace pgxn::origin {
namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& doc) {
  // Invalid UTF-8 cannot reach here from a parsed META.json, but names given
  // on a command line could carry it: replace it rather than throw.
  return doc.dump(3, ' ', false, Json::error_handler_t::replace) + "\n";
}

const char* const kStatuses[] = {"stable", "testing", "unstable"};

// Newest first: by release time, then by version.
bool NewerRelease(const ReleaseRow& a, const ReleaseRow& b) {
  if (a.released_at_us != b.released_at_us) return a.released_at_us > b.released_at_us;
  return VersionLess(b.version, a.version);
}

Json VersionDate(const ReleaseRow& row) {
  return Json{{"version", row.version}, {"date", FormatDate(row.released_at_us)}};
}

// Sorts rows by version, newest first. Each version is parsed once: a user's
// or a tag's file lists every release, and comparing by re-parsing would cost
// O(n log n) parses on every publication.
void SortNewestVersionFirst(std::vector<const ReleaseRow*>& rows) {
  struct Keyed {
    absl::StatusOr<SemVer> version;
    const ReleaseRow* row;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(rows.size());
  for (const ReleaseRow* row : rows) keyed.push_back(Keyed{ParseSemVer(row->version), row});
  // The same order as VersionLess, reversed.
  std::sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    if (a.version.ok() && b.version.ok()) {
      const int order = Compare(*b.version, *a.version);
      if (order != 0) return order < 0;
      return b.row->version < a.row->version;
    }
    if (a.version.ok() != b.version.ok()) return a.version.ok();
    return b.row->version < a.row->version;
  });
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = keyed[i].row;
}

// {status: [{version, date}...]} with versions newest first; empty lists omitted.
Json ReleasesByStatus(std::vector<const ReleaseRow*> rows) {
  SortNewestVersionFirst(rows);
  Json out = Json::object();
  for (const char* status : kStatuses) {
    Json list = Json::array();
    for (const ReleaseRow* row : rows) {
      if (row->status == status) list.push_back(VersionDate(*row));
    }
    if (!list.empty()) out[status] = std::move(list);
  }
  return out;
}

// {dist: {status: [...]}} keyed by the dist's newest spelling, dists in
// case-insensitive order.
Json ReleasesByDist(const std::vector<ReleaseRow>& releases) {
  std::map<std::string, std::vector<const ReleaseRow*>> by_dist;
  for (const ReleaseRow& row : releases) by_dist[absl::AsciiStrToLower(row.dist)].push_back(&row);
  Json out = Json::object();
  for (auto& [key, rows] : by_dist) {
    const ReleaseRow* newest = *std::min_element(
        rows.begin(), rows.end(),
        [](const ReleaseRow* a, const ReleaseRow* b) { return NewerRelease(*a, *b); });
    out[newest->dist] = ReleasesByStatus(rows);
  }
  return out;
}

bool IsCustomKey(const std::string& key) {
  return key.size() >= 2 && (key[0] == 'x' || key[0] == 'X') && key[1] == '_';
}

Json WithoutCustomKeys(const Json& value) {
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [key, child] : value.items()) {
      if (!IsCustomKey(key)) out[key] = WithoutCustomKeys(child);
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const Json& child : value) out.push_back(WithoutCustomKeys(child));
    return out;
  }
  return value;
}

}  // namespace

bool VersionLess(absl::string_view a, absl::string_view b) {
  absl::StatusOr<SemVer> va = ParseSemVer(a);
  absl::StatusOr<SemVer> vb = ParseSemVer(b);
  if (va.ok() && vb.ok()) {
    if (*va < *vb) return true;
    if (*vb < *va) return false;
    return a < b;  // equal precedence (build metadata): keep the order total
  }
  if (va.ok() != vb.ok()) return !va.ok();
  return a < b;
}

std::string FormatDate(int64_t unix_micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(unix_micros),
                          absl::UTCTimeZone());
}

std::string DistJsonPath(absl::string_view dist) {
  return absl::StrCat("dist/", absl::AsciiStrToLower(dist), ".json");
}

std::string ReleaseDirPath(absl::string_view dist, absl::string_view version) {
  return absl::StrCat("dist/", absl::AsciiStrToLower(dist), "/", absl::AsciiStrToLower(version));
}

std::string ExtensionJsonPath(absl::string_view extension) {
  return absl::StrCat("extension/", absl::AsciiStrToLower(extension), ".json");
}

std::string UserJsonPath(absl::string_view nickname) {
  return absl::StrCat("user/", absl::AsciiStrToLower(nickname), ".json");
}

std::string TagJsonPath(absl::string_view tag) {
  return absl::StrCat("tag/", absl::AsciiStrToLower(tag), ".json");
}

std::string RenderDistJson(const std::vector<ReleaseRow>& releases) {
  std::vector<const ReleaseRow*> rows;
  for (const ReleaseRow& row : releases) rows.push_back(&row);
  std::string name;
  if (!rows.empty()) {
    name =
        (*std::min_element(rows.begin(), rows.end(), [](const ReleaseRow* a, const ReleaseRow* b) {
          return NewerRelease(*a, *b);
        }))->dist;
  }
  return Dump(Json{{"name", name}, {"releases", ReleasesByStatus(std::move(rows))}});
}

std::string RenderExtensionJson(const std::vector<ProvidedRow>& rows) {
  std::vector<const ProvidedRow*> newest_first;
  for (const ProvidedRow& row : rows) newest_first.push_back(&row);
  std::sort(newest_first.begin(), newest_first.end(),
            [](const ProvidedRow* a, const ProvidedRow* b) {
              return NewerRelease(a->release, b->release);
            });
  Json doc = Json::object();
  if (newest_first.empty()) return Dump(doc);
  doc["extension"] = newest_first.front()->extension;
  doc["latest"] = newest_first.front()->release.status;
  for (const char* status : kStatuses) {
    for (const ProvidedRow* row : newest_first) {
      if (row->release.status != status) continue;
      doc[status] = Json{{"dist", row->release.dist},
                         {"version", row->release.version},
                         {"sha1", row->release.sha1}};
      break;
    }
  }
  std::vector<std::string> ext_versions;
  for (const ProvidedRow* row : newest_first) {
    if (std::find(ext_versions.begin(), ext_versions.end(), row->ext_version) ==
        ext_versions.end()) {
      ext_versions.push_back(row->ext_version);
    }
  }
  std::sort(ext_versions.begin(), ext_versions.end(),
            [](const std::string& a, const std::string& b) { return VersionLess(b, a); });
  Json versions = Json::object();
  for (const std::string& ext_version : ext_versions) {
    Json list = Json::array();
    for (const ProvidedRow* row : newest_first) {
      if (row->ext_version != ext_version) continue;
      Json entry{{"dist", row->release.dist}, {"version", row->release.version}};
      if (row->release.status != "stable") entry["status"] = row->release.status;
      list.push_back(std::move(entry));
    }
    versions[ext_version] = std::move(list);
  }
  doc["versions"] = std::move(versions);
  return Dump(doc);
}

std::string RenderUserJson(const UserRow& user, const std::vector<ReleaseRow>& releases) {
  Json doc{{"nickname", user.nickname}, {"name", user.full_name}, {"email", user.email}};
  if (!user.uri.empty()) doc["uri"] = user.uri;
  if (!user.twitter.empty()) doc["twitter"] = user.twitter;
  // PGXN leaves "releases" out for an account that has released nothing.
  if (!releases.empty()) doc["releases"] = ReleasesByDist(releases);
  return Dump(doc);
}

std::string RenderTagJson(absl::string_view tag, const std::vector<ReleaseRow>& releases) {
  return Dump(Json{{"tag", std::string(tag)}, {"releases", ReleasesByDist(releases)}});
}

std::string RenderDistStats(int64_t dists, int64_t releases,
                            const std::vector<ReleaseRow>& recent) {
  Json list = Json::array();
  for (const ReleaseRow& row : recent) {
    list.push_back(Json{{"dist", row.dist},
                        {"version", row.version},
                        {"abstract", row.abstract},
                        {"date", FormatDate(row.released_at_us)},
                        {"user", row.user},
                        {"user_name", row.user_name}});
  }
  return Dump(Json{{"count", dists}, {"releases", releases}, {"recent", std::move(list)}});
}

std::string RenderExtensionStats(int64_t extensions, const std::vector<ProvidedRow>& recent) {
  Json list = Json::array();
  for (const ProvidedRow& row : recent) {
    list.push_back(Json{{"extension", row.extension},
                        {"abstract", row.abstract},
                        {"ext_version", row.ext_version},
                        {"dist", row.release.dist},
                        {"version", row.release.version},
                        {"date", FormatDate(row.release.released_at_us)},
                        {"user", row.release.user},
                        {"user_name", row.release.user_name}});
  }
  return Dump(Json{{"count", extensions}, {"recent", std::move(list)}});
}

std::string RenderUserStats(int64_t users, const std::vector<ProlificRow>& prolific) {
  Json list = Json::array();
  for (const ProlificRow& row : prolific) {
    list.push_back(Json{{"nickname", row.nickname},
                        {"name", row.name},
                        {"dists", row.dists},
                        {"releases", row.releases}});
  }
  return Dump(Json{{"count", users}, {"prolific", std::move(list)}});
}

std::string RenderTagStats(int64_t tags, const std::vector<TagCount>& popular) {
  Json list = Json::array();
  for (const TagCount& row : popular) list.push_back(Json{{"tag", row.tag}, {"dists", row.dists}});
  return Dump(Json{{"count", tags}, {"popular", std::move(list)}});
}

std::string RenderSummaryStats(const Summary& summary) {
  return Dump(Json{{"dists", summary.dists},
                   {"releases", summary.releases},
                   {"extensions", summary.extensions},
                   {"users", summary.users},
                   {"tags", summary.tags},
                   {"mirrors", summary.mirrors}});
}

std::string RenderReleaseMeta(const nlohmann::ordered_json& author_meta, absl::string_view user,
                              int64_t released_at_us, absl::string_view sha1,
                              absl::string_view sha256, absl::string_view sha512) {
  Json doc = WithoutCustomKeys(author_meta);
  doc.erase("meta-spec");
  doc.erase("generated_by");
  if (!doc.contains("release_status")) doc["release_status"] = "stable";
  doc["user"] = std::string(user);
  doc["date"] = FormatDate(released_at_us);
  doc["sha1"] = std::string(sha1);
  doc["sha256"] = std::string(sha256);
  doc["sha512"] = std::string(sha512);
  return Dump(doc);
}

std::string RenderMirrorsJson(const std::vector<MirrorRow>& mirrors) {
  Json list = Json::array();
  for (const MirrorRow& mirror : mirrors) {
    // PGXN writes addresses as domain|user to keep them from harvesters.
    std::string email = mirror.email;
    if (size_t at = email.rfind('@'); at != std::string::npos) {
      email = absl::StrCat(email.substr(at + 1), "|", email.substr(0, at));
    }
    Json entry{{"uri", mirror.uri},
               {"frequency", mirror.frequency},
               {"location", mirror.location},
               {"organization", mirror.organization},
               {"timezone", mirror.timezone},
               {"email", email},
               {"bandwidth", mirror.bandwidth},
               {"src", mirror.src}};
    if (mirror.rsync.has_value()) entry["rsync"] = *mirror.rsync;
    if (mirror.notes.has_value()) entry["notes"] = *mirror.notes;
    list.push_back(std::move(entry));
  }
  return Dump(list);
}

std::string RenderIndexJson() {
  return Dump(Json{{"download", "/dist/{dist}/{version}/{dist}-{version}.zip"},
                   {"readme", "/dist/{dist}/{version}/README.txt"},
                   {"meta", "/dist/{dist}/{version}/META.json"},
                   {"dist", "/dist/{dist}.json"},
                   {"extension", "/extension/{extension}.json"},
                   {"user", "/user/{user}.json"},
                   {"tag", "/tag/{tag}.json"},
                   {"stats", "/stats/{stats}.json"},
                   {"mirrors", "/meta/mirrors.json"},
                   {"spec", "/meta/spec.{format}"}});
}

}  // namespace pgxn::origin
