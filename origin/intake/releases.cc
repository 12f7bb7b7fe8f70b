#include "origin/intake/releases.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/digest.h"
#include "base/quote.h"
#include "feed/event_chain.h"
#include "origin/catalog/catalog.h"
#include "origin/catalog/semver.h"
#include "origin/intake/distribution_archive.h"
#include "origin/intake/meta_validator.h"

namespace pgxn::origin {

using archive::ArchiveEntry;
using archive::ArchiveLimits;

namespace {

absl::Status Conflict(absl::string_view message) { return absl::FailedPreconditionError(message); }

struct Provided {
  std::string name;  // as spelled
  std::string version;
  std::string abstract;
  std::string docfile;
};

// What the publishing transaction needs from a validated META.json.
struct Release {
  std::string name;
  std::string version;
  std::string abstract;
  std::string description;
  std::string status;
  std::vector<std::string> tags;  // distinct, case-insensitively
  std::vector<Provided> provides;
  nlohmann::ordered_json meta;  // the author's META, key order kept
  std::string zip;
  absl::optional<std::string> readme;
};

std::string StringOr(const nlohmann::ordered_json& doc, const char* key, const char* fallback) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// Postgres text cannot hold NUL, which JSON can smuggle in as \u0000.
absl::Status CheckNoNul(const nlohmann::json& value, const std::string& pointer) {
  if (value.is_string()) {
    if (value.get_ref<const std::string&>().find('\0') != std::string::npos) {
      return Conflict(
          absl::StrCat("Field ", pointer.empty() ? "/" : pointer, ": contains a NUL character"));
    }
  } else if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      if (key.find('\0') != std::string::npos) {
        return Conflict(absl::StrCat("Field ", pointer, "/: key contains a NUL character"));
      }
      if (absl::Status s = CheckNoNul(child, absl::StrCat(pointer, "/", key)); !s.ok()) return s;
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (absl::Status s = CheckNoNul(value[i], absl::StrCat(pointer, "/", i)); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Every file name the release will publish must be a valid tree path: a
// name such as ".." or an overlong tag is a META problem (409), not an
// internal error at publishing time.
absl::Status CheckPaths(const Release& release) {
  auto check = [](absl::string_view field, absl::string_view value,
                  const std::string& path) -> absl::Status {
    if (feed::CheckTreePath(path).ok()) return absl::OkStatus();
    return Conflict(absl::StrCat("Field ", field, ": ", base::QuoteUntrusted(value, 80),
                                 " cannot be used in a file name"));
  };
  const std::string dir = ReleaseDirPath(release.name, release.version);
  // The name is a directory of its own (dist/NAME/VERSION/), not only a
  // file name (dist/NAME.json): ".." passes as the latter.
  for (const std::string& path :
       {DistJsonPath(release.name), absl::StrCat("dist/", absl::AsciiStrToLower(release.name))}) {
    if (absl::Status s = check("/name", release.name, path); !s.ok()) return s;
  }
  if (absl::Status s = check("/version", release.version,
                             absl::StrCat(dir, "/", absl::AsciiStrToLower(release.name), "-",
                                          absl::AsciiStrToLower(release.version), ".zip"));
      !s.ok()) {
    return s;
  }
  for (const std::string& tag : release.tags) {
    if (absl::Status s = check("/tags", tag, TagJsonPath(tag)); !s.ok()) return s;
  }
  for (const Provided& extension : release.provides) {
    if (absl::Status s = check("/provides", extension.name, ExtensionJsonPath(extension.name));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Release> ReadRelease(const Upload& upload, const ArchiveLimits& limits) {
  absl::StatusOr<DistributionArchive> archive =
      OpenDistribution(upload.bytes, upload.filename, limits);
  if (!archive.ok()) return archive.status();
  if (absl::Status s = CheckNoNul(archive->meta, ""); !s.ok()) return s;
  std::vector<std::string> problems = ValidateMeta(archive->meta, MetaRules{upload.accept_semver1});
  if (!problems.empty()) {
    return Conflict(absl::StrCat("The META.json in \"", upload.filename,
                                 "\" does not follow the PGXN Meta Spec:\n",
                                 absl::StrJoin(problems, "\n")));
  }
  Release release;
  // Parsed again in the author's key order, for the published META.json.
  release.meta =
      nlohmann::ordered_json::parse(archive->meta.dump(), nullptr, /*allow_exceptions=*/false);
  for (const ArchiveEntry& entry : archive->entries) {
    if (entry.path != archive->meta_path) continue;
    auto ordered = nlohmann::ordered_json::parse(entry.data, nullptr, /*allow_exceptions=*/false);
    if (!ordered.is_discarded()) release.meta = std::move(ordered);
    break;
  }
  release.name = release.meta["name"].get<std::string>();
  release.version = release.meta["version"].get<std::string>();
  release.abstract = release.meta["abstract"].get<std::string>();
  release.description = StringOr(release.meta, "description", "");
  release.status = StringOr(release.meta, "release_status", "stable");
  if (auto tags = release.meta.find("tags"); tags != release.meta.end()) {
    // The spec lets a single string stand for a list of one.
    const nlohmann::ordered_json list =
        tags->is_string() ? nlohmann::ordered_json::array({*tags}) : *tags;
    absl::flat_hash_set<std::string> seen;
    for (const auto& tag : list) {
      if (tag.is_string() && seen.insert(absl::AsciiStrToLower(tag.get<std::string>())).second) {
        release.tags.push_back(tag.get<std::string>());
      }
    }
  }
  absl::flat_hash_set<std::string> seen_extensions;
  for (const auto& [name, spec] : release.meta["provides"].items()) {
    if (!seen_extensions.insert(absl::AsciiStrToLower(name)).second) {
      return Conflict(absl::StrCat("Field /provides: extension \"", name,
                                   "\" is listed twice (names are case-insensitive)"));
    }
    release.provides.push_back(Provided{name, spec["version"].get<std::string>(),
                                        StringOr(spec, "abstract", ""),
                                        StringOr(spec, "docfile", "")});
  }
  if (release.tags.size() > kMaxTags) {
    return Conflict(absl::StrCat("Field /tags: ", release.tags.size(), " tags; at most ", kMaxTags,
                                 " are allowed"));
  }
  if (release.provides.size() > kMaxProvides) {
    return Conflict(absl::StrCat("Field /provides: ", release.provides.size(),
                                 " extensions; at most ", kMaxProvides, " are allowed"));
  }
  if (absl::Status s = CheckPaths(release); !s.ok()) return s;
  absl::StatusOr<std::string> zip =
      NormalizedZip(*archive, upload.bytes, release.name, release.version);
  if (!zip.ok()) return zip.status();
  if (zip->size() > upload.max_zip_bytes) {
    // A small tarball of many compressible files can repack into a much
    // larger zip; the upload limit bounds what is stored, not only what is sent.
    return Conflict(absl::StrCat("\"", upload.filename, "\" repacked as a zip is ", zip->size(),
                                 " bytes, over the upload limit of ", upload.max_zip_bytes,
                                 " bytes"));
  }
  release.zip = *std::move(zip);
  release.readme = archive->readme;
  return release;
}

absl::Status CheckOwnership(PgConnection& conn, const std::string& user,
                            const std::vector<Provided>& provides) {
  for (const Provided& extension : provides) {
    auto owners = conn.Exec(
        "SELECT owner = $2 OR EXISTS (SELECT 1 FROM coowners c"
        " WHERE c.extension = e.name AND c.nickname = $2)"
        " FROM extensions e WHERE e.name = pgxn_lower($1)",
        PgParams().Text(extension.name).Text(user));
    if (!owners.ok()) return owners.status();
    if (owners->rows() > 0 && !owners->GetBool(0, 0)) {
      return Conflict(absl::StrCat("User \"", user, "\" does not own all provided extensions"));
    }
  }
  return absl::OkStatus();
}

// A distribution's name belongs to whoever may release the extensions it
// provides now: the owners and co-owners of those of its latest release.
// PGXN checks only the extensions of the new release, so a new extension
// of one's own was enough to release someone else's distribution (and have
// dist/NAME.json point at it).
absl::Status CheckDistributionOwner(PgConnection& conn, const Upload& upload,
                                    const std::string& dist) {
  if (upload.user_is_admin) return absl::OkStatus();
  auto owners = conn.Exec(
      "SELECT e.name, e.owner, e.owner = $2 OR EXISTS (SELECT 1 FROM coowners c"
      "  WHERE c.extension = e.name AND c.nickname = $2),"
      " coalesce((SELECT string_agg(c.nickname, ', ' ORDER BY c.nickname) FROM coowners c"
      "  WHERE c.extension = e.name), ''),"
      " d.name, d.version"
      " FROM (SELECT name, version FROM distributions WHERE pgxn_lower(name) = pgxn_lower($1)"
      "       ORDER BY released_at DESC, version DESC LIMIT 1) d"
      " JOIN distribution_extensions de ON de.dist_name = d.name AND de.dist_version = d.version"
      " JOIN extensions e ON e.name = de.extension"
      " ORDER BY e.name",
      PgParams().Text(dist).Text(upload.user));
  if (!owners.ok()) return owners.status();
  std::vector<std::string> listed;
  for (int row = 0; row < owners->rows(); ++row) {
    if (owners->GetBool(row, 2)) return absl::OkStatus();
    if (listed.size() < 10) {
      const std::string coowners = owners->GetString(row, 3);
      listed.push_back(
          absl::StrCat(owners->Get(row, 0), ": ", owners->Get(row, 1),
                       coowners.empty() ? "" : absl::StrCat(", co-owners ", coowners)));
    }
  }
  if (owners->rows() == 0) return absl::OkStatus();  // a new distribution
  return absl::PermissionDeniedError(
      absl::StrCat("Distribution \"", owners->Get(0, 4),
                   "\" belongs to the owners of the extensions its latest "
                   "release \"",
                   owners->Get(0, 4), " ", owners->Get(0, 5), "\" provides (",
                   absl::StrJoin(listed, "; "), owners->rows() > 10 ? "; ..." : "", "): user \"",
                   upload.user, "\" may not release it; an owner can make you a co-owner"));
}

}  // namespace

absl::Status CheckVersionOrder(absl::string_view dist, absl::string_view version,
                               const std::vector<std::string>& existing) {
  absl::StatusOr<SemVer> wanted = ParseSemVer(version);
  if (!wanted.ok()) return wanted.status();
  std::vector<SemVer> all, same_minor, same_major;
  for (const std::string& text : existing) {
    absl::StatusOr<SemVer> v = ParseSemVer(text);
    if (!v.ok()) continue;  // cannot happen for validated releases; ignore if it does
    all.push_back(*v);
    if (v->major == wanted->major) {
      same_major.push_back(*v);
      if (v->minor == wanted->minor) same_minor.push_back(*v);
    }
  }
  auto highest = [](const std::vector<SemVer>& versions) {
    return *std::max_element(versions.begin(), versions.end());
  };
  if (all.empty() || !(*wanted < highest(all))) return absl::OkStatus();
  const std::vector<SemVer>* group = &all;
  const char* which = "previous release";
  if (!same_minor.empty()) {
    group = &same_minor;
    which = "previous minor release";
  } else if (!same_major.empty()) {
    group = &same_major;
    which = "previous major release";
  }
  const SemVer top = highest(*group);
  if (group != &all && !(*wanted < top)) return absl::OkStatus();
  return Conflict(absl::StrCat("Distribution \"", dist, " ", version,
                               "\" version not greater than ", which, " \"", dist, " ",
                               top.ToString(), "\""));
}

absl::StatusOr<v1::Event> PublishRelease(PgConnection& conn, const Upload& upload,
                                         const ArchiveLimits& limits,
                                         const Publishing& publishing) {
  absl::StatusOr<Release> release = ReadRelease(upload, limits);
  if (!release.ok()) return release.status();
  const std::string sha1 = base::Sha1Hex(release->zip);
  const std::string sha256 = base::Sha256Hex(release->zip);
  const std::string sha512 = base::Sha512Hex(release->zip);
  const std::string dir = ReleaseDirPath(release->name, release->version);
  const std::string lower_name = absl::AsciiStrToLower(release->name);
  const std::string lower_version = absl::AsciiStrToLower(release->version);

  EventHeader header{feed::EventKind::kRelease, upload.user, release->name, release->version};
  header.changes_stats = true;
  return Publish(
      conn, header,
      [&](absl::Time time) -> absl::StatusOr<std::vector<FileChange>> {
        auto existing =
            conn.Exec("SELECT version FROM distributions WHERE pgxn_lower(name) = pgxn_lower($1)",
                      PgParams().Text(release->name));
        if (!existing.ok()) return existing.status();
        std::vector<std::string> versions;
        for (int row = 0; row < existing->rows(); ++row) {
          versions.push_back(existing->GetString(row, 0));
        }
        if (absl::Status s = CheckVersionOrder(release->name, release->version, versions);
            !s.ok()) {
          return s;
        }
        for (const std::string& v : versions) {
          if (absl::AsciiStrToLower(v) == lower_version) {
            return Conflict(absl::StrCat("Distribution \"", release->name, " ", release->version,
                                         "\" already exists"));
          }
        }
        if (absl::Status s = CheckOwnership(conn, upload.user, release->provides); !s.ok()) {
          return s;
        }
        // After PGXN's own rule, so PGXN's cases keep PGXN's answer.
        if (existing->rows() > 0) {
          if (absl::Status s = CheckDistributionOwner(conn, upload, release->name); !s.ok()) {
            return s;
          }
        }
        const int64_t time_us = absl::ToUnixMicros(time);
        const std::string meta_json =
            RenderReleaseMeta(release->meta, upload.user, time_us, sha1, sha256, sha512);
        auto inserted = conn.Exec(
            "INSERT INTO distributions (name, version, abstract, description, release_status,"
            " creator, sha1, sha256, meta, released_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
            " $9, 'epoch'::timestamptz + $10::bigint * interval '1 microsecond')",
            PgParams()
                .Text(release->name)
                .Text(release->version)
                .Text(release->abstract)
                .Text(release->description)
                .Text(release->status)
                .Text(upload.user)
                .Text(sha1)
                .Text(sha256)
                .Text(meta_json)
                .Int(time_us));
        if (!inserted.ok()) return inserted.status();
        for (const std::string& tag : release->tags) {
          auto r = conn.Exec(
              "INSERT INTO distribution_tags (dist_name, dist_version, tag) VALUES ($1, $2, $3)",
              PgParams().Text(release->name).Text(release->version).Text(tag));
          if (!r.ok()) return r.status();
        }
        AffectedNames names{release->name, {}, {upload.user}, release->tags};
        for (const Provided& extension : release->provides) {
          auto owned = conn.Exec(
              "INSERT INTO extensions (name, owner) VALUES (pgxn_lower($1), $2) "
              "ON CONFLICT (name) DO NOTHING",
              PgParams().Text(extension.name).Text(upload.user));
          if (!owned.ok()) return owned.status();
          auto r = conn.Exec(
              "INSERT INTO distribution_extensions (extension, ext_name, ext_version, dist_name,"
              " dist_version, abstract, docfile) VALUES (pgxn_lower($1), $1, $2, $3, $4, $5,"
              " nullif($6, ''))",
              PgParams()
                  .Text(extension.name)
                  .Text(extension.version)
                  .Text(release->name)
                  .Text(release->version)
                  .Text(extension.abstract)
                  .Text(extension.docfile));
          if (!r.ok()) return r.status();
          names.extensions.push_back(extension.name);
        }
        std::vector<FileChange> files;
        files.push_back(FileChange{absl::StrCat(dir, "/", lower_name, "-", lower_version, ".zip"),
                                   release->zip, "application/zip"});
        files.push_back(FileChange{absl::StrCat(dir, "/META.json"), meta_json, ""});
        if (release->readme.has_value()) {
          files.push_back(FileChange{absl::StrCat(dir, "/README.txt"), *release->readme,
                                     "text/plain; charset=utf-8"});
        }
        absl::StatusOr<std::vector<FileChange>> affected =
            RenderAffectedFiles(conn, names, publishing.defers_aggregates());
        if (!affected.ok()) return affected.status();
        for (FileChange& file : *affected) files.push_back(std::move(file));
        return files;
      },
      publishing);
}

}  // namespace pgxn::origin
