// The API's `source` template, `/src/{dist}/{dist}-{version}/` (docs/pgxn.md §2,
// §5): the files of a release, read from the zip the tree holds at
// dist/{dist}/{version}/{dist}-{version}.zip, and its directories as listings.
// PGXN unpacks every archive onto disk; here the zip stays the only copy.
// What a release holds comes from its source index (indexer/docs/
// source_index.h), built once when the release was indexed and kept in the
// derived family: a listing reads no archive, and a file inflates only its
// own entry. A release indexed before source indexes existed (or whose index
// describes another zip) is unpacked once to build one in memory. Recently
// used indexes are cached, keyed by the zip's sha256 (so a replaced or
// removed release is never served from it: the store is asked for the zip
// on every request).
//
// Requests that must read many bytes (a file of a large zip, a large entry,
// unpacking a zip without an index) are limited to a few at once, below the
// HTTP server's I/O threads, so that cheap requests (/_status, the tree) are
// never queued behind them; beyond the limit they get 503 with Retry-After.
//
// Called by the indexer's router for GET and HEAD of every path under /src/,
// and by the site's source pages, on the servers' I/O threads, concurrently.
// SourceHandler is thread-safe; the Store it reads must outlive it.
#ifndef PGXN_INDEXER_SOURCE_HANDLER_H_
#define PGXN_INDEXER_SOURCE_HANDLER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "archive/archive.h"
#include "gateway/http.h"
#include "gateway/router.h"
#include "replica/store.h"

namespace pgxn::indexer {

struct SourceOptions {
  // The cache holds at most this many releases' indexes (their entries'
  // names, sizes, hashes and places in the zip; no contents), and at most
  // this many bytes of them. An index larger than `cache_bytes` is loaded
  // for each request and never cached.
  size_t cache_archives = 256;
  uint64_t cache_bytes = uint64_t{32} << 20;
  // Bounds on unpacking a stored zip that has no index; one beyond them is a
  // 500. The origin checked its own limits on upload; these guard this
  // node's memory.
  archive::ArchiveLimits limits;
  // A request is heavy when it unpacks a whole zip (one without an index:
  // even a small zip may inflate to `limits`), or when serving a file reads
  // at least `heavy_bytes` (its zip plus the entry inflated). At most
  // `max_heavy` heavy requests run at once; others are refused at once
  // (503, Retry-After: 1), never queued on an I/O thread. Keep `max_heavy`
  // below the HTTP server's threads (gateway/http_server.h, 4).
  uint64_t heavy_bytes = uint64_t{1} << 20;
  int max_heavy = 2;
};

struct SourceCacheStats {
  uint64_t hits = 0;      // requests answered from a cached index
  uint64_t misses = 0;    // requests that had to load or build the index
  uint64_t unpacked = 0;  // of the misses, those that unpacked the whole zip
  uint64_t refused = 0;   // heavy requests refused (503) at the limit
  size_t archives = 0;    // indexes cached now
  uint64_t bytes = 0;     // cached now
};

// A file of a release as its index describes it, without its bytes.
struct SourceFileInfo {
  uint64_t size = 0;
  std::string media_type;  // what Handle serves it as
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
  //  - A stored zip that cannot be read or is beyond `limits`, or an entry
  //    whose bytes do not match its index: 500 (gateway::ErrorResponse,
  //    naming the zip); a failing store: its status.
  //  - A heavy request (SourceOptions) beyond `max_heavy` at once: 503 with
  //    Retry-After: 1. An If-None-Match naming the file's ETag is answered
  //    (304) without reading the zip, so it is never heavy.
  gateway::Response Handle(const gateway::Request& request) const;

  // The file `path` (as in Handle) names, through links to files, without
  // reading its bytes; nullopt when it names no file (a directory, a
  // redirect, nothing) or the index cannot be had cheaply (a zip without an
  // index), which Handle then answers.
  std::optional<SourceFileInfo> FileInfo(absl::string_view path) const;

  SourceCacheStats cache_stats() const;

 private:
  class Impl;
  const std::unique_ptr<Impl> impl_;
};

// Registers GET (and so HEAD) of every path under /src/ with a SourceHandler
// over `store`, which must outlive `router`.
void AddSourceRoutes(gateway::Router* router, const replica::Store* store,
                     SourceOptions options = {});

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_SOURCE_HANDLER_H_
