// Where PGXN's tree keeps what the indexer reads (docs/pgxn.md §2): a release's
// directory, META.json and zip, and the top files named for a dist, user,
// extension or tag. Every part of the indexer finds files through here.
// Pure functions; thread-safe.
#ifndef PGXN_INDEXER_DOCS_TREE_LAYOUT_H_
#define PGXN_INDEXER_DOCS_TREE_LAYOUT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace pgxn::indexer {

// "dist/pair/0.1.0/META.json" → true: a release's META.
bool IsReleaseMeta(absl::string_view path);

// "dist/pair/0.1.0/" of "dist/pair/0.1.0/META.json".
std::string ReleaseDirOf(absl::string_view meta_path);

// The directory of release `version` of `dist`: "dist/pair/0.1.0/" (lower
// case, as the tree names it).
std::string ReleaseDir(absl::string_view dist, absl::string_view version);

// The release's zip under `dir`: "dist/pair/0.1.0/pair-0.1.0.zip", from its
// META's name and version.
std::string ZipPath(const std::string& dir, const nlohmann::json& meta);

// The name of a top file: "theory" of "user/theory.json" with `dir` "user";
// "" if `path` is not DIR/NAME.json.
std::string NameIn(absl::string_view path, absl::string_view dir);

// The string `key` of a JSON object; "" if it is absent, not a string, or
// `doc` is not an object.
std::string JsonString(const nlohmann::json& doc, const char* key);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_TREE_LAYOUT_H_
