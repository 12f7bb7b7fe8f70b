// What the site reads, all of it from the indexer it runs on: the derived
// API documents over the replicated tree (enriched dist, META, extension,
// user and tag JSON, rendered docs, the stats), the store (file sizes, the
// list of tags), the search index, and the seq the indexer serves. No page
// reaches another node.
//
// Thread-safe: the sources are; the tag list is cached per served seq under
// a mutex.
#ifndef PGXN_SITE_CATALOG_H_
#define PGXN_SITE_CATALOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gateway/tree_handler.h"
#include "indexer/search/search_index.h"
#include "nlohmann/json.hpp"
#include "replica/store.h"

namespace pgxn::site {

struct SiteSources {
  // The tree as the indexer's API serves it (indexer/derived/api_tree.h).
  std::shared_ptr<const gateway::TreeReader> tree;
  const replica::Store* store = nullptr;
  const indexer::SearchIndex* index = nullptr;
  // The seq whose state the pages show (the index's last commit).
  std::function<uint64_t()> served_seq;
};

struct TagUse {
  std::string tag;  // as its newest use spells it
  int dists = 0;    // distributions that use it
};

class Catalog {
 public:
  explicit Catalog(SiteSources sources);

  // The JSON document at `path` (a tree path, "dist/pair.json"). NotFound
  // when absent; Internal when it is not JSON.
  absl::StatusOr<nlohmann::json> Json(absl::string_view path) const;
  // The bytes of the file at `path`; NotFound when absent.
  absl::StatusOr<std::string> Text(absl::string_view path) const;
  // The size of the replicated file at `path`; NotFound when absent.
  absl::StatusOr<uint64_t> FileSize(absl::string_view path) const;
  // Every tag with the number of distributions using it, by name, read
  // from the tree's tag files once per served seq.
  absl::StatusOr<std::shared_ptr<const std::vector<TagUse>>> AllTags() const;

  uint64_t Seq() const { return sources_.served_seq ? sources_.served_seq() : 0; }
  const indexer::SearchIndex& index() const { return *sources_.index; }
  const gateway::TreeReader& tree() const { return *sources_.tree; }
  const replica::Store& store() const { return *sources_.store; }

 private:
  const SiteSources sources_;
  mutable absl::Mutex mu_;
  mutable uint64_t tags_seq_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::shared_ptr<const std::vector<TagUse>> tags_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pgxn::site

#endif  // PGXN_SITE_CATALOG_H_
