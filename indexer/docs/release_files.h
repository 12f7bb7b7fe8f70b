// The files of a release that the indexer reads from its archive: the docs,
// found as PGXN finds them (each extension's docfile, then every file in a
// markup it renders, and the READMEs; not what META's no_index names) and
// rendered to PGXN's HTML fragment (doc_html.h), and the special files PGXN
// lists (Changes, README, LICENSE, ...). Bounded, so that a hostile archive
// cannot make a node render more than a few megabytes.
//
// Pure functions of the META and the zip's bytes; thread-safe.
#ifndef PGXN_INDEXER_DOCS_RELEASE_FILES_H_
#define PGXN_INDEXER_DOCS_RELEASE_FILES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "indexer/docs/doc_converter.h"
#include "nlohmann/json.hpp"

namespace pgxn::indexer {

// One document of a release, rendered.
struct ReleaseDoc {
  std::string path;      // inside the release: "doc/pair.md"
  std::string docpath;   // path without its last extension: "doc/pair"
  std::string title;     // the extension's name for a docfile, else the first heading
  std::string abstract;  // the extension's abstract for a docfile, else empty
  std::string html;      // the pgxndoc fragment
  std::string text;      // plain text of the body, for search
};

struct ReleaseFiles {
  std::vector<ReleaseDoc> docs;  // in archive order, docfiles first
  // Top-level files PGXN lists, in its order, at most one of each: Changes
  // or ChangeLog, README, LICENSE, COPYING, INSTALL, AUTHORS (each in any
  // case, with at most one extension), META.json, Makefile, MANIFEST,
  // NAME.control; each pattern falls back to the file with ".in" after it.
  std::vector<std::string> special_files;
  // The release's source index (source_index.h), encoded: what /src/ lists
  // and serves the archive's files from. Empty when the zip was not read.
  std::string source_index;
};

// Bounds on what one release may make the indexer render; a hostile archive
// cannot make it render more.
inline constexpr size_t kMaxDocsPerRelease = 200;
inline constexpr size_t kMaxDocBytes = size_t{2} << 20;
// Pages (and their search text) rendered for one release stop once they
// reach this many bytes.
inline constexpr size_t kMaxRenderedBytesPerRelease = size_t{16} << 20;
// Time the converters (markup_converters.h) may spend on one release's docs;
// after it, its remaining docs in those markups are shown as text, so that a
// release of 200 docs that each hang costs a bounded time, not 200 timeouts.
inline constexpr absl::Duration kMaxConversionTimePerRelease = absl::Seconds(30);

// Reads the release zip `zip` (every entry under "NAME-VERSION/") described by
// `meta` (its release META.json) and renders its docs: each extension's
// docfile, then every other file that is a recognised markup or a README,
// skipping what META's no_index names, with `converter` for the markups that
// need one (none: those are shown as text); and builds its source index.
// FailedPrecondition if the zip cannot be read.
absl::StatusOr<ReleaseFiles> ReadReleaseFiles(const nlohmann::json& meta, absl::string_view zip,
                                              const DocConverter* converter = nullptr);

// A path as META gives it ("./doc/x.md", "test/") as an archive path
// inside the release ("doc/x.md", "test").
std::string ArchivePathOf(absl::string_view meta_path);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_RELEASE_FILES_H_
