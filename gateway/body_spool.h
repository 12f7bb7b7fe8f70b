// A request body as it arrives: kept in memory up to a threshold, and past
// it in an unlinked temp file in a spool directory, so that a large or slow
// upload costs the server disk (page cache the kernel may write out and
// reclaim), not heap. The HTTP server (http_server.cc) appends to one per
// request as the bytes are parsed and gives the handler the result as a
// RequestBody (http.h): a string for a small body, a read-only mapping of the
// file for a spooled one.
//
// The file is created unlinked (O_TMPFILE, or a fresh name removed at once
// where the file system lacks it), so it has no name anyone can open and its
// space goes back when the last of the spool, its descriptor and the mapping
// goes, whatever ends the request (an error, a disconnect, Stop) or if the
// process dies.
//
// Not thread-safe: one per request, used by one thread at a time (the
// connection's strand); the RequestBody it finishes with may be read anywhere.
#ifndef PGXN_GATEWAY_BODY_SPOOL_H_
#define PGXN_GATEWAY_BODY_SPOOL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/http.h"

namespace pgxn::gateway {

struct BodySpoolOptions {
  // A body of more bytes than this goes to a file; one of this many or fewer
  // stays in memory.
  uint64_t threshold = uint64_t{1} << 20;
  // Where the files go; empty: $TMPDIR, or /tmp. Should be on a disk (not a
  // tmpfs, whose pages are memory) with room for the disk budget.
  std::string dir;
};

class BodySpool {
 public:
  BodySpool() = default;  // threshold 1 MiB, the system's temp dir
  explicit BodySpool(BodySpoolOptions options) : options_(std::move(options)) {}
  BodySpool(BodySpool&& other) noexcept;
  BodySpool& operator=(BodySpool&& other) noexcept;
  BodySpool(const BodySpool&) = delete;
  BodySpool& operator=(const BodySpool&) = delete;
  ~BodySpool();  // closes the file, if any: its space is freed

  // The body will have `length` bytes (its Content-Length): over the
  // threshold, it goes to a file from its first byte rather than after
  // threshold bytes in memory.
  void Expect(uint64_t length) { expected_ = length; }

  // Adds the next bytes of the body. Once the body passes the threshold (or
  // was announced past it), what was in memory moves to a new temp file and
  // every later byte is written there. Unavailable naming the directory and
  // the system's reason when the file cannot be created or written (no
  // space, no such directory); the spool then holds nothing, and every later
  // Append and Finish return that error.
  absl::Status Append(absl::string_view bytes);

  // Bytes held in memory, and bytes written to the file (one is always 0).
  uint64_t memory_bytes() const { return memory_.size(); }
  uint64_t spooled_bytes() const { return spooled_; }
  bool spooled() const { return fd_ >= 0; }

  // The whole body, for the handler: the memory's bytes, or a read-only
  // mapping of the file (the descriptor is closed; the mapping keeps the
  // file until the last copy of the RequestBody goes). Leaves the spool
  // empty. Unavailable when the file cannot be mapped, or after a failed
  // Append.
  absl::StatusOr<RequestBody> Finish();

 private:
  absl::Status StartFile();
  absl::Status WriteToFile(absl::string_view bytes);
  void CloseFile();

  BodySpoolOptions options_;
  uint64_t expected_ = 0;
  std::string memory_;
  int fd_ = -1;
  uint64_t spooled_ = 0;
  absl::Status failed_;  // the first error: the body is incomplete
};

// Creates an unlinked temp file in `dir` (empty: $TMPDIR or /tmp), open
// for reading and writing, mode 0600; the caller owns the descriptor.
// Unavailable naming the directory and the reason on failure.
absl::StatusOr<int> OpenUnlinkedTempFile(const std::string& dir);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_BODY_SPOOL_H_
