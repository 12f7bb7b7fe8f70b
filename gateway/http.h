// Plain HTTP request and response values exchanged between the server
// (http_server.h) and the handlers of every role. No Beast types appear here, so
// handlers and their tests build without the Beast headers.
#ifndef PGXN_GATEWAY_HTTP_H_
#define PGXN_GATEWAY_HTTP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "base/scoped_fd.h"

namespace pgxn::gateway {

// The bytes of a request's body, wherever the server keeps them: in memory (a
// small body, or one a caller or test sets from a string), or, for a large
// one, in a read-only mapping of the unlinked temp file the server spooled it
// to (HttpServerOptions::spool_threshold), which is page cache the kernel can
// reclaim, not the process's heap. Handlers read it through view().
//
// Copies share the bytes (nothing is copied); they stay valid while any copy
// lives, and a spooled body's file keeps its disk space as long: a handler
// should not keep a copy past its return. Immutable, so safe to read from any
// thread.
class RequestBody {
 public:
  RequestBody() = default;
  // Implicit, so that `request.body = "payload"` reads as it says.
  RequestBody(std::string bytes);  // NOLINT(google-explicit-constructor)
  RequestBody(const char* bytes) : RequestBody(std::string(bytes)) {}  // NOLINT

  // `bytes`, kept alive by `owner` (a mapping that unmaps itself when the
  // last copy goes, say).
  static RequestBody Shared(absl::string_view bytes, std::shared_ptr<const void> owner);

  absl::string_view view() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

 private:
  std::shared_ptr<const void> owner_;
  absl::string_view bytes_;
};

struct Request {
  std::string method;  // upper case: GET, HEAD, POST, PUT, DELETE, ...
  std::string target;  // the raw request target, e.g. /tag/key%20value.json?x=1
  std::string path;    // target's path, percent-decoded once and checked (path.h)
  std::string query;   // target's raw query string after '?', not decoded
  // Header names in lower case, in arrival order; repeated headers stay repeated.
  std::vector<std::pair<std::string, std::string>> headers;
  RequestBody body;
  std::string remote_address;  // "ip:port" of the peer
  unsigned version = 11;       // HTTP/1.1: 11, HTTP/1.0: 10

  // The first header with this (case-insensitive) name, or "" if absent.
  absl::string_view Header(absl::string_view name) const;
  // The peer's IP address: remote_address without its port (and an IPv6
  // address without its brackets).
  absl::string_view RemoteIp() const;
};

// A response body of unknown length produced over time, for a stream of
// events that stays open (Server-Sent Events): the server sends it with
// chunked transfer coding (to an HTTP/1.0 client: plain, then closes), a
// piece whenever the stream has one, and costs no thread while it waits.
//
// The server calls Next on an I/O thread, one call at a time, once the
// response header is sent and again each time the previous piece has been
// written. Next answers at once, never blocking:
//   - a non-empty piece: sent next;
//   - an empty piece and done = false: nothing now; the stream calls the
//     waker given to SetWaker (from any thread, once or more) when it has
//     something, and the server calls Next again then (a waker call while a
//     piece is being written is harmless: Next follows the write anyway);
//   - done = true: the body ends after this piece (which may be empty).
// Close is called once, from any thread, when the response ends however it
// ends (done, the client gone, a write timed out, the server stopping or
// evicting the connection); after it, Next is not called again and the
// stream should let go of what it holds. A stream is used by one response.
class BodyStream {
 public:
  struct Piece {
    std::string bytes;
    bool done = false;
  };
  virtual ~BodyStream() = default;
  // Called once before the first Next. `wake` may be called from any thread
  // at any time, also after the response ended (it does nothing then).
  virtual void SetWaker(std::function<void()> wake) = 0;
  virtual Piece Next() = 0;
  virtual void Close() = 0;
};

struct Response {
  int status = 200;
  // Extra headers. The server adds Content-Length, Date, Server and
  // Connection itself (and ignores those names, and Transfer-Encoding, here);
  // a handler sets Content-Type, ETag, etc.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Optional, for large files: a body of `stream_size` bytes sent in pieces,
  // each read by calling `stream(offset, max_bytes)` on an I/O thread when the
  // client has taken the previous one, so memory per response stays bounded
  // whatever the file's size and the client's speed. It must return between 1
  // and max_bytes bytes at `offset`; an error, or the wrong length, ends the
  // connection (the status line is gone by then) and is logged. `body` must
  // be empty when `stream` is set. The function must be safe to call from any
  // thread and keep what it reads alive itself (it outlives the handler).
  std::function<absl::StatusOr<std::string>(uint64_t offset, size_t max_bytes)> stream;
  uint64_t stream_size = 0;

  // Optional, for a large file the node keeps on local disk: the body is
  // `stream_size` bytes of the open file `file` from `file_offset`. On plain
  // TCP they go with sendfile(2), from the page cache to the socket without
  // passing through this process (as nginx sends files); under TLS they are
  // read and written a piece at a time, like `stream`. A client that takes
  // nothing for the server's read timeout is dropped. The file must hold
  // those bytes unchanged while they are sent (`file` keeps it open); if it
  // ends early the connection is closed and the error logged. `body` must be
  // empty and `stream` unset.
  std::shared_ptr<const base::ScopedFd> file;
  uint64_t file_offset = 0;

  // Optional, for an open-ended body (BodyStream above): no Content-Length,
  // sent as the stream produces it; `body` must be empty and `stream` unset.
  // For HEAD, 204 and 304 the stream is closed unread. While it runs, the
  // socket's send buffer is kept small (64 KiB), so a client that stops
  // reading holds at most that much of the kernel's memory and the stream
  // notices soon (its pieces stop being taken).
  std::shared_ptr<BodyStream> push;

  void SetHeader(std::string name, std::string value);
  absl::string_view Header(absl::string_view name) const;
};

// Handlers are called on the server's I/O threads, concurrently; they must be
// thread-safe. For HEAD the server sends the headers (with the Content-Length of
// `body`) and no body, so a handler may answer HEAD exactly as GET.
using Handler = std::function<Response(const Request&)>;

// A plain-text response: `status` with `text` as a text/plain body.
Response TextResponse(int status, std::string text);

// A JSON response from an already serialised document.
Response JsonResponse(int status, std::string json);

// `time` as an IMF-fixdate, the form HTTP headers use (RFC 9110 §5.6.7):
// "Sun, 06 Nov 1994 08:49:37 GMT". Sub-second precision is dropped.
std::string FormatHttpDate(absl::Time time);

// Parses an HTTP-date in any of the three forms a recipient must accept:
// IMF-fixdate, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year
// below 70 is 20xx, otherwise 19xx) and asctime ("Sun Nov  6 08:49:37 1994").
// The day name is checked for spelling only, not against the date. Returns
// nullopt for anything else, including impossible dates such as 31 Feb.
absl::optional<absl::Time> ParseHttpDate(absl::string_view text);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_HTTP_H_
