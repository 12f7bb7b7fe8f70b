// The consistency check behind `pgxnd origin rebuild` (issue 3): renders
// every file the published tree should hold from the relational rows and
// compares it with what tree_files (and blobs) hold.
//
// What the rows say the tree holds:
//   index.json, meta/spec.txt, meta/mirrors.json and the five stats files;
//   for each release, dist/D/V/META.json (distributions.meta, as published),
//   its zip (whose stored sha256 must be distributions.sha256: the archive
//   itself is not in the rows) and README.txt when the zip has a top-level
//   README (read from the stored zip);
//   dist/D.json for each distribution, extension/E.json for each extension
//   some release provides, tag/T.json for each tag some release carries, and
//   user/U.json for each account whose file belongs (catalog.h).
// Every stored file's content is also checked against its sha256 and size.
//
// Callers: the `pgxnd origin rebuild` command and tests. CheckTree reads one
// consistent snapshot, so it may run while the origin publishes. FixTree
// publishes under the feed-head lock. Thread-compatible (one connection per
// call).
#ifndef PGXN_ORIGIN_REBUILD_H_
#define PGXN_ORIGIN_REBUILD_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

struct TreeDifference {
  enum class Kind { kMissing, kExtra, kDifferent };
  Kind kind = Kind::kDifferent;
  std::string path;
  std::string detail;  // why a file differs; empty for missing and extra files
};

// One line: "missing PATH", "extra PATH" or "different PATH: DETAIL".
std::string FormatDifference(const TreeDifference& difference);

struct TreeCheck {
  size_t files_expected = 0;
  std::vector<TreeDifference> differences;  // in path order (bytes)
  // Differences the rows cannot repair: a release archive that is missing,
  // is not the release's, or whose stored content is damaged.
  size_t unfixable = 0;
  // Tag and user files a release or removal changed whose publication the
  // origin deferred (--aggregate-delay, aggregate_pending): they may differ
  // from the rows until their `stats` event, so they are not differences.
  std::vector<std::string> pending;
};

// Compares the tree with the rows. Errors are database errors only; every
// inconsistency is a difference.
absl::StatusOr<TreeCheck> CheckTree(PgConnection& conn);

// Publishes one `meta` event (as `actor`) that puts every missing or
// different file the rows can render and removes every extra one, and
// restores damaged stored contents the rows can render. Returns the event (seq
// 0 when no file needed changing) and, in `remaining`, what still differs
// afterwards (the unfixable archives).
absl::StatusOr<v1::Event> FixTree(PgConnection& conn, absl::string_view actor,
                                  std::vector<TreeDifference>* remaining,
                                  const Publishing& publishing);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_REBUILD_H_
