// Serves the files of a node's published tree (dist JSON, META.json, zips, …)
// over HTTP with the caching and partial-content rules clients rely on: ETag,
// Last-Modified, If-None-Match, If-Modified-Since, Range and If-Range
// (RFC 9110). The tree itself lives behind TreeReader, so the gateway never
// touches RocksDB, Postgres or the local filesystem (docs/architecture.md §5, §7).
//
// Called by every role's router for GET/HEAD of tree paths. ServeTreeFile is
// thread-safe as long as the TreeReader is.
#ifndef PGXN_GATEWAY_TREE_HANDLER_H_
#define PGXN_GATEWAY_TREE_HANDLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/concurrency_limit.h"
#include "gateway/http.h"
#include "gateway/router.h"

namespace pgxn::gateway {

struct TreeFile {
  // The bytes; empty when `read` is set (below).
  std::string content;
  std::string sha256_hex;  // sent as the strong ETag; no ETag when empty
  std::string media_type;  // sent as Content-Type
  // Sent as Last-Modified; 0 means unknown, and then no Last-Modified is sent
  // and If-Modified-Since is ignored.
  int64_t modified_unix_seconds = 0;
  // For a large file opened by OpenFile: `size` bytes read a piece at a time
  // with `read(offset, length)`, which must stay usable after OpenFile
  // returns. Unset: the file is `content`.
  std::function<absl::StatusOr<std::string>(uint64_t offset, size_t length)> read;
  uint64_t size = 0;
  // Or, for a large file the node keeps on local disk: `size` bytes of this
  // open file from its start, sent with sendfile (http.h, Response::file).
  std::shared_ptr<const base::ScopedFd> file;

  // Whether the bytes are elsewhere than `content` (`read` or `file`).
  bool large() const { return read || file != nullptr; }
};

// Read access to a node's tree, implemented by each store (replica/, origin/publishing/) and
// by fakes in tests.
class TreeReader {
 public:
  virtual ~TreeReader() = default;

  // The file at `path`, given without the leading slash ("dist/pair.json").
  // NotFound when no such file exists; any other error is a failure of the
  // store. Called from many threads at once.
  virtual absl::StatusOr<TreeFile> ReadFile(absl::string_view path) const = 0;

  // As ReadFile, but a large file may come back with `read` or `file`
  // instead of its content, for serving it a piece at a time or with
  // sendfile. By default ReadFile.
  virtual absl::StatusOr<TreeFile> OpenFile(absl::string_view path) const { return ReadFile(path); }

  // Calls visit(path, sha256 hex) for every file, in byte order of the
  // paths, until visit returns false.
  virtual absl::Status ForEachFile(
      const std::function<bool(absl::string_view path, absl::string_view sha256_hex)>& visit)
      const = 0;
};

// Answers GET or HEAD of request.path from `reader`:
// - 405 (Allow: GET, HEAD) for other methods;
// - 404 with the plain-text body "Not found: <path>\n" for "/" or a path the
//   reader reports as NotFound; ErrorResponse (status_http.h) for its other
//   errors;
// - 304 with the ETag and Last-Modified and no body when If-None-Match matches
//   (a list of tags or "*", weak comparison) or, without If-None-Match, when the
//   file is not newer than If-Modified-Since;
// - for GET with a single satisfiable byte range (bytes=a-b, a- or -n) whose
//   If-Range, if any, matches the strong ETag or equals Last-Modified: 206 with
//   Content-Range; an unsatisfiable one: 416 with "Content-Range: bytes */LEN";
//   several ranges or a malformed Range header are ignored;
// - otherwise 200 with the whole file.
// Every answer about an existing file carries Accept-Ranges: bytes. Files are
// read with OpenFile; a large one is streamed (http.h), so memory per
// response stays bounded whatever the file's size.
Response ServeTreeFile(const Request& request, const TreeReader& reader);

// Answers as ServeTreeFile would from a tree holding one file, made by
// calling `make` (once, on the calling thread): for what a node renders on
// request (a feed, a listing), so it gets the tree's validators, 304s and
// ranges. An error from `make` is answered as a reader's error.
Response ServeGeneratedFile(const Request& request,
                            const std::function<absl::StatusOr<TreeFile>()>& make);

// AddTreeRoutes' bound on /_tree listings in flight (being built or sent) per
// node. A listing is the whole tree's list in memory (32 MB at 100,000
// releases) until the client has read it, so without a bound a few slow
// readers of it would hold gigabytes.
inline constexpr int kMaxTreeListingsInFlight = 2;

// GET /_tree: one line per file, "<sha256 hex>  <path>\n" (sha256sum's
// format), so two nodes hold the same tree exactly when their listings match
// and the SHA-256 of the listing itself is a digest of the whole tree. A
// listing over 64 KiB is sent as a stream (http.h) of pieces of the one
// built copy. With a `limit`, a request while its maximum of listings is in
// flight (being built or sent) gets 503 with Retry-After and costs nothing;
// a listing holds its permit until its response ends, however it ends.
Response ServeTreeListing(const Request& request, const TreeReader& reader,
                          std::shared_ptr<ConcurrencyLimit> limit = nullptr);

// Registers GET /_tree (limited to kMaxTreeListingsInFlight), GET
// /feeds/recent.atom (recent_feed.h) and, as the fallback for every other GET
// path, the tree's files. Other routes registered on the router take
// precedence.
void AddTreeRoutes(Router* router, std::shared_ptr<const TreeReader> reader);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_TREE_HANDLER_H_
