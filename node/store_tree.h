// The HTTP gateway's view of a node's store: serves tree files (TreeReader) and
// the tree listing of GET /_tree. Thread-safe (the store is).
#ifndef PGXN_NODE_STORE_TREE_H_
#define PGXN_NODE_STORE_TREE_H_

#include <string>

#include "gateway/tree_handler.h"
#include "node/store.h"

namespace pgxn::node {

class StoreTree final : public gateway::TreeReader {
 public:
  explicit StoreTree(const Store* store) : store_(store) {}
  absl::StatusOr<gateway::TreeFile> ReadFile(absl::string_view path) const override;

 private:
  const Store* const store_;
};

// One line per file, in path order, in sha256sum's format: "<sha256 hex>  <path>\n".
// Two nodes hold the same tree exactly when their listings are equal.
std::string TreeListingLine(absl::string_view sha256, absl::string_view path);
absl::StatusOr<std::string> StoreTreeListing(const Store& store);

}  // namespace pgxn::node

#endif  // PGXN_NODE_STORE_TREE_H_
