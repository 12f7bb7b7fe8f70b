// Everything Beast/Asio-specific, including their error codes, stays in this
// file: no other library source of the project includes those headers.
#include "gateway/http_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <list>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "base/address.h"
#include "base/log.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "gateway/body_spool.h"
#include "gateway/path.h"
#include "openssl/ssl.h"

namespace pgxn::gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr size_t kHeaderLimit = 32 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
// Headers a handler might set but the server owns.
constexpr absl::string_view kServerHeaders[] = {"content-length", "transfer-encoding", "connection",
                                                "date", "server"};
// Beast stores a field value's length in 16 bits; real headers are far shorter.
constexpr size_t kMaxResponseHeaderValue = 16 * 1024;
// After refusing a request whose body was not read, keep reading (and
// dropping) what the client still sends for a moment, so that closing the
// socket with unread data does not reset the connection before the client
// has read the refusal.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 4 << 20;
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
// A streamed response is read and written this much at a time: the memory a
// slow reader can hold, and the progress it must make per read_timeout.
constexpr size_t kStreamChunk = 64 * 1024;
// A file body goes to the socket with sendfile(2) until the socket's buffer
// is full, but at most this much per turn of the I/O loop, so that one fast
// client cannot keep its thread from the others.
constexpr uint64_t kSendfileTurn = 4 << 20;
// The send buffer of a connection carrying a push stream (BodyStream): what
// the kernel holds for a client that stops reading, instead of the megabytes
// autotuning would grow it to.
constexpr int kPushSendBuffer = 64 * 1024;
// How long a connection in a reserved slot keeps it against newer ones.
constexpr absl::Duration kReservedGrace = absl::Seconds(1);
// Beyond the header, what the read buffer may hold: a chunk's size line, its
// extensions and the trailers are read into it, and Beast bounds none of
// them (the body itself moves to the request as it is parsed).
constexpr size_t kReadBufferLimit = kHeaderLimit + 64 * 1024;
// What a refusal for want of room asks the client to wait, in seconds.
constexpr char kRetryAfter[] = "5";
// For HTML a handler sent without a policy of its own: nothing runs, nothing
// is fetched from elsewhere, the page cannot be framed.
constexpr char kDefaultHtmlPolicy[] =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

std::string SvToString(beast::string_view sv) { return std::string(sv.data(), sv.size()); }

// The Date header of a response sent now: formatted once a second per I/O
// thread rather than per response (it was 2% of a small file's cost).
const std::string& DateNow() {
  thread_local int64_t formatted_second = -1;
  thread_local std::string formatted;
  const absl::Time now = absl::Now();
  const int64_t second = absl::ToUnixSeconds(now);
  if (second != formatted_second) {
    formatted = FormatHttpDate(now);
    formatted_second = second;
  }
  return formatted;
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const std::string address = endpoint.address().to_string();
  return endpoint.address().is_v6() ? absl::StrCat("[", address, "]:", endpoint.port())
                                    : absl::StrCat(address, ":", endpoint.port());
}

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

// Why a handler's response cannot go on the wire, or "" if it can.
std::string InvalidResponseReason(const Response& response) {
  if (response.status < 200 || response.status > 599) {
    return absl::StrCat("status ", response.status, " is not a final status code (200-599)");
  }
  if (response.stream && !response.body.empty()) {
    return "it has both a body and a stream";
  }
  if (response.push && (response.stream || !response.body.empty())) {
    return "it has a push stream and also a body or a stream";
  }
  if (response.file != nullptr &&
      (response.stream || response.push || !response.body.empty() || !response.file->valid())) {
    return "it has a file and also a body or a stream, or the file is not open";
  }
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return absl::StrCat("header name \"", absl::CEscape(name), "\" is not a token");
    }
    if (value.size() > kMaxResponseHeaderValue ||
        value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
      return absl::StrCat("header ", name, " has a value with CR, LF or NUL, or over ",
                          kMaxResponseHeaderValue, " bytes");
    }
  }
  return "";
}

bool IsServerHeader(absl::string_view name) {
  for (absl::string_view server_header : kServerHeaders) {
    if (absl::EqualsIgnoreCase(name, server_header)) return true;
  }
  return false;
}

// A syntax error in what the client sent (as opposed to the connection
// closing or timing out).
bool IsParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Splits a request target into its raw path and query. The absolute form
// ("http://host/path?q") that proxies send is reduced to the origin form.
void SplitTarget(absl::string_view target, absl::string_view& raw_path, absl::string_view& query,
                 std::string& storage) {
  for (absl::string_view scheme : {"http://", "https://"}) {
    if (absl::StartsWithIgnoreCase(target, scheme)) {
      const absl::string_view rest = target.substr(scheme.size());
      const size_t start = rest.find_first_of("/?");
      storage = start == absl::string_view::npos ? "/"
                : rest[start] == '?'             ? absl::StrCat("/", rest.substr(start))
                                                 : std::string(rest.substr(start));
      target = storage;
      break;
    }
  }
  const size_t question = target.find('?');
  raw_path = target.substr(0, question);
  query = question == absl::string_view::npos ? absl::string_view() : target.substr(question + 1);
}

// A connection's byte stream, plain TCP or TLS over it, behind the one
// interface Beast's HTTP algorithms and Asio's writes need, so that Session is
// written once for both. Only callbacks are passed to it (no other completion
// tokens), so every async operation returns void.
class AnyStream {
 public:
  using executor_type = beast::tcp_stream::executor_type;

  // TLS when `tls` is set; the context is shared, and kept alive by this.
  AnyStream(tcp::socket socket, std::shared_ptr<net::ssl::context> tls) : tls_context_(tls) {
    if (tls) {
      tls_.emplace(std::move(socket), *tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  executor_type get_executor() { return lowest().get_executor(); }
  bool is_tls() const { return tls_.has_value(); }
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  beast::ssl_stream<beast::tcp_stream>& tls() { return *tls_; }

  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

 private:
  std::shared_ptr<net::ssl::context> tls_context_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::optional<beast::tcp_stream> plain_;
};

// Loads a certificate chain and its private key (PEM files) into a new
// server context: TLS 1.2 and later only.
absl::StatusOr<std::shared_ptr<net::ssl::context>> LoadTls(const std::string& cert_file,
                                                            const std::string& key_file) {
  auto context = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  beast::error_code ec;
  context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                           net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                           net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use,
                       ec);
  if (!ec) context->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cannot load the TLS certificate chain ", cert_file, ": ", ec.message()));
  }
  context->use_private_key_file(key_file, net::ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cannot load the TLS private key ", key_file, ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("The TLS private key ", key_file,
                                                   " does not match the certificate ", cert_file));
  }
  return context;
}

// Beast's Body over BodySpool: the parser hands it the body as it decodes
// it, chunked or not, and it keeps a small body in memory and writes a large
// one to a temp file. `error` says why the spool refused bytes (the parser
// then stops with an I/O error).
struct SpoolBody {
  struct value_type {
    BodySpool spool;
    absl::Status error;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<uint64_t>& length, beast::error_code& ec) {
      if (length) body_.spool.Expect(*length);
      ec = {};
    }

    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      size_t taken = 0;
      for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers);
           ++it) {
        const net::const_buffer buffer = *it;
        absl::Status appended = body_.spool.Append(
            absl::string_view(static_cast<const char*>(buffer.data()), buffer.size()));
        if (!appended.ok()) {
          body_.error = std::move(appended);
          ec = beast::errc::make_error_code(beast::errc::io_error);
          return taken;
        }
        taken += buffer.size();
      }
      ec = {};
      return taken;
    }

    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// Charges `bytes` against `held`, a budget of `limit` shared by every
// connection; false if they do not fit.
bool Reserve(std::atomic<uint64_t>& held, uint64_t limit, uint64_t bytes) {
  uint64_t now = held.load();
  do {
    if (bytes > limit || now > limit - bytes) return false;
  } while (!held.compare_exchange_weak(now, now + bytes));
  return true;
}

class Session;

// How a new connection is let in (ServerState::Register).
enum class Admission { kNormal, kReserved, kRefused, kStopping };

// What ServerState keeps of each registered session, under its mutex.
struct SessionEntry {
  std::weak_ptr<Session> session;
  std::string address;  // the peer's address without its port
  bool idle = false;    // in `idle`, at `idle_position`
  std::list<Session*>::iterator idle_position;
  bool evicted = false;  // asked to close; no longer counted
  bool reserved = false;  // in a reserved slot, at `reserved_position`
  std::list<Session*>::iterator reserved_position;
  absl::Time admitted;  // when it was let in
};

// What the listener, the sessions and Stop share. Sessions hold it by
// shared_ptr, so it outlives the HttpServer if a session is destroyed last.
struct ServerState {
  ServerState(HttpServerOptions options_in, Handler handler_in)
      : options(std::move(options_in)), handler(std::move(handler_in)) {}

  // Decides whether `session` (from `address`) is let in, and registers it
  // unless refused or stopping. Room is made by evicting an idle session
  // (closed once idle) or, for a reserved slot, the oldest reserved one
  // (closed at once: a status request takes milliseconds, so a slot held
  // longer is an attacker's); *evict and *hard say which, for the caller to
  // close outside the lock.
  Admission Register(const std::shared_ptr<Session>& session, const std::string& address,
                     std::shared_ptr<Session>* evict, bool* hard) ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    if (stopping.load()) return Admission::kStopping;
    *hard = false;
    Admission admission = Admission::kNormal;
    const auto known = per_address.find(address);
    if (known != per_address.end() && known->second >= options.max_connections_per_address) {
      *evict = EvictIdlest(&address);
      if (*evict == nullptr) admission = Admission::kRefused;
    } else if (counted >= options.max_connections) {
      *evict = EvictIdlest(nullptr);
      if (*evict == nullptr) {
        if (options.reserved_connections == 0) {
          admission = Admission::kRefused;
        } else {
          admission = Admission::kReserved;
          if (reserved.size() >= options.reserved_connections) {
            *evict = EvictOldestReserved();
            *hard = true;
            if (*evict == nullptr) admission = Admission::kRefused;
          }
        }
      }
    }
    if (admission == Admission::kRefused) return admission;
    ++per_address[address];
    SessionEntry& entry = sessions[session.get()];
    entry.session = session;
    entry.address = address;
    entry.admitted = absl::Now();
    if (admission == Admission::kReserved) {
      entry.reserved = true;
      entry.reserved_position = reserved.insert(reserved.end(), session.get());
    } else {
      ++counted;
    }
    return admission;
  }

  void Deregister(Session* session) ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    auto it = sessions.find(session);
    if (it == sessions.end()) return;
    SessionEntry& entry = it->second;
    if (entry.idle) idle.erase(entry.idle_position);
    if (!entry.evicted) Uncount(entry);
    sessions.erase(it);
  }

  // A session waits for a request (or is closing): it may be evicted.
  void MarkIdle(Session* session, bool now_idle) ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    auto it = sessions.find(session);
    // A reserved session is never on the idle list: evicting it would not
    // free a counted slot (EvictOldestReserved takes care of those).
    if (it == sessions.end() || it->second.evicted || it->second.reserved ||
        it->second.idle == now_idle) {
      return;
    }
    SessionEntry& entry = it->second;
    entry.idle = now_idle;
    if (now_idle) {
      entry.idle_position = idle.insert(idle.end(), session);
    } else {
      idle.erase(entry.idle_position);
    }
  }

  // Request-body bytes in memory (max_body_memory) and in spool files
  // (max_body_disk): Reserve* are false when `bytes` more do not fit.
  bool ReserveMemory(uint64_t bytes) { return Reserve(body_bytes, options.max_body_memory, bytes); }
  void ReleaseMemory(uint64_t bytes) { body_bytes.fetch_sub(bytes); }
  bool ReserveDisk(uint64_t bytes) { return Reserve(spooled_bytes, options.max_body_disk, bytes); }
  void ReleaseDisk(uint64_t bytes) { spooled_bytes.fetch_sub(bytes); }

  // The TLS context new connections use (null: plain HTTP).
  std::shared_ptr<net::ssl::context> CurrentTls() ABSL_LOCKS_EXCLUDED(tls_mu) {
    absl::MutexLock lock(&tls_mu);
    return tls;
  }
  void SetTls(std::shared_ptr<net::ssl::context> context) ABSL_LOCKS_EXCLUDED(tls_mu) {
    absl::MutexLock lock(&tls_mu);
    tls = std::move(context);
  }

  size_t OpenConnections() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    return sessions.size();
  }
  size_t IdleConnections() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    return idle.size();
  }

  const HttpServerOptions options;
  const Handler handler;
  // Written under `mu` so that Register and Stop agree on who saw it first;
  // read without it by sessions, which only need to notice it eventually.
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> body_bytes{0};
  std::atomic<uint64_t> spooled_bytes{0};
  absl::Mutex mu;
  absl::flat_hash_map<Session*, SessionEntry> sessions ABSL_GUARDED_BY(mu);
  // Idle sessions, longest idle first.
  std::list<Session*> idle ABSL_GUARDED_BY(mu);
  // Sessions in reserved slots, oldest first (not evicted).
  std::list<Session*> reserved ABSL_GUARDED_BY(mu);
  // Sessions counted against max_connections: registered, not evicted, not
  // in a reserved slot.
  size_t counted ABSL_GUARDED_BY(mu) = 0;
  absl::flat_hash_map<std::string, size_t> per_address ABSL_GUARDED_BY(mu);
  absl::Mutex tls_mu;
  std::shared_ptr<net::ssl::context> tls ABSL_GUARDED_BY(tls_mu);

 private:
  // The idle session to close for room (from `address` only, if given), taken
  // off the counts at once so that a burst of connections does not pick it
  // twice; nullptr if there is none.
  std::shared_ptr<Session> EvictIdlest(const std::string* address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (auto it = idle.begin(); it != idle.end(); ++it) {
      SessionEntry& entry = sessions.at(*it);
      if (address != nullptr && entry.address != *address) continue;
      std::shared_ptr<Session> victim = entry.session.lock();
      if (victim == nullptr) continue;
      idle.erase(it);
      entry.idle = false;
      entry.evicted = true;
      Uncount(entry);
      return victim;
    }
    return nullptr;
  }

  // The oldest session in a reserved slot, if it has had kReservedGrace to
  // make its request (a status request takes milliseconds; a slot held
  // longer is an attacker's), taken off the counts; nullptr if none.
  std::shared_ptr<Session> EvictOldestReserved() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    const absl::Time now = absl::Now();
    while (!reserved.empty()) {
      SessionEntry& entry = sessions.at(reserved.front());
      if (now - entry.admitted < kReservedGrace) return nullptr;
      if (entry.idle) {
        idle.erase(entry.idle_position);
        entry.idle = false;
      }
      entry.evicted = true;
      Uncount(entry);
      if (std::shared_ptr<Session> victim = entry.session.lock()) return victim;
    }
    return nullptr;
  }

  // Takes `entry` off the counts (and the reserved list).
  void Uncount(SessionEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (entry.reserved) {
      reserved.erase(entry.reserved_position);
      entry.reserved = false;
    } else {
      --counted;
    }
    auto count = per_address.find(entry.address);
    if (count != per_address.end() && --count->second == 0) per_address.erase(count);
  }
};

// One connection. Every member function runs on the connection's strand
// (the executor of stream_), so none needs a lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ServerState> state)
      : stream_(std::move(socket), state->CurrentTls()), state_(std::move(state)) {
    beast::error_code ec;
    const tcp::endpoint peer = stream_.lowest().socket().remote_endpoint(ec);
    remote_ = ec ? "unknown" : FormatEndpoint(peer);
    address_ = ec ? "unknown" : base::ClientKey(peer.address().to_string());
    stream_.lowest().socket().set_option(tcp::no_delay(true), ec);
  }

  ~Session() {
    if (push_ != nullptr) push_->Close();
    ReleaseBody();
    state_->Deregister(this);
  }

  const std::string& address() const { return address_; }

  // `reserved`: admitted beyond max_connections, for reserved_paths only.
  void Start(bool reserved) {
    reserved_ = reserved;
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Handshake, shared_from_this()));
  }

  // For a connection that is not let in: a 503 without reading anything, then
  // close.
  void TurnAway() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->stream_.is_tls()) {  // no handshake yet: nothing to say it in
        self->Close();
        return;
      }
      self->no_linger_ = true;
      self->Send(BusyResponse("Too many connections"), false, /*keep_alive=*/false, 11);
    });
  }

  // Called by Stop once every I/O thread has been joined (nothing else
  // touches the session then): closes a push stream and drops the hold a
  // waiting one keeps on the session.
  void AbandonPush() {
    if (push_ != nullptr) std::exchange(push_, nullptr)->Close();
    push_waiting_ = false;
    push_hold_.reset();
  }

  // Called by Stop from any thread.
  void RequestStop() {
    net::post(stream_.get_executor(),
              beast::bind_front_handler(&Session::OnStop, shared_from_this()));
  }

  // Called from any thread to make room for another connection: closes this
  // one if it is idle (or `hard`: whatever it is doing), else after its
  // current response.
  void RequestEvict(bool hard) {
    net::post(stream_.get_executor(), [self = shared_from_this(), hard] {
      self->evicted_ = true;
      if (hard || self->phase_ == Phase::kWaiting || self->phase_ == Phase::kLingering) {
        self->Close();
      }
    });
  }

 private:
  enum class Phase { kWaiting, kBusy, kLingering, kClosed };

  static Response BusyResponse(absl::string_view what) {
    Response response = TextResponse(503, absl::StrCat("Server busy: ", what, "; try again\n"));
    response.SetHeader("Retry-After", kRetryAfter);
    return response;
  }

  void OnStop() {
    // A request in progress finishes (Stop bounds how long); a connection
    // with nothing in progress goes now, and so does a push stream, which
    // would never finish (one writing ends after its write).
    if (phase_ == Phase::kWaiting || phase_ == Phase::kLingering) Close();
    if (push_ != nullptr && push_waiting_) EndPush();
  }


  // TLS first, when the listener speaks it; a failed handshake (a plain
  // HTTP client, an old protocol, a timeout) just closes the connection.
  void Handshake() {
    if (!stream_.is_tls()) {
      WaitForRequest();
      return;
    }
    phase_ = Phase::kWaiting;
    state_->MarkIdle(this, true);
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    stream_.tls().async_handshake(
        net::ssl::stream_base::server,
        beast::bind_front_handler(&Session::OnHandshake, shared_from_this()));
  }

  void OnHandshake(beast::error_code ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      Close();
      return;
    }
    WaitForRequest();
  }

  void WaitForRequest() {
    if (state_->stopping.load()) {
      Close();
      return;
    }
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // Lifted until the header is in: Beast would otherwise reject an
    // oversize Content-Length itself, without the numbers our 413 reports.
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    if (buffer_.size() > 0) {  // a pipelined request is already here
      ReadHeader();
      return;
    }
    phase_ = Phase::kWaiting;
    state_->MarkIdle(this, true);
    stream_.lowest().expires_after(
        ToChrono(first_request_ ? state_->options.read_timeout : state_->options.idle_timeout));
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this()));
  }

  void OnFirstBytes(beast::error_code ec, size_t bytes) {
    if (phase_ == Phase::kClosed) return;
    state_->MarkIdle(this, false);
    buffer_.commit(bytes);
    if (ec) {
      Close();
      return;
    }
    ReadHeader();
  }

  void ReadHeader() {
    phase_ = Phase::kBusy;
    // A request usually arrives whole in one read: parse what is here now,
    // as async_read_header would, without the trip through the loop's queue
    // its completion takes (a few % of a small request's CPU). Only a header
    // still incomplete waits for more.
    beast::error_code ec;
    buffer_.consume(parser_->put(buffer_.data(), ec));
    if (ec != http::error::need_more) {
      OnHeader(ec, 0);
      return;
    }
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed) return;
    if (ec == http::error::header_limit) {
      Refuse(431, absl::StrCat("Request header too large: over ", kHeaderLimit, " bytes"), false);
      return;
    }
    if (IsParseError(ec)) {
      Refuse(400, absl::StrCat("Bad request: ", ec.message()), false);
      return;
    }
    if (ec) {
      Close();
      return;
    }
    const auto& request = parser_->get();
    const bool head = request.method() == http::verb::head;

    std::string storage;
    absl::string_view raw_path;
    absl::string_view query;
    SplitTarget(absl::string_view(request.target().data(), request.target().size()), raw_path,
                query, storage);
    absl::StatusOr<std::string> path = DecodeRequestPath(raw_path);
    if (!path.ok()) {
      Refuse(400, absl::StrCat("Bad request: ", path.status().message()), head);
      return;
    }
    path_ = *std::move(path);
    query_ = std::string(query);

    if (reserved_ && std::find(state_->options.reserved_paths.begin(),
                               state_->options.reserved_paths.end(),
                               path_) == state_->options.reserved_paths.end()) {
      parser_.reset();
      Send(BusyResponse("too many connections"), head, /*keep_alive=*/false, 11);
      return;
    }

    // Beast decodes a final "chunked" and takes any other coding as the end
    // of the message, which would read the body as the next request; a proxy
    // in front may see it otherwise (request smuggling).
    if (const auto coding = request.find(http::field::transfer_encoding);
        coding != request.end()) {
      const absl::string_view value = absl::StripAsciiWhitespace(
          absl::string_view(coding->value().data(), coding->value().size()));
      if (!absl::EqualsIgnoreCase(value, "chunked")) {
        Refuse(501, absl::StrCat("Transfer-Encoding \"", absl::CEscape(value),
                                 "\" is not supported; send the body plain or chunked"),
               head);
        return;
      }
    }

    std::optional<Request> head_only;
    if (state_->options.screen || state_->options.body_limit) {
      head_only = RequestFromHeader(request);
    }
    if (state_->options.screen) {
      absl::optional<Response> refusal;
      try {
        refusal = state_->options.screen(*head_only);
      } catch (const std::exception& e) {
        refusal = InternalError(*head_only, absl::StrCat("screen threw: ", e.what()));
      }
      if (refusal.has_value()) {
        parser_.reset();
        Send(*std::move(refusal), head, /*keep_alive=*/false, 11);
        return;
      }
    }

    uint64_t limit = state_->options.max_body_bytes;
    if (state_->options.body_limit) limit = std::min(limit, state_->options.body_limit(*head_only));
    const auto length = parser_->content_length();
    if (length && *length > limit) {
      Refuse(413,
             absl::StrCat("Request body too large: ", *length, " bytes exceeds the limit of ",
                          limit, " bytes for ", path_),
             head);
      return;
    }
    parser_->body_limit(limit);
    body_limit_ = limit;
    parser_->get().body().spool =
        BodySpool(BodySpoolOptions{state_->options.spool_threshold, state_->options.spool_dir});

    bool send_continue = false;
    const auto expect = request.find(http::field::expect);
    if (expect != request.end() && request.version() >= 11) {
      const absl::string_view value = absl::StripAsciiWhitespace(
          absl::string_view(expect->value().data(), expect->value().size()));
      if (!absl::EqualsIgnoreCase(value, "100-continue")) {
        Refuse(417, absl::StrCat("Unsupported expectation: ", value), head);
        return;
      }
      send_continue = !parser_->is_done();
    }
    if (!send_continue) {
      ReadBody();
      return;
    }
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                     beast::bind_front_handler(&Session::OnContinueSent, shared_from_this()));
  }

  void OnContinueSent(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      Close();
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) {
      CallHandler();
      return;
    }
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    http::async_read_some(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed) return;
    const bool head = parser_->get().method() == http::verb::head;
    if (ec == http::error::buffer_overflow) {
      Refuse(400, "Bad request: a chunk header or trailer is too long", head);
      return;
    }
    const SpoolBody::value_type& body = parser_->get().body();
    if (!body.error.ok()) {
      base::LogError(
          absl::StrCat("HTTP: request from ", remote_, " for ", path_, ": ", body.error.message()));
      RefuseBusy("cannot store the request body", head);
      return;
    }
    if (const char* full = ChargeBody(body.spool.memory_bytes(), body.spool.spooled_bytes())) {
      RefuseBusy(full, head);
      return;
    }
    if (ec == http::error::body_limit) {
      Refuse(413,
             absl::StrCat("Request body too large: the chunked body exceeds the limit of ",
                          body_limit_, " bytes for ", path_),
             head);
      return;
    }
    if (IsParseError(ec)) {
      Refuse(400, absl::StrCat("Bad request: ", ec.message()), head);
      return;
    }
    if (ec) {
      Close();
      return;
    }
    ReadBody();
  }

  // Everything of the request but its body.
  template <typename Message>
  Request RequestFromHeader(const Message& message) const {
    Request request;
    request.method = SvToString(message.method_string());
    request.target = SvToString(message.target());
    request.path = path_;
    request.query = query_;
    for (const auto& field : message) {
      request.headers.emplace_back(absl::AsciiStrToLower(SvToString(field.name_string())),
                                   SvToString(field.value()));
    }
    request.remote_address = remote_;
    request.version = message.version();
    return request;
  }

  void CallHandler() {
    http::request<SpoolBody> message = parser_->release();
    parser_.reset();
    Request request = RequestFromHeader(message);
    absl::StatusOr<RequestBody> body = message.body().spool.Finish();
    if (!body.ok()) {
      base::LogError(absl::StrCat("HTTP: request from ", remote_, " for ", path_, ": ",
                                  body.status().message()));
      RefuseBusy("cannot store the request body", request.method == "HEAD");
      return;
    }
    request.body = *std::move(body);
    const bool keep_alive = message.keep_alive();
    const unsigned version = message.version();

    Response response;
    try {
      response = state_->handler(request);
    } catch (const std::exception& e) {
      response = InternalError(request, absl::StrCat("threw: ", e.what()));
    } catch (...) {
      response = InternalError(request, "threw a non-standard exception");
    }
    if (std::string reason = InvalidResponseReason(response); !reason.empty()) {
      if (response.push) response.push->Close();
      response = InternalError(request, absl::StrCat("returned an invalid response: ", reason));
    }
    const bool is_head = request.method == "HEAD";
    request = Request();
    ReleaseBody();
    Send(std::move(response), is_head, keep_alive, version);
  }

  // Charges what the body being read holds now, `memory` bytes in memory
  // and `disk` in its spool file, against the server's budgets; nullptr if
  // it fits, else which budget it would pass. Charged as it arrives, so a
  // client announcing a large body and trickling it holds only what it sent;
  // a body moving to its file gives its memory back.
  const char* ChargeBody(uint64_t memory, uint64_t disk) {
    if (memory < memory_charge_) {
      state_->ReleaseMemory(memory_charge_ - memory);
      memory_charge_ = memory;
    } else if (memory > memory_charge_) {
      if (!state_->ReserveMemory(memory - memory_charge_)) {
        return "too many request bodies in flight";
      }
      memory_charge_ = memory;
    }
    if (disk > disk_charge_) {
      if (!state_->ReserveDisk(disk - disk_charge_)) {
        return "too many request bodies in flight (disk)";
      }
      disk_charge_ = disk;
    }
    return nullptr;
  }

  void ReleaseBody() {
    state_->ReleaseMemory(std::exchange(memory_charge_, 0));
    state_->ReleaseDisk(std::exchange(disk_charge_, 0));
  }

  // 503 for want of room (a budget, the spool's disk): the body is dropped
  // unread, and the connection closes.
  void RefuseBusy(absl::string_view what, bool head) {
    parser_.reset();
    ReleaseBody();
    Send(BusyResponse(what), head, /*keep_alive=*/false, 11);
  }

  Response InternalError(const Request& request, absl::string_view what) {
    base::LogError(absl::StrFormat("HTTP: handler for %s %s from %s %s",
                                   absl::CEscape(request.method), absl::CEscape(request.target),
                                   remote_, what));
    return TextResponse(500, "Internal server error\n");
  }

  // Answers without calling the handler and closes: the body, if any, was not
  // read, so the connection cannot carry another request.
  void Refuse(int status, std::string message, bool head) {
    parser_.reset();
    ReleaseBody();
    absl::StrAppend(&message, "\n");
    Send(TextResponse(status, std::move(message)), head, /*keep_alive=*/false, 11);
  }

  void Send(Response response, bool head, bool keep_alive, unsigned version) {
    phase_ = Phase::kBusy;
    keep_alive = keep_alive && !state_->stopping.load() && !evicted_ && !reserved_;
    const bool bodiless = response.status == 204 || response.status == 304;
    if (response.push && (head || bodiless)) {
      std::exchange(response.push, nullptr)->Close();
    } else if (response.push) {
      response_ = {};
      response_.version(version == 10 ? 10 : 11);
      response_.result(static_cast<unsigned>(response.status));
      for (const auto& [name, value] : response.headers) {
        if (IsServerHeader(name)) continue;
        // insert, not set: a handler may repeat a header (Link, Set-Cookie).
        response_.insert(beast::string_view(name.data(), name.size()),
                         beast::string_view(value.data(), value.size()));
      }
      ForEachMissingDefaultHeader(response,
                                  [this](absl::string_view name, absl::string_view value) {
                                    response_.set(beast::string_view(name.data(), name.size()),
                                                  beast::string_view(value.data(), value.size()));
                                  });
      response_.set(http::field::server, "pgxnd");
      response_.set(http::field::date, DateNow());
      StartPush(std::move(response.push), version, keep_alive);
      return;
    }
    if (!bodiless && response.file != nullptr && stream_.is_tls()) {
      // TLS encrypts in this process: the file is read in pieces, as a
      // stream is.
      response.stream = [file = std::move(response.file), start = response.file_offset](
                            uint64_t offset, size_t max_bytes) -> absl::StatusOr<std::string> {
        std::string piece(max_bytes, '\0');
        const ssize_t got = ::pread(file->get(), piece.data(), max_bytes,
                                    static_cast<off_t>(start + offset));
        if (got < 0) return absl::InternalError(absl::StrCat("pread: ", strerror(errno)));
        piece.resize(static_cast<size_t>(got));
        return piece;
      };
    }
    // The header is written here, not by Beast's serializer: walking its
    // buffer sequences was the largest part of a small response's CPU in
    // this process (ops/bench/gateway, the 404 row).
    uint64_t length = 0;
    if (!bodiless && response.file != nullptr) {
      // The header goes first; SendFile the body.
      length = response.stream_size;
      if (!head && response.stream_size > 0) {
        file_ = std::move(response.file);
        file_offset_ = response.file_offset;
        file_left_ = response.stream_size;
      }
    } else if (!bodiless && response.stream) {
      // The header goes first; WriteStream the body.
      length = response.stream_size;
      if (!head && response.stream_size > 0) {
        stream_source_ = std::move(response.stream);
        stream_size_ = response.stream_size;
        stream_offset_ = 0;
      }
    } else if (!bodiless) {
      length = response.body.size();
      if (!head) body_ = std::move(response.body);
    }
    head_.clear();
    absl::StrAppend(&head_, version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ", response.status, " ");
    const beast::string_view reason = http::obsolete_reason(http::int_to_status(response.status));
    head_.append(reason.data(), reason.size());
    head_.append("\r\n");
    for (const auto& [name, value] : response.headers) {
      if (IsServerHeader(name)) continue;
      absl::StrAppend(&head_, name, ": ", value, "\r\n");
    }
    ForEachMissingDefaultHeader(response, [this](absl::string_view name, absl::string_view value) {
      absl::StrAppend(&head_, name, ": ", value, "\r\n");
    });
    absl::StrAppend(&head_, "Server: pgxnd\r\nDate: ", DateNow(), "\r\n");
    if (!bodiless) absl::StrAppend(&head_, "Content-Length: ", length, "\r\n");
    if (version == 10 && keep_alive) head_.append("Connection: keep-alive\r\n");
    if (version != 10 && !keep_alive) head_.append("Connection: close\r\n");
    head_.append("\r\n");
    close_after_response_ = !keep_alive;
    written_ = 0;
    if (file_ != nullptr && !stream_.is_tls()) {
      // The header waits in the kernel for the file's first bytes, so the
      // two leave in full segments, not a small one first (nginx's
      // tcp_nopush); SendFile uncorks.
      const int on = 1;
      corked_ = ::setsockopt(stream_.lowest().socket().native_handle(), IPPROTO_TCP, TCP_CORK,
                             &on, sizeof on) == 0;
    }
    WriteSome();
  }

  // The header and the body (head_, body_) from written_ on, as much as the
  // socket takes; each write gets read_timeout to make progress.
  void WriteSome() {
    std::array<net::const_buffer, 2> buffers;
    if (written_ < head_.size()) {
      buffers = {net::buffer(head_.data() + written_, head_.size() - written_),
                 net::buffer(body_)};
    } else {
      const size_t into_body = written_ - head_.size();
      buffers = {net::buffer(body_.data() + into_body, body_.size() - into_body),
                 net::const_buffer()};
    }
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    stream_.async_write_some(buffers,
                             beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t bytes) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      Close();
      return;
    }
    written_ += bytes;
    if (written_ < head_.size() + body_.size()) {
      WriteSome();
      return;
    }
    // A small body's buffer is kept for the next response; a large one goes.
    if (body_.capacity() > kStreamChunk) {
      body_ = std::string();
    } else {
      body_.clear();
    }
    if (stream_source_) {
      WriteStream();
      return;
    }
    if (file_ != nullptr) {
      SendFile();
      return;
    }
    FinishResponse();
  }

  // A file body on plain TCP: sendfile(2) until it is sent or the socket's
  // buffer is full; then wait until the socket takes more, for read_timeout
  // at most (a client that takes nothing that long is dropped, as with a
  // streamed body).
  void SendFile() {
    tcp::socket& socket = stream_.lowest().socket();
    beast::error_code ec;
    socket.native_non_blocking(true, ec);
    uint64_t turn = kSendfileTurn;
    bool full = false;
    while (!ec && file_left_ > 0 && turn > 0) {
      off_t offset = static_cast<off_t>(file_offset_);
      const ssize_t sent = ::sendfile(socket.native_handle(), file_->get(), &offset,
                                      static_cast<size_t>(std::min(file_left_, turn)));
      if (sent > 0) {
        file_offset_ += static_cast<uint64_t>(sent);
        file_left_ -= static_cast<uint64_t>(sent);
        turn -= static_cast<uint64_t>(sent);
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        full = true;
        break;
      }
      if (sent == 0) {
        base::LogError(absl::StrFormat("HTTP: file body for %s ended %d bytes early", remote_,
                                       file_left_));
      } else if (errno != EPIPE && errno != ECONNRESET) {
        base::LogError(absl::StrFormat("HTTP: sendfile to %s: %s", remote_, strerror(errno)));
      }
      ec = net::error::broken_pipe;
    }
    if (corked_) {
      const int off = 0;
      ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_CORK, &off, sizeof off);
      corked_ = false;
    }
    if (ec) {
      Close();
      return;
    }
    if (file_left_ == 0) {
      file_.reset();
      FinishResponse();
      return;
    }
    if (!full) {  // this turn is over, the socket could take more: the others first
      net::post(stream_.get_executor(), [self = shared_from_this()] {
        if (self->phase_ != Phase::kClosed) self->SendFile();
      });
      return;
    }
    const uint64_t tick = ++file_wait_tick_;
    if (!file_timer_.has_value()) file_timer_.emplace(stream_.get_executor());
    file_timer_->expires_after(ToChrono(state_->options.read_timeout));
    file_timer_->async_wait([self = shared_from_this(), tick](beast::error_code timer_ec) {
      // A later wait re-armed the timer: this expiry is not for it.
      if (timer_ec || tick != self->file_wait_tick_ || self->phase_ == Phase::kClosed) return;
      self->Close();
    });
    socket.async_wait(tcp::socket::wait_write,
                      [self = shared_from_this(), tick](beast::error_code wait_ec) {
                        if (self->phase_ == Phase::kClosed || tick != self->file_wait_tick_) return;
                        ++self->file_wait_tick_;  // the timer's expiry, if queued, is stale
                        self->file_timer_->cancel();
                        if (wait_ec) {
                          self->Close();
                          return;
                        }
                        self->SendFile();
                      });
  }

  // An open-ended body (BodyStream, http.h): the header with chunked
  // coding (HTTP/1.0: none, and the connection closes at the end), then each
  // piece the stream gives as the client takes the one before. While the
  // stream has nothing, no operation is pending: the connection costs its
  // socket and this object until the waker posts OnPushWake.
  void StartPush(std::shared_ptr<BodyStream> push, unsigned version, bool keep_alive) {
    push_ = std::move(push);
    push_last_ = false;
    push_waiting_ = false;
    push_chunked_ = version != 10;
    if (push_chunked_) {
      response_.chunked(true);
    } else {
      keep_alive = false;
    }
    if (version != 10 && !keep_alive) response_.set(http::field::connection, "close");
    close_after_response_ = !keep_alive;
    beast::error_code ec;
    stream_.lowest().socket().set_option(net::socket_base::send_buffer_size(kPushSendBuffer), ec);
    // The waker runs on the stream's thread: it posts to the executor taken
    // here and locks the session on its strand, so that thread never owns
    // a session (its last release would run there) or touches stream_.
    push_->SetWaker([weak = weak_from_this(), executor = stream_.get_executor()] {
      net::post(executor, [weak] {
        if (std::shared_ptr<Session> self = weak.lock()) self->OnPushWake();
      });
    });
    serializer_.emplace(response_);
    serializer_->split(true);
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    http::async_write_header(stream_, *serializer_,
                             beast::bind_front_handler(&Session::OnPushWrite, shared_from_this()));
  }

  void PushNext() {
    if (state_->stopping.load()) {
      EndPush();
      return;
    }
    BodyStream::Piece piece;
    try {
      piece = push_->Next();
    } catch (const std::exception& e) {
      base::LogError(absl::StrCat("HTTP: push stream for ", remote_, " threw: ", e.what()));
      piece = BodyStream::Piece{"", true};
    }
    if (piece.bytes.empty()) {
      if (piece.done) {
        EndPush();
        return;
      }
      // Nothing is pending on the connection now, and pending operations
      // are what keep a session alive: it holds itself until woken, stopped
      // or closed (every entry point holds it too, so letting go is safe).
      push_waiting_ = true;
      push_hold_ = shared_from_this();
      return;
    }
    push_last_ = piece.done;
    if (push_chunked_) {
      push_piece_ = absl::StrCat(absl::Hex(piece.bytes.size()), "\r\n", piece.bytes, "\r\n");
    } else {
      push_piece_ = std::move(piece.bytes);
    }
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    net::async_write(stream_, net::buffer(push_piece_),
                     beast::bind_front_handler(&Session::OnPushWrite, shared_from_this()));
  }

  void OnPushWrite(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed || push_ == nullptr) return;
    if (ec) {
      Close();
      return;
    }
    serializer_.reset();
    push_piece_ = std::string();
    if (push_last_) {
      EndPush();
      return;
    }
    PushNext();
  }

  void OnPushWake() {
    if (phase_ == Phase::kClosed || push_ == nullptr || !push_waiting_) return;
    push_waiting_ = false;
    push_hold_.reset();
    PushNext();
  }

  // The stream is over (it said so, or the server is stopping): the last
  // chunk, then the connection goes on as after any response.
  void EndPush() {
    std::exchange(push_, nullptr)->Close();
    push_waiting_ = false;
    push_last_ = false;
    push_hold_.reset();
    push_piece_ = std::string();
    response_ = {};
    if (!push_chunked_) {
      Linger();
      return;
    }
    static constexpr char kLastChunk[] = "0\r\n\r\n";
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    net::async_write(stream_, net::buffer(kLastChunk, sizeof(kLastChunk) - 1),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (self->phase_ == Phase::kClosed) return;
                       if (ec) {
                         self->Close();
                         return;
                       }
                       self->FinishResponse();
                     });
  }

  // Reads and sends the next piece of a streamed body.
  void WriteStream() {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(kStreamChunk, stream_size_ - stream_offset_));
    absl::StatusOr<std::string> piece;
    try {
      piece = stream_source_(stream_offset_, want);
    } catch (const std::exception& e) {
      piece = absl::InternalError(absl::StrCat("threw: ", e.what()));
    }
    if (piece.ok() && (piece->empty() || piece->size() > want)) {
      piece = absl::InternalError(absl::StrCat("gave ", piece->size(), " bytes for ", want));
    }
    if (!piece.ok()) {
      base::LogError(absl::StrFormat("HTTP: streamed body for %s at byte %d of %d: %s", remote_,
                                     stream_offset_, stream_size_, piece.status().ToString()));
      Close();
      return;
    }
    stream_piece_ = *std::move(piece);
    stream_.lowest().expires_after(ToChrono(state_->options.read_timeout));
    net::async_write(stream_, net::buffer(stream_piece_),
                     beast::bind_front_handler(&Session::OnStreamWrite, shared_from_this()));
  }

  void OnStreamWrite(beast::error_code ec, size_t bytes) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      Close();
      return;
    }
    stream_offset_ += bytes;
    if (stream_offset_ < stream_size_) {
      WriteStream();
      return;
    }
    stream_source_ = nullptr;
    stream_piece_ = std::string();
    FinishResponse();
  }

  void FinishResponse() {
    if (close_after_response_) {
      Linger();
      return;
    }
    first_request_ = false;
    WaitForRequest();
  }

  // What every response carries unless its handler chose otherwise: calls
  // `emit(name, value)` for each default header `response` lacks. One pass
  // over the handler's headers, nothing allocated; both ways a header is
  // written (the server's own header writer and a push stream's Beast
  // fields) go through here, so the policy lives in one place.
  template <typename Emit>
  static void ForEachMissingDefaultHeader(const Response& response, Emit emit) {
    bool nosniff = false;
    bool referrer = false;
    bool policy = false;
    bool html = false;
    for (const auto& [name, value] : response.headers) {
      if (absl::EqualsIgnoreCase(name, "x-content-type-options")) {
        nosniff = true;
      } else if (absl::EqualsIgnoreCase(name, "referrer-policy")) {
        referrer = true;
      } else if (absl::EqualsIgnoreCase(name, "content-security-policy")) {
        policy = true;
      } else if (absl::EqualsIgnoreCase(name, "content-type")) {
        html = html || absl::StartsWithIgnoreCase(value, "text/html");
      }
    }
    if (!nosniff) emit("X-Content-Type-Options", "nosniff");
    if (!referrer) emit("Referrer-Policy", "same-origin");
    if (html && !policy) emit("Content-Security-Policy", kDefaultHtmlPolicy);
  }

  void Linger() {
    phase_ = Phase::kLingering;
    beast::error_code ec;
    stream_.lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec || state_->stopping.load() || no_linger_ || evicted_) {
      Close();
      return;
    }
    state_->MarkIdle(this, true);
    stream_.lowest().expires_after(kLingerTime);
    DrainSome();
  }

  void DrainSome() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            beast::bind_front_handler(&Session::OnDrained, shared_from_this()));
  }

  void OnDrained(beast::error_code ec, size_t bytes) {
    if (phase_ == Phase::kClosed) return;
    lingered_bytes_ += bytes;
    if (ec || lingered_bytes_ > kLingerBytes) {
      Close();
      return;
    }
    DrainSome();
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    if (file_timer_.has_value()) file_timer_->cancel();
    file_.reset();
    // What a stream's source holds (a /_tree listing and its limit's
    // permit, a store snapshot) goes now, not when the session does. The
    // piece being written stays: a cancelled write may still refer to it.
    stream_source_ = nullptr;
    if (push_ != nullptr) std::exchange(push_, nullptr)->Close();
    push_waiting_ = false;
    push_hold_.reset();
    stream_.lowest().close();
  }

  AnyStream stream_;
  const std::shared_ptr<ServerState> state_;
  std::string remote_;
  std::string address_;  // base::ClientKey of remote_'s address
  beast::flat_buffer buffer_{kReadBufferLimit};
  std::optional<http::request_parser<SpoolBody>> parser_;
  std::string path_;   // decoded path of the request being read
  std::string query_;  // its raw query
  // A push stream's header, written by Beast (with chunked coding).
  http::response<http::string_body> response_;
  std::optional<http::response_serializer<http::string_body>> serializer_;
  // Any other response: its header and body as they go on the wire, and how
  // much of the two is written.
  std::string head_;
  std::string body_;
  size_t written_ = 0;
  Phase phase_ = Phase::kBusy;
  bool first_request_ = true;
  bool close_after_response_ = false;
  size_t lingered_bytes_ = 0;
  bool reserved_ = false;       // admitted beyond max_connections
  bool evicted_ = false;        // asked to make room: no keep-alive
  bool no_linger_ = false;      // turned away before any request
  uint64_t body_limit_ = 0;     // of the request being read
  uint64_t memory_charge_ = 0;  // charged against max_body_memory
  uint64_t disk_charge_ = 0;    // charged against max_body_disk
  // The streamed body being sent, if any.
  std::function<absl::StatusOr<std::string>(uint64_t, size_t)> stream_source_;
  uint64_t stream_size_ = 0;
  uint64_t stream_offset_ = 0;
  std::string stream_piece_;
  // The file body being sent with sendfile, if any (SendFile).
  std::shared_ptr<const base::ScopedFd> file_;
  uint64_t file_offset_ = 0;
  uint64_t file_left_ = 0;
  std::optional<net::steady_timer> file_timer_;
  uint64_t file_wait_tick_ = 0;  // which wait the timer and the socket's wait belong to
  bool corked_ = false;          // TCP_CORK set for the header, until the file's first bytes
  // The push stream being sent, if any (StartPush).
  std::shared_ptr<BodyStream> push_;
  bool push_chunked_ = false;
  bool push_waiting_ = false;  // Next had nothing; OnPushWake resumes
  bool push_last_ = false;     // the piece being written ends the body
  std::string push_piece_;
  std::shared_ptr<Session> push_hold_;  // itself, while push_waiting_
};

absl::Status BindError(const HttpServerOptions& options, const beast::error_code& ec) {
  const std::string message = absl::StrCat("Cannot listen for HTTP on ", options.host, ":",
                                           options.port, ": ", ec.message());
  if (ec == net::error::access_denied) return absl::PermissionDeniedError(message);
  if (ec == boost::system::errc::address_not_available) return absl::InvalidArgumentError(message);
  return absl::UnavailableError(message);
}

absl::Status CheckOptions(const HttpServerOptions& options) {
  if (options.host.empty()) return absl::InvalidArgumentError("HTTP host must not be empty");
  if (options.threads < 1 || options.threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP server threads must be 1 to 1024, not ", options.threads));
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "HTTP server TLS needs both a certificate file and a key file, or neither");
  }
  if (options.max_connections < 1 || options.max_connections_per_address < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP server max_connections (", options.max_connections,
        ") and max_connections_per_address (", options.max_connections_per_address,
        ") must be at least 1"));
  }
  for (const auto& [name, value] :
       {std::pair<absl::string_view, absl::Duration>{"read_timeout", options.read_timeout},
        {"idle_timeout", options.idle_timeout}}) {
    if (value <= absl::ZeroDuration() || value == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "HTTP server ", name, " must be positive and finite, not ", absl::FormatDuration(value)));
    }
  }
  if (options.stop_grace < absl::ZeroDuration() || options.stop_grace == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP server stop_grace must be finite and not negative, not ",
                     absl::FormatDuration(options.stop_grace)));
  }
  return absl::OkStatus();
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options, Handler handler)
      : state(std::make_shared<ServerState>(std::move(options), std::move(handler))) {
    const int threads = state->options.threads;
    const int loops = state->options.loop_per_thread ? threads : 1;
    for (int i = 0; i < loops; ++i) {
      ios.push_back(std::make_unique<net::io_context>(loops == 1 ? threads : 1));
      works.push_back(std::make_unique<WorkGuard>(ios.back()->get_executor()));
    }
    acceptor = std::make_unique<tcp::acceptor>(net::make_strand(*ios.front()));
    retry_timer = std::make_unique<net::steady_timer>(acceptor->get_executor());
  }

  // Where the next connection runs: a strand of the shared loop, or the
  // next loop in turn (one thread each, so it needs no strand).
  net::any_io_executor NextExecutor() {
    if (ios.size() == 1) return net::make_strand(*ios.front());
    return ios[next_loop++ % ios.size()]->get_executor();
  }

  absl::Status Listen() {
    const HttpServerOptions& options = state->options;
    tcp::resolver resolver(*ios.front());
    beast::error_code ec;
    const auto endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("Cannot resolve HTTP host \"", options.host, "\": ", ec.message()));
    }
    // The last endpoint's failure is the one reported (closing the acceptor
    // must not overwrite it: "Address already in use" is what an operator
    // needs to read).
    beast::error_code failure = net::error::host_not_found;
    for (const auto& entry : endpoints) {
      beast::error_code close_ec;
      acceptor->close(close_ec);
      if (acceptor->open(entry.endpoint().protocol(), failure)) continue;
      acceptor->set_option(net::socket_base::reuse_address(true), ec);
      if (acceptor->bind(entry.endpoint(), failure)) continue;
      if (acceptor->listen(net::socket_base::max_listen_connections, failure)) continue;
      port = acceptor->local_endpoint(failure).port();
      if (!failure) return absl::OkStatus();
    }
    acceptor->close(ec);
    return BindError(options, failure);
  }

  void Accept() {
    acceptor->async_accept(NextExecutor(), [this](beast::error_code ec, tcp::socket socket) {
      OnAccept(ec, std::move(socket));
    });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open() || state->stopping.load()) {
      return;
    }
    if (ec) {
      // Typically out of file descriptors: retrying at once would spin.
      base::LogError(absl::StrCat("HTTP: accept failed: ", ec.message()));
      retry_timer->expires_after(kAcceptRetryDelay);
      retry_timer->async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor->is_open()) Accept();
      });
      return;
    }
    auto session = std::make_shared<Session>(std::move(socket), state);
    std::shared_ptr<Session> evict;
    bool hard = false;
    const Admission admission = state->Register(session, session->address(), &evict, &hard);
    if (evict != nullptr) evict->RequestEvict(hard);
    switch (admission) {
      case Admission::kStopping:
        return;
      case Admission::kRefused:
        session->TurnAway();
        break;
      case Admission::kNormal:
      case Admission::kReserved:
        session->Start(admission == Admission::kReserved);
        break;
    }
    Accept();
  }

  void Run(net::io_context& io) {
    // An exception escaping a completion handler leaves the io_context usable;
    // log it and keep this thread serving rather than terminate the node.
    while (true) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        base::LogError(absl::StrCat("HTTP: I/O thread caught: ", e.what()));
      }
    }
  }

  absl::Status ReloadTls() {
    const HttpServerOptions& options = state->options;
    if (options.tls_cert_file.empty()) return absl::OkStatus();
    absl::StatusOr<std::shared_ptr<net::ssl::context>> context =
        LoadTls(options.tls_cert_file, options.tls_key_file);
    if (!context.ok()) return context.status();
    state->SetTls(*std::move(context));
    return absl::OkStatus();
  }

  using WorkGuard = net::executor_work_guard<net::io_context::executor_type>;

  const std::shared_ptr<ServerState> state;
  // Declared before what runs on them, so they are destroyed after them:
  // one loop that every thread runs, or one per thread (loop_per_thread).
  std::vector<std::unique_ptr<net::io_context>> ios;
  // Keep the I/O threads running while nothing is pending (after the
  // acceptor closed and the last session ended, say), so that handlers Stop
  // posts still run. Only Stop ends them.
  std::vector<std::unique_ptr<WorkGuard>> works;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> retry_timer;
  size_t next_loop = 0;  // only on the acceptor's strand
  std::vector<std::thread> threads;
  uint16_t port = 0;

  absl::Mutex stop_mu;
  bool stopped ABSL_GUARDED_BY(stop_mu) = false;
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              Handler handler) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  if (!handler) return absl::InvalidArgumentError("HTTP server needs a handler");
  // A spool directory that cannot take a file is a configuration error, said
  // now rather than at the first large request.
  absl::StatusOr<int> probe = OpenUnlinkedTempFile(options.spool_dir);
  if (!probe.ok()) return absl::InvalidArgumentError(probe.status().message());
  close(*probe);
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  if (absl::Status status = impl->ReloadTls(); !status.ok()) return status;
  if (absl::Status status = impl->Listen(); !status.ok()) return status;
  Impl* raw = impl.get();
  net::post(raw->acceptor->get_executor(), [raw] { raw->Accept(); });
  for (int i = 0; i < raw->state->options.threads; ++i) {
    net::io_context& io = *raw->ios[i % raw->ios.size()];
    raw->threads.emplace_back([raw, &io] { raw->Run(io); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->port; }

absl::Status HttpServer::ReloadTls() { return impl_->ReloadTls(); }

size_t HttpServer::open_connections() const { return impl_->state->OpenConnections(); }

uint64_t HttpServer::body_bytes_in_flight() const { return impl_->state->body_bytes.load(); }

uint64_t HttpServer::body_bytes_spooled() const { return impl_->state->spooled_bytes.load(); }
size_t HttpServer::idle_connections() const { return impl_->state->IdleConnections(); }

void HttpServer::Stop() {
  Impl& impl = *impl_;
  absl::MutexLock stop_lock(&impl.stop_mu);
  if (impl.stopped) return;
  impl.stopped = true;

  ServerState& state = *impl.state;
  std::vector<std::shared_ptr<Session>> live;
  {
    absl::MutexLock lock(&state.mu);
    state.stopping.store(true);
    for (const auto& [raw, entry] : state.sessions) {
      if (auto session = entry.session.lock()) live.push_back(std::move(session));
    }
  }
  net::post(impl.acceptor->get_executor(), [&impl] {
    beast::error_code ec;
    impl.acceptor->close(ec);
    impl.retry_timer->cancel();
  });
  for (const auto& session : live) session->RequestStop();
  live.clear();

  {
    absl::MutexLock lock(&state.mu);
    state.mu.AwaitWithTimeout(
        absl::Condition(
            +[](absl::flat_hash_map<Session*, SessionEntry>* sessions) {
              return sessions->empty();
            },
            &state.sessions),
        state.options.stop_grace);
  }
  impl.works.clear();
  for (const auto& io : impl.ios) io->stop();
  for (std::thread& thread : impl.threads) thread.join();
  impl.threads.clear();
  // No thread runs now: a session that never ran its OnStop (a grace of 0,
  // threads busy to the end) still holds itself while its push stream
  // waits; let it go, so it is destroyed with the io_context's handlers.
  {
    std::vector<std::shared_ptr<Session>> left;
    {
      absl::MutexLock lock(&state.mu);
      for (const auto& [raw, entry] : state.sessions) {
        if (auto session = entry.session.lock()) left.push_back(std::move(session));
      }
    }
    for (const auto& session : left) session->AbandonPush();
  }
  // Destroying the io_context destroys the handlers still queued, and with
  // them the sessions that outlived the grace period and their sockets.
  impl.retry_timer.reset();
  impl.acceptor.reset();
  impl.ios.clear();
}

}  // namespace pgxn::gateway
