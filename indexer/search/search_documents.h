// What the search index holds of the tree (search_index.h's documents): for
// each dist its newest release (with its tags and its docs, or the tree's
// README.txt), each extension as the newest release providing it describes
// it, and each user. Events only note what they touch; IndexNoted then
// indexes each noted dist, user and extension once, as the tree has it at
// the commit, so that one changed by many events of a batch costs one
// document.
//
// Thread-compatible: one writer (the indexing thread).
#ifndef PGXN_INDEXER_SEARCH_SEARCH_DOCUMENTS_H_
#define PGXN_INDEXER_SEARCH_SEARCH_DOCUMENTS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "indexer/derived/derived_documents.h"
#include "indexer/docs/release_files.h"
#include "indexer/docs/renderer.h"
#include "indexer/search/search_index.h"
#include "nlohmann/json.hpp"
#include "replica/store.h"

namespace pgxn::indexer {

class SearchDocuments {
 public:
  // None owned. `derived` gives the enriched METAs (each extension's
  // docpath); `renderer` renders the docs of newest releases the batch did
  // not render.
  SearchDocuments(const replica::Store* store, SearchIndex* index, const DerivedDocuments* derived,
                  ReleaseRenderer* renderer)
      : store_(store), index_(index), derived_(derived), renderer_(renderer) {}

  // An event touched user/U.json, dist/D.json, extension/E.json (names as
  // the files are named), or removed tag/T.json.
  void NoteUser(const std::string& user) { users_.insert(user); }
  void NoteDist(const std::string& dist) { dists_.insert(dist); }
  void NoteExtension(const std::string& extension) { extensions_.insert(extension); }
  void NoteRemovedTag(const std::string& tag) { removed_tags_.insert(tag); }

  // Indexes the release under `dir` now, as its dist's newest: the dist, its
  // tags and its docs (or the tree's README.txt). IndexNoted then skips the
  // dist (a rebuild indexes each newest release as it derives it).
  void IndexNewestRelease(const std::string& dir, const nlohmann::json& meta,
                          const ReleaseFiles& files);

  // Indexes everything noted since the last call as the tree has it now,
  // and forgets it. `rendered` holds the docs rendered for this batch by
  // release dir; a noted dist's newest release not among them is rendered
  // (ahead of this thread when there are many).
  void IndexNoted(const absl::flat_hash_map<std::string, ReleaseFiles>& rendered);

  // Forgets what was noted (a failed batch).
  void Forget();

  // Fewer releases to render than this are rendered on the indexing thread.
  static constexpr size_t kRenderAheadMin = 16;

 private:
  // Puts `doc`; a document the index refuses (an empty key) is logged and
  // skipped, not allowed to stop the indexing of everything after it.
  template <typename Doc>
  void PutOrLog(const Doc& doc);
  // Re-indexes `extension` (lower case) from the newest release its
  // extension/E.json names.
  void ReindexExtension(const std::string& extension);
  // The full name user/NICK.json gives (cached until IndexNoted ends).
  std::string UserName(const std::string& user);

  const replica::Store* const store_;
  SearchIndex* const index_;
  const DerivedDocuments* const derived_;
  ReleaseRenderer* const renderer_;
  absl::flat_hash_set<std::string> users_, dists_, extensions_, removed_tags_;
  absl::flat_hash_set<std::string> indexed_dists_;            // by IndexNewestRelease
  absl::flat_hash_map<std::string, std::string> user_names_;  // nickname → name
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_SEARCH_SEARCH_DOCUMENTS_H_
