// Copies of the tree's large files as plain files on local disk, so that the
// gateway sends them with sendfile(2), from the page cache to the socket, the
// way nginx sends a mirror's files, instead of copying each 64 KiB chunk out
// of RocksDB and then into the socket (ops/bench/gateway, the zip row).
//
// A cache, never a source of truth: the store holds every file, and this
// holds copies of the large ones asked for, named by their SHA-256 in DIR,
// within `max_bytes` of disk; past it the least recently served copies are
// unlinked (a response already sending one keeps its open descriptor, so it
// finishes). DIR is emptied when the cache opens, so nothing a crash left
// half-written, or a machine crash left unflushed, is ever served.
//
// A miss queues the file for the cache's own thread, which copies it from the
// store a chunk at a time (never the whole file in memory), checks it against
// its SHA-256 and only then gives it its name; the request that missed is
// served from the store meanwhile. So the first requests for a file cost what
// they did before, the later ones a sendfile. Content is addressed by hash, so
// a copy can never be served for a path whose file has changed: the caller
// looks up the path's current hash in the store first.
//
// Thread-safe.
#ifndef PGXN_REPLICA_FILE_CACHE_H_
#define PGXN_REPLICA_FILE_CACHE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/scoped_fd.h"

namespace pgxn::replica {

class FileCache {
 public:
  // Up to `length` bytes of the content with this (raw) SHA-256 from
  // `offset` (Store::ReadBlobRange).
  using Reader = std::function<absl::StatusOr<std::string>(absl::string_view sha256,
                                                           uint64_t offset, size_t length)>;

  // Creates DIR (0700) if needed and empties it. `max_bytes` > 0.
  static absl::StatusOr<std::unique_ptr<FileCache>> Open(std::string dir, uint64_t max_bytes,
                                                         Reader read);
  ~FileCache();  // stops the copier (a copy under way is abandoned)
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // The open copy of the content with this SHA-256 (raw) and size, or null;
  // on a miss, the content is queued to be copied if it fits at all and the
  // queue is not full (kMaxQueued).
  std::shared_ptr<const base::ScopedFd> Find(absl::string_view sha256, uint64_t size);

  // Bytes and files held now; copies made and refused (a read error, or
  // content that did not match its hash) since Open.
  struct Stats {
    uint64_t bytes = 0;
    uint64_t files = 0;
    uint64_t copied = 0;
    uint64_t failed = 0;
  };
  Stats stats() const;
  // Blocks until nothing is queued or being copied (for tests).
  void WaitIdle() const;

  static constexpr size_t kMaxQueued = 64;

 private:
  struct Entry {
    std::shared_ptr<const base::ScopedFd> fd;
    uint64_t size = 0;
    std::list<std::string>::iterator lru;  // position in lru_
  };
  struct Job {
    std::string sha256;
    uint64_t size = 0;
  };

  FileCache(std::string dir, uint64_t max_bytes, Reader read);
  void Run();
  // Writes the content to a new file in dir_ and names it; the open file, or
  // an error (nothing left behind).
  absl::StatusOr<base::ScopedFd> Copy(const Job& job);
  // Unlinks least recently used copies until `room` more bytes fit.
  void MakeRoom(uint64_t room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const uint64_t max_bytes_;
  const Reader read_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);  // by raw sha256
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);  // most recently served first
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> queued_ ABSL_GUARDED_BY(mu_);  // in queue_ or being copied
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time paused_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // after a failed copy
  uint64_t copied_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread copier_;
};

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_FILE_CACHE_H_
