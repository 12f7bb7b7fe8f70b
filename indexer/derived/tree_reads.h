// Reading a replica's tree as the indexer does: a file's content, a JSON
// file parsed, and a dist's newest release. Each read is one store lookup;
// an absent or unreadable file reads as empty. Thread-safe (the store is).
#ifndef PGXN_INDEXER_DERIVED_TREE_READS_H_
#define PGXN_INDEXER_DERIVED_TREE_READS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "replica/store.h"

namespace pgxn::indexer {

// The content of the tree's file at `path`; "" if it has none.
std::string ReadTreeText(const replica::Store& store, absl::string_view path);

// The tree's file at `path`, parsed; a discarded value if absent or not JSON.
nlohmann::json ReadTreeJson(const replica::Store& store, absl::string_view path);

// The version of the newest release a dist/D.json lists: the latest date,
// then the highest version; "" if it lists none.
std::string NewestVersion(const nlohmann::json& dist_file);

// The dir of the newest release dist/DIST.json lists in the tree (`dist` as
// the file is named); "" if the file is gone or lists none.
std::string NewestReleaseDir(const replica::Store& store, const std::string& dist);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DERIVED_TREE_READS_H_
