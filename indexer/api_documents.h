// The API documents an indexer serves beside the mirror tree (PGXN.md §5,
// fixtures/api-root): the docs found in a release archive and rendered to
// HTML, and the enriched dist, release META, extension, user and tag JSON and
// users/{letter}.json built from the tree files and those docs.
//
// Plain functions of their inputs, so the indexer (indexer.cc) decides what
// to read and when, and tests need no store. Thread-compatible.
#ifndef PGXN_INDEXER_API_DOCUMENTS_H_
#define PGXN_INDEXER_API_DOCUMENTS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
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
  // Top-level files PGXN lists: Changes, README*, LICENSE*, INSTALL*,
  // COPYING*, AUTHORS*, META.json, Makefile, MANIFEST, NAME.control.
  std::vector<std::string> special_files;
};

// Bounds on what one release may make the indexer render; a hostile archive
// cannot make it render more.
inline constexpr size_t kMaxDocsPerRelease = 200;
inline constexpr size_t kMaxDocBytes = size_t{2} << 20;
// Pages (and their search text) rendered for one release stop once they
// reach this many bytes.
inline constexpr size_t kMaxRenderedBytesPerRelease = size_t{16} << 20;

// Reads the release zip `zip` (every entry under "NAME-VERSION/") described by
// `meta` (its release META.json) and renders its docs: each extension's
// docfile, then every other file that is a recognised markup or a README,
// skipping what META's no_index names. FailedPrecondition if the zip cannot
// be read.
absl::StatusOr<ReleaseFiles> ReadReleaseFiles(const nlohmann::json& meta, absl::string_view zip);

// The release META as the API serves it: `meta` plus `docs` ({docpath:
// {title, abstract?}}), `special_files`, and `docpath` for each extension
// that has a doc.
nlohmann::json EnrichRelease(nlohmann::json meta, const ReleaseFiles& files);

// The version a dist's JSON is shown as: the newest stable release, else the
// newest testing, else the newest unstable (newest: latest date, then highest
// version). "" if `dist_file` lists none.
std::string ShownVersion(const nlohmann::json& dist_file);

// dist/D.json as the API serves it: the shown release's enriched META with
// the dist file's `releases`.
nlohmann::json EnrichDist(const nlohmann::json& dist_file, nlohmann::json shown_release);

// extension/E.json as the API serves it: each status's entry gains the
// release's `abstract` and `docpath` for E, each version entry its `date`.
// `release(dist, version)` returns that release's enriched META, or a
// discarded value if unknown.
nlohmann::json EnrichExtension(
    nlohmann::json extension_file,
    const std::function<nlohmann::json(const std::string& dist, const std::string& version)>&
        release);

// user/U.json or tag/T.json as the API serves it: each entry of `releases`
// gains its dist's `abstract` (as `abstract(dist)` gives it; omitted if "").
nlohmann::json EnrichReleaseLists(
    nlohmann::json file, const std::function<std::string(const std::string& dist)>& abstract);

// "users/t.json" for "theory"; "" for an empty nickname.
std::string UserListPath(absl::string_view nickname);

// users/{letter}.json after `nickname`'s entry is set to `name`, or removed
// when `name` is nullopt: [{"user","name"}] sorted by nickname. `list` may be
// a discarded or non-array value (no list yet).
nlohmann::json UpdateUserList(const nlohmann::json& list, const std::string& nickname,
                              const absl::optional<std::string>& name);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_API_DOCUMENTS_H_
