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
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit)
      const override;

 private:
  const Store* const store_;
};

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_STORE_TREE_H_
