// The small files a node serves most, kept in memory between the writes that
// could change them, so that a hot dist JSON or META.json costs the gateway a
// hash lookup instead of the store's reads (ops/bench/gateway).
//
// Entries are tagged with the store's FilesVersion read before the file was:
// a lookup with another version misses, and the first insert with a newer one
// empties the cache, so an applied event invalidates everything at once and a
// reader that raced a write never leaves an old file behind for later readers.
// Bounded in bytes: an insert that does not fit empties the cache first
// (hot files come back on their next read; a crude policy, but it needs no
// bookkeeping on the hit path). Thread-safe.
#ifndef PGXN_REPLICA_HOT_FILES_H_
#define PGXN_REPLICA_HOT_FILES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace pgxn::replica {

class HotFiles {
 public:
  struct File {
    std::string content;
    std::string sha256_hex;
    std::string media_type;
    int64_t modified_unix_seconds = 0;
  };

  // `max_bytes`: the cache's bound, counting each file's content and path.
  explicit HotFiles(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // The file cached for `path` at `version`, or null.
  std::shared_ptr<const File> Find(absl::string_view path, uint64_t version) const;
  // Caches `file`, read at `version` (the version read before the file), if
  // it fits the bound at all; dropped if the cache already holds a newer
  // version.
  void Insert(absl::string_view path, uint64_t version, std::shared_ptr<const File> file);

  uint64_t bytes() const;

 private:
  const uint64_t max_bytes_;
  mutable absl::Mutex mu_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<const File>> files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_HOT_FILES_H_
