// The HTTP gateway's view of a node's store (gateway::TreeReader). Thread-safe
// (the store and the file cache are). Files up to kStreamAbove bytes are read
// whole and kept in a HotFiles cache of kHotBytes until the store's files
// change (and so are the paths it does not have, in kMissingBytes); larger ones are sent from the FileCache's copy when it has one
// (sendfile), else streamed from the store's chunks.
#ifndef PGXN_REPLICA_STORE_TREE_H_
#define PGXN_REPLICA_STORE_TREE_H_

#include <string>

#include "gateway/tree_handler.h"
#include "replica/file_cache.h"
#include "replica/hot_files.h"
#include "replica/store.h"

namespace pgxn::replica {

class StoreTree final : public gateway::TreeReader {
 public:
  // `files` may be null (no copies on disk: large files always stream).
  explicit StoreTree(const Store* store, FileCache* files = nullptr)
      : store_(store), files_(files) {}
  absl::StatusOr<gateway::TreeFile> ReadFile(absl::string_view path) const override;
  // Files over kStreamAbove bytes come back with the file cache's open copy,
  // or a reader over the store's chunks; the store must outlive the reader
  // (the HTTP server stops first).
  absl::StatusOr<gateway::TreeFile> OpenFile(absl::string_view path) const override;
  static constexpr uint64_t kStreamAbove = 256 * 1024;
  static constexpr uint64_t kHotBytes = 16 << 20;
  static constexpr uint64_t kMissingBytes = 1 << 20;
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit)
      const override;

 private:
  // `file` (a small file of the tree, at `path`) with its content, cached
  // as read at `version`.
  absl::StatusOr<gateway::TreeFile> ReadWhole(absl::string_view path, const StoredFile& file,
                                              uint64_t version) const;
  // The store's entry for `path`; NotFound from missing_ when it was absent
  // at `version`.
  absl::StatusOr<StoredFile> Lookup(absl::string_view path, uint64_t version) const;

  const Store* const store_;
  FileCache* const files_;
  mutable HotFiles hot_{kHotBytes};
  // Paths the store did not have, at the version they were looked up (404s
  // are a mirror's third most frequent answer); kept apart from hot_ so that
  // a crawler's flood of made-up paths empties only this (kMissingBytes).
  mutable HotFiles missing_{kMissingBytes};
};

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_STORE_TREE_H_
