// The API's `source` template, `/src/{dist}/{dist}-{version}/` (docs/pgxn.md §2,
// §5): the files of a release, unpacked from the zip the tree holds at
// dist/{dist}/{version}/{dist}-{version}.zip, and its directories as listings.
// PGXN unpacks every archive onto disk; here the zip stays the only copy and
// is read on demand, with the entry lists of recently read zips kept in a
// small cache keyed by the zip's sha256 (so a replaced or removed release is
// never served from it: the store is asked for the zip on every request).
//
// Called by the indexer's router for GET and HEAD of every path under /src/,
// on the server's I/O threads, concurrently. SourceHandler is thread-safe; the
// Store it reads must outlive it.
#ifndef PGXN_INDEXER_SOURCE_HANDLER_H_
#define PGXN_INDEXER_SOURCE_HANDLER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "archive/archive.h"
#include "gateway/http.h"
#include "gateway/router.h"
#include "replica/store.h"

namespace pgxn::indexer {

struct SourceOptions {
  // The cache holds at most this many unpacked archives, and at most this many
  // bytes of them (contents plus names). An archive larger than `cache_bytes`
  // is unpacked for each request and never cached.
  size_t cache_archives = 16;
  uint64_t cache_bytes = uint64_t{128} << 20;
  // Bounds on unpacking a stored zip; one beyond them is a 500. The origin
  // checked its own limits on upload; these guard this node's memory.
  archive::ArchiveLimits limits;
};

struct SourceCacheStats {
  uint64_t hits = 0;    // requests answered from a cached archive
  uint64_t misses = 0;  // requests that had to unpack the zip
  size_t archives = 0;  // cached now
  uint64_t bytes = 0;   // cached now
};

class SourceHandler {
 public:
  // `store` is not owned.
  explicit SourceHandler(const replica::Store* store, SourceOptions options = {});
  ~SourceHandler();
  SourceHandler(const SourceHandler&) = delete;
  SourceHandler& operator=(const SourceHandler&) = delete;

  // Answers request.path = /src/{dist}/{dist}-{version}/{path}, where {dist}
  // and {version} are matched exactly (tree paths are lower case) and {path}
  // is looked up under the zip's single top directory (every stored zip has
  // "{dist}-{version}/"; a zip without one is served from its root):
  //  - GET or HEAD; any other method: 405 with `Allow: GET, HEAD`.
  //  - A file: 200 with its bytes, as `text/plain; charset=utf-8` when they are
  //    valid UTF-8 without a NUL byte (whatever the name: an author's HTML is
  //    never run here), `image/svg+xml` for .svg with a sandboxing
  //    Content-Security-Policy, an image's or another binary's media type by
  //    its extension (.png, .gif, .jpg, .pdf, ...), else
  //    `application/octet-stream`; ETag the quoted sha256 hex of the bytes;
  //    `X-Content-Type-Options: nosniff` on every file and listing.
  //  - A symbolic link (ReadArchive keeps only those inside the release) to a
  //    file is served as that file; a link to a directory, or any path
  //    through one, answers 301 with the same path through the directory
  //    itself, so relative links from what is served resolve as on disk.
  //  - A directory, {path} empty or ending in '/': 200 with a listing of its
  //    entries in byte order of their names, `text/html; charset=utf-8` (a
  //    <ul> of relative links, a directory's with a trailing '/', after a
  //    "../" link below the top) unless the Accept headers rank
  //    application/json above text/html, then `application/json`:
  //    [{"name": "sql", "type": "directory", "size": 0},
  //     {"name": "pair.sql", "type": "file", "size": 123},
  //     {"name": "README.md", "type": "link", "size": 45, "target":
  //      "doc/pair.md", "resolved": "doc/pair.md", "resolved_type": "file"}].
  //    In HTML a link shows as "README.md → doc/pair.md", the target linked to
  //    the file or directory it resolves to.
  //    ETag the quoted sha256 hex of the body; `Vary: Accept`.
  //  - A directory without the trailing '/' (the top one included): 301 with
  //    Location the percent-encoded path plus '/' (and the query, if any).
  //  - Both carry Last-Modified (the time of the event that stored the zip),
  //    and answer If-None-Match / If-Modified-Since with 304 and Range with
  //    206, as the tree does (gateway::ServeTreeFile).
  //  - 404 "Not found: <path>\n" (text/plain) for an unknown dist, version or
  //    path, a second segment other than "{dist}-" plus a version, a file
  //    path with a trailing '/', and an empty, "." or ".." segment.
  //  - A stored zip that cannot be read or is beyond `limits`: 500
  //    (gateway::ErrorResponse, naming the zip); a failing store: its status.
  gateway::Response Handle(const gateway::Request& request) const;

  SourceCacheStats cache_stats() const;

 private:
  class Cache;

  const replica::Store* const store_;
  const archive::ArchiveLimits limits_;
  std::unique_ptr<Cache> cache_;
};

// Registers GET (and so HEAD) of every path under /src/ with a SourceHandler
// over `store`, which must outlive `router`.
void AddSourceRoutes(gateway::Router* router, const replica::Store* store,
                     SourceOptions options = {});

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_SOURCE_HANDLER_H_
