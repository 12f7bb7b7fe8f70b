// The tree an indexer serves over HTTP: its derived API documents (enriched
// JSON, rendered docs, users/{letter}.json; api_documents.h) where it has
// one for a path, the replicated tree's file otherwise. The derived documents
// live in the store's `derived` family in the encoding below.
//
// Thread-safe (the store is); called from the HTTP server's threads.
#ifndef PGXN_INDEXER_DERIVED_API_TREE_H_
#define PGXN_INDEXER_DERIVED_API_TREE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "gateway/tree_handler.h"
#include "replica/store.h"
#include "replica/store_tree.h"

namespace pgxn::indexer {

// A derived document as stored: sha256 (32 bytes) | time in microseconds
// (8 bytes, big-endian) | content. The hash is kept so that serving it needs
// no hashing per request.
std::string EncodeDerived(absl::string_view content, int64_t time_us);
// The content of an encoded document; "" if `value` is too short to be one.
absl::string_view DerivedContent(absl::string_view value);

// Keys under this prefix hold the indexer's own records, never served as
// documents (no tree path starts with it).
inline constexpr absl::string_view kPrivateDerivedPrefix = "_indexer/";
// The key of the source index (indexer/docs/source_index.h) of the release
// under `release_dir` ("dist/pair/0.1.0/"), stored encoded as above.
std::string SourceIndexKey(absl::string_view release_dir);

class ApiTree final : public gateway::TreeReader {
 public:
  // `files` may be null (replica::StoreTree).
  explicit ApiTree(const replica::Store* store, replica::FileCache* files = nullptr)
      : store_(store), tree_(store, files) {}

  // The derived document at `path` if there is one (but the private
  // records), else the tree's file.
  absl::StatusOr<gateway::TreeFile> ReadFile(absl::string_view path) const override;
  // The same, with a large tree file (a zip) streamed from the store.
  absl::StatusOr<gateway::TreeFile> OpenFile(absl::string_view path) const override;
  // The replicated tree's files only (what /_tree lists and digests compare).
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit)
      const override;

 private:
  absl::StatusOr<gateway::TreeFile> Read(absl::string_view path, bool open) const;

  const replica::Store* const store_;
  const replica::StoreTree tree_;
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DERIVED_API_TREE_H_
