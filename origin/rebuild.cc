#include "origin/rebuild.h"

#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "feed/signing.h"
#include "gateway/media_type.h"
#include "origin/accounts/accounts.h"
#include "origin/catalog/bootstrap.h"
#include "origin/catalog/catalog.h"
#include "origin/catalog/tree_render.h"
#include "origin/intake/distribution_archive.h"
#include "origin/publishing/settings.h"

namespace pgxn::origin {
namespace {

struct StoredFile {
  std::string sha256;  // raw
  std::string media_type;
  bool intact = false;  // the blob exists and its content has this sha256 and size
};

struct ExpectedFile {
  // False for a release archive, known only by its sha256 (the rows do not
  // hold archives).
  bool rendered = true;
  std::string content;
  std::string sha256;  // raw
};

struct Expected {
  std::map<std::string, ExpectedFile> files;
  // READMEs of releases whose archive is not available to read them from:
  // whatever is stored is left alone (the archive is reported).
  std::set<std::string> unknown;
};

struct Comparison {
  std::vector<TreeDifference> differences;
  size_t expected = 0;
  size_t unfixable = 0;
  std::vector<FileChange> fixes;
  // Rendered contents whose stored blob may be damaged, to restore.
  std::vector<const ExpectedFile*> repairs;
  // Files stored with the right content under the wrong media type. Nodes got
  // the media type from the event that published the file, so only the
  // origin's row needs correcting (the publisher skips unchanged contents).
  std::vector<std::string> media_repairs;
};

absl::StatusOr<std::map<std::string, StoredFile>> ReadStored(PgConnection& conn) {
  // sha256() runs in the server, so checking every blob moves no content.
  auto rows = conn.Exec(
      "SELECT t.path, t.sha256, t.media_type,"
      " coalesce(sha256(b.content) = t.sha256 AND b.size = t.size"
      " AND length(b.content) = t.size, false)"
      " FROM tree_files t LEFT JOIN blobs b ON b.sha256 = t.sha256");
  if (!rows.ok()) return rows.status();
  std::map<std::string, StoredFile> stored;
  for (int row = 0; row < rows->rows(); ++row) {
    stored[rows->GetString(row, 0)] =
        StoredFile{rows->GetString(row, 1), rows->GetString(row, 2), rows->GetBool(row, 3)};
  }
  return stored;
}

void AddRendered(Expected& expected, std::string path, std::string content) {
  ExpectedFile file;
  file.sha256 = base::Sha256(content);
  file.content = std::move(content);
  expected.files[std::move(path)] = std::move(file);
}

absl::Status AddAll(Expected& expected, absl::StatusOr<std::vector<FileChange>> files) {
  if (!files.ok()) return files.status();
  for (FileChange& file : *files) AddRendered(expected, file.path, std::move(file.content));
  return absl::OkStatus();
}

// The distinct values of a one-column query, keyed by the tree path they
// name (paths lower-case ASCII, as the publisher builds them).
absl::StatusOr<std::map<std::string, std::string>> NamesByPath(
    PgConnection& conn, const char* sql, std::string (*path_of)(absl::string_view)) {
  auto rows = conn.Exec(sql);
  if (!rows.ok()) return rows.status();
  std::map<std::string, std::string> names;
  for (int row = 0; row < rows->rows(); ++row) {
    names.emplace(path_of(rows->Get(row, 0)), rows->GetString(row, 0));
  }
  return names;
}

// The README a stored archive holds (none when it has none); NotFound when
// the archive is not stored intact.
absl::StatusOr<absl::optional<std::string>> ReadmeOf(PgConnection& conn, absl::string_view sha256,
                                                     const std::string& filename) {
  auto blob = conn.Exec("SELECT content FROM blobs WHERE sha256 = $1 AND sha256(content) = sha256",
                        PgParams().Bytes(sha256));
  if (!blob.ok()) return blob.status();
  if (blob->rows() == 0) return absl::NotFoundError("archive not stored");
  // The archive passed the origin's limits when it was uploaded.
  archive::ArchiveLimits unlimited;
  unlimited.max_entries = std::numeric_limits<size_t>::max();
  unlimited.max_total_bytes = std::numeric_limits<uint64_t>::max();
  unlimited.max_entry_bytes = std::numeric_limits<uint64_t>::max();
  absl::StatusOr<DistributionArchive> archive =
      OpenDistribution(blob->Get(0, 0), filename, unlimited);
  if (!archive.ok()) return archive.status();
  return archive->readme;
}

absl::Status AddReleases(PgConnection& conn, Expected& expected) {
  auto releases = conn.Exec("SELECT name, version, sha256, meta FROM distributions");
  if (!releases.ok()) return releases.status();
  for (int row = 0; row < releases->rows(); ++row) {
    const std::string name = releases->GetString(row, 0);
    const std::string version = releases->GetString(row, 1);
    const std::string dir = ReleaseDirPath(name, version);
    AddRendered(expected, absl::StrCat(dir, "/META.json"), releases->GetString(row, 3));

    const std::string zip_name =
        absl::StrCat(absl::AsciiStrToLower(name), "-", absl::AsciiStrToLower(version), ".zip");
    ExpectedFile zip;
    zip.rendered = false;
    zip.sha256 = base::HexDecode(releases->Get(row, 2)).value_or("");
    absl::StatusOr<absl::optional<std::string>> readme = ReadmeOf(conn, zip.sha256, zip_name);
    if (readme.ok()) {
      if (readme->has_value()) AddRendered(expected, absl::StrCat(dir, "/README.txt"), **readme);
    } else if (absl::IsNotFound(readme.status()) || absl::IsFailedPrecondition(readme.status())) {
      expected.unknown.insert(absl::StrCat(dir, "/README.txt"));
    } else {
      return readme.status();
    }
    expected.files[absl::StrCat(dir, "/", zip_name)] = std::move(zip);
  }
  return absl::OkStatus();
}

absl::StatusOr<Expected> RenderExpected(PgConnection& conn) {
  Expected expected;
  AddRendered(expected, "index.json", RenderIndexJson());
  AddRendered(expected, "meta/spec.txt", kMetaSpecText);
  // The key the database's events are signed with (origin_key.h records it).
  absl::StatusOr<std::string> key_hex = GetSetting(conn, Setting::kOriginPublicKey);
  if (key_hex.ok()) {
    absl::optional<std::string> key = base::HexDecode(*key_hex);
    if (key.has_value()) AddRendered(expected, "meta/origin.pub", feed::FormatPublicKey(*key));
  } else if (!absl::IsNotFound(key_hex.status())) {
    return key_hex.status();
  }
  absl::StatusOr<FileChange> mirrors = RenderMirrorsFile(conn);
  if (!mirrors.ok()) return mirrors.status();
  AddRendered(expected, mirrors->path, std::move(mirrors->content));
  if (absl::Status s = AddAll(expected, RenderStatsFiles(conn)); !s.ok()) return s;
  if (absl::Status s = AddReleases(conn, expected); !s.ok()) return s;

  auto dists = NamesByPath(conn, "SELECT DISTINCT name FROM distributions", DistJsonPath);
  if (!dists.ok()) return dists.status();
  for (const auto& [path, name] : *dists) {
    absl::StatusOr<std::vector<ReleaseRow>> rows = QueryDistReleases(conn, name);
    if (!rows.ok()) return rows.status();
    AddRendered(expected, path, RenderDistJson(*rows));
  }
  auto extensions =
      NamesByPath(conn, "SELECT DISTINCT ext_name FROM distribution_extensions", ExtensionJsonPath);
  if (!extensions.ok()) return extensions.status();
  for (const auto& [path, name] : *extensions) {
    absl::StatusOr<std::vector<ProvidedRow>> rows = QueryExtensionReleases(conn, name);
    if (!rows.ok()) return rows.status();
    AddRendered(expected, path, RenderExtensionJson(*rows));
  }
  auto tags = NamesByPath(conn, "SELECT DISTINCT tag FROM distribution_tags", TagJsonPath);
  if (!tags.ok()) return tags.status();
  for (const auto& [path, tag] : *tags) {
    std::string spelling;
    absl::StatusOr<std::vector<ReleaseRow>> rows = QueryTagReleases(conn, tag, &spelling);
    if (!rows.ok()) return rows.status();
    AddRendered(expected, path, RenderTagJson(spelling, *rows));
  }
  absl::StatusOr<std::vector<std::string>> users = QueryUsersWithFiles(conn);
  if (!users.ok()) return users.status();
  for (const std::string& user : *users) {
    absl::StatusOr<FileChange> file = RenderUserFile(conn, user);
    if (!file.ok()) return file.status();
    AddRendered(expected, file->path, std::move(file->content));
  }
  return expected;
}

TreeDifference Difference(TreeDifference::Kind kind, const std::string& path,
                          std::string detail = "") {
  return TreeDifference{kind, path, std::move(detail)};
}

Comparison Compare(const Expected& expected, const std::map<std::string, StoredFile>& stored) {
  Comparison result;
  result.expected = expected.files.size();
  auto want = expected.files.begin();
  auto have = stored.begin();
  // Both maps are in path order: walk them together.
  while (want != expected.files.end() || have != stored.end()) {
    if (have == stored.end() || (want != expected.files.end() && want->first < have->first)) {
      const auto& [path, file] = *want++;
      result.differences.push_back(Difference(TreeDifference::Kind::kMissing, path));
      if (file.rendered) {
        result.fixes.push_back(FileChange{path, file.content, ""});
        result.repairs.push_back(&file);
      } else {
        ++result.unfixable;
      }
      continue;
    }
    if (want == expected.files.end() || have->first < want->first) {
      const auto& [path, file] = *have++;
      if (expected.unknown.count(path) > 0) continue;
      result.differences.push_back(Difference(TreeDifference::Kind::kExtra, path));
      result.fixes.push_back(FileChange{path, "", "", true});
      continue;
    }
    const std::string& path = want->first;
    const ExpectedFile& file = want->second;
    const StoredFile& found = have->second;
    ++want;
    ++have;
    const std::string media_type(gateway::MediaTypeForPath(path));
    std::string detail;
    if (found.sha256 != file.sha256) {
      detail = file.rendered
                   ? "stored content differs from the rows"
                   : absl::StrCat("stored archive has sha256 ", base::HexEncode(found.sha256),
                                  ", the release's is ", base::HexEncode(file.sha256));
    } else if (!found.intact) {
      detail = "stored content does not match its sha256";
    } else if (found.media_type != media_type) {
      detail = absl::StrCat("stored as \"", found.media_type, "\", expected \"", media_type, "\"");
    } else {
      continue;
    }
    result.differences.push_back(Difference(TreeDifference::Kind::kDifferent, path, detail));
    if (found.sha256 == file.sha256 && found.intact) {
      result.media_repairs.push_back(path);
      continue;
    }
    if (!file.rendered) {
      ++result.unfixable;
      continue;
    }
    result.fixes.push_back(FileChange{path, file.content, ""});
    result.repairs.push_back(&file);
  }
  return result;
}

absl::StatusOr<Comparison> Check(PgConnection& conn, Expected* expected) {
  absl::StatusOr<Expected> rendered = RenderExpected(conn);
  if (!rendered.ok()) return rendered.status();
  *expected = *std::move(rendered);
  absl::StatusOr<std::map<std::string, StoredFile>> stored = ReadStored(conn);
  if (!stored.ok()) return stored.status();
  return Compare(*expected, *stored);
}

}  // namespace

std::string FormatDifference(const TreeDifference& difference) {
  switch (difference.kind) {
    case TreeDifference::Kind::kMissing:
      return absl::StrCat("missing ", difference.path);
    case TreeDifference::Kind::kExtra:
      return absl::StrCat("extra ", difference.path);
    case TreeDifference::Kind::kDifferent:
      break;
  }
  return absl::StrCat("different ", difference.path, ": ", difference.detail);
}

absl::StatusOr<TreeCheck> CheckTree(PgConnection& conn) {
  TreeCheck check;
  absl::Status status = conn.Transaction([&]() -> absl::Status {
    // One snapshot for every query, however the origin publishes meanwhile.
    if (absl::Status s =
            conn.ExecScript("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        !s.ok()) {
      return s;
    }
    Expected expected;
    absl::StatusOr<Comparison> comparison = Check(conn, &expected);
    if (!comparison.ok()) return comparison.status();
    check.files_expected = comparison->expected;
    check.unfixable = comparison->unfixable;
    absl::StatusOr<std::vector<std::string>> pending = QueryPendingAggregates(conn);
    if (!pending.ok()) return pending.status();
    const absl::flat_hash_set<std::string> deferred(pending->begin(), pending->end());
    for (TreeDifference& difference : comparison->differences) {
      if (deferred.contains(difference.path)) continue;
      check.differences.push_back(std::move(difference));
    }
    check.pending = *std::move(pending);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return check;
}

absl::StatusOr<v1::Event> FixTree(PgConnection& conn, absl::string_view actor,
                                  std::vector<TreeDifference>* remaining,
                                  const Publishing& publishing) {
  EventHeader header{feed::EventKind::kMeta, std::string(actor), "", ""};
  header.skip_if_unchanged = true;
  // The rows were changed behind the publisher's back: the digest state it
  // carries forward no longer describes them.
  header.recompute_tree_state = true;
  absl::StatusOr<v1::Event> event = Publish(
      conn, header,
      [&](absl::Time) -> absl::StatusOr<std::vector<FileChange>> {
        // Under the feed-head lock no publisher changes the rows meanwhile.
        Expected expected;
        absl::StatusOr<Comparison> comparison = Check(conn, &expected);
        if (!comparison.ok()) return comparison.status();
        // Every file is made what the rows say here, pending ones included.
        auto published = conn.Exec("DELETE FROM aggregate_pending");
        if (!published.ok()) return published.status();
        for (const ExpectedFile* file : comparison->repairs) {
          auto repaired = conn.Exec(
              "UPDATE blobs SET content = $2, size = $3"
              " WHERE sha256 = $1 AND (sha256(content) <> sha256 OR size <> $3)",
              PgParams()
                  .Bytes(file->sha256)
                  .Bytes(file->content)
                  .Int(static_cast<int64_t>(file->content.size())));
          if (!repaired.ok()) return repaired.status();
        }
        for (const std::string& path : comparison->media_repairs) {
          auto repaired = conn.Exec("UPDATE tree_files SET media_type = $2 WHERE path = $1",
                                    PgParams().Text(path).Text(gateway::MediaTypeForPath(path)));
          if (!repaired.ok()) return repaired.status();
        }
        return std::move(comparison->fixes);
      },
      publishing);
  if (!event.ok()) return event.status();
  absl::StatusOr<TreeCheck> after = CheckTree(conn);
  if (!after.ok()) return after.status();
  *remaining = std::move(after->differences);
  return event;
}

}  // namespace pgxn::origin
