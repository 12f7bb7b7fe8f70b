// The HTTP gateway's view of a node's store (gateway::TreeReader). Thread-safe
// (the store is).
#ifndef PGXN_REPLICA_STORE_TREE_H_
#define PGXN_REPLICA_STORE_TREE_H_

#include <string>

#include "gateway/tree_handler.h"
#include "replica/store.h"

namespace pgxn::replica {

class StoreTree final : public gateway::TreeReader {
 public:
  explicit StoreTree(const Store* store) : store_(store) {}
  absl::StatusOr<gateway::TreeFile> ReadFile(absl::string_view path) const override;
  // Files over kStreamAbove bytes come back with a reader over the store's
  // chunks; the store must outlive the reader (the HTTP server stops first).
  absl::StatusOr<gateway::TreeFile> OpenFile(absl::string_view path) const override;
  static constexpr uint64_t kStreamAbove = 256 * 1024;
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit)
      const override;

 private:
  const Store* const store_;
};

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_STORE_TREE_H_
