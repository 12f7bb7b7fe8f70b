// The HTTP/1.1 server every node runs (docs/architecture.md §5): Boost.Beast/Asio behind a
// plain interface, so no Beast header leaks into the rest of the project. A few
// I/O threads serve every connection asynchronously (no thread per
// connection); each connection is handled on its own strand of one shared
// loop, or on one loop of its own thread (loop_per_thread), one request at a
// time, with keep-alive.
//
// For each request the server reads the header first, refuses what it will not
// take (oversize body 413, malformed request 400, bad path 400 -- including a
// path that is not UTF-8 --, a Transfer-Encoding other than chunked 501,
// unknown Expect 417, oversize header 431, a body budget exhausted 503) without
// calling the handler, answers "Expect: 100-continue", reads the body (into
// memory, or past spool_threshold into a temp file), then calls the Handler
// on an I/O thread and writes its Response (Server, Date, Content-Length and
// Connection added; no body for HEAD, 204 and 304). Every
// response also gets `X-Content-Type-Options: nosniff` and
// `Referrer-Policy: same-origin`, and an HTML one a strict
// Content-Security-Policy (no script), unless the handler set its own. A
// handler that throws or returns an unsendable Response gets a 500, logged
// to stderr; the server keeps serving. A streamed Response (http.h) is sent a
// piece at a time; each piece (64 KiB) must be taken within read_timeout, so
// a reader slower than about 2 KB/s is dropped.
//
// Thread-safety: Start, port and Stop may be called from any thread, but Stop
// (and the destructor) must not be called from inside a handler.
#ifndef PGXN_GATEWAY_HTTP_SERVER_H_
#define PGXN_GATEWAY_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "gateway/http.h"

namespace pgxn::gateway {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // a name or an address; "0.0.0.0" or "::" for all
  uint16_t port = 0;               // 0 picks an ephemeral port; see HttpServer::port()
  int threads = 4;                 // I/O threads, at least 1
  // How connections share the I/O threads. false: one queue that every
  // thread takes from, each connection on its own strand, so a handler that
  // blocks or computes long holds one thread and the others serve every other
  // connection. true: an event loop per thread, each connection on one loop
  // for its life, with no strand and no shared queue (about 10% less CPU per
  // small request, ops/bench/gateway), but a slow handler delays every
  // connection of its loop: only for nodes whose handlers never block.
  bool loop_per_thread = false;
  uint64_t max_body_bytes = uint64_t{64} << 20;
  // A new connection must send its first byte within this time, the whole
  // request header must follow within it, and every read of the body and every
  // write of the response must make progress within it.
  absl::Duration read_timeout = absl::Seconds(30);
  // How long a keep-alive connection may wait for its next request.
  absl::Duration idle_timeout = absl::Seconds(60);
  // How long Stop lets requests in flight finish before it cuts them off.
  absl::Duration stop_grace = absl::Seconds(5);
  // Optional. Called on an I/O thread once a request's header is read, before
  // any of its body, with a Request whose body is empty: a Response returned
  // here is sent instead of reading the body and calling the handler (and the
  // connection then closes). Lets a role refuse early and cheaply, e.g. 401
  // for an upload without credentials or 413 for a large body on a route that
  // takes small ones. Must be thread-safe.
  std::function<absl::optional<Response>(const Request& head)> screen;
  // Optional. Called after `screen` with the same header-only Request: the
  // largest body this request may have, chunked or not (never more than
  // max_body_bytes). Lets a role keep forms small while uploads may be large.
  // A body over it gets 413 and the connection closes. Must be thread-safe.
  std::function<uint64_t(const Request& head)> body_limit;
  // A body of more than spool_threshold bytes (a chunked one once it passes
  // it; one whose Content-Length is over it from its first byte) is written,
  // as it arrives, to an unlinked temp file in spool_dir (empty: $TMPDIR, or
  // /tmp) instead of memory, and reaches the handler as a read-only mapping
  // of that file (RequestBody, http.h): a client trickling a large upload
  // costs the server a file, not heap. The file is gone when the request
  // ends, however it ends (an error, a timeout, a disconnect, Stop). Start
  // fails with InvalidArgument when spool_dir cannot take such a file.
  uint64_t spool_threshold = uint64_t{1} << 20;
  std::string spool_dir;
  // Request bodies are held until the handler returns, in memory up to
  // spool_threshold each and in spool files beyond; these bound each kind
  // across all connections. A body is charged what has arrived of it, as it
  // arrives (one moving to its file gives its memory back); one that would
  // pass a budget gets 503 with Retry-After, the rest unread, and the
  // connection closes.
  uint64_t max_body_memory = uint64_t{256} << 20;
  uint64_t max_body_disk = uint64_t{4} << 30;

  // Connections. At max_connections, a new connection evicts the one that
  // has been idle longest (waiting for its first or next request, or closing);
  // if none is idle it takes one of `reserved_connections` further slots,
  // which answer only `reserved_paths` (so status and metrics stay reachable
  // under a flood; other paths get 503) and close after one response; beyond
  // those it is answered 503 and closed at once. One client address holds at
  // most max_connections_per_address: past that its own idlest connection is
  // evicted, or the new one refused the same way. Every file descriptor
  // counts against the process's limit: see base/fd_limit.h for the budget.
  size_t max_connections = 4096;
  size_t max_connections_per_address = 512;
  size_t reserved_connections = 8;
  std::vector<std::string> reserved_paths = {"/_status", "/metrics"};

  // TLS: PEM files of the certificate chain and its private key. When set,
  // the listener speaks HTTPS only (TLS 1.2 or later); both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  // Resolves options.host, binds and listens, then serves with `handler` on
  // options.threads threads until Stop. Errors: InvalidArgument for bad
  // options or an unresolvable host, Unavailable when the address is in use or
  // cannot be bound, PermissionDenied for a privileged port.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           Handler handler);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // calls Stop

  // The port listened on (the ephemeral one when options.port was 0).
  uint16_t port() const;

  // Reads the TLS files again (after a certificate's renewal): connections
  // accepted from now on use them, open ones keep theirs. On an error (the
  // message names the file) the old certificate stays in use. OK and nothing
  // done for a plain listener.
  absl::Status ReloadTls();

  // Connections open now, and request-body bytes charged against
  // max_body_memory and against max_body_disk now (for /metrics and tests).
  size_t open_connections() const;
  uint64_t body_bytes_in_flight() const;
  uint64_t body_bytes_spooled() const;
  // Connections waiting for a request now: those a newcomer at the cap may
  // evict, longest idle first (for tests, which need to know the order).
  size_t idle_connections() const;

  // Stops accepting, closes idle keep-alive connections at once, lets requests
  // in flight finish for up to options.stop_grace, then closes everything and
  // joins the I/O threads (waiting for handlers still running, which it cannot
  // interrupt). Idempotent; concurrent calls wait for the first.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_HTTP_SERVER_H_
