// The API documents an indexer serves beside the mirror tree (docs/pgxn.md §5,
// tests/fixtures/api-root): the enriched dist, release META, extension, user and
// tag JSON and users/{letter}.json, built from the tree files and a release's
// rendered docs (indexer/docs/release_files.h).
//
// Plain functions of their inputs, so the indexer (indexer.cc) decides what
// to read and when, and tests need no store. Thread-compatible.
#ifndef PGXN_INDEXER_DERIVED_API_DOCUMENTS_H_
#define PGXN_INDEXER_DERIVED_API_DOCUMENTS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "indexer/docs/release_files.h"
#include "nlohmann/json.hpp"

namespace pgxn::indexer {

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

#endif  // PGXN_INDEXER_DERIVED_API_DOCUMENTS_H_
