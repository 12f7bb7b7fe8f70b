// Everything Beast/Asio-specific, including their error codes, stays in this
// file: no other library source of the project includes those headers.
#include "gateway/http_server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
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
#include "base/log.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gateway/path.h"

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

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

std::string SvToString(beast::string_view sv) { return std::string(sv.data(), sv.size()); }

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

class Session;

// What the listener, the sessions and Stop share. Sessions hold it by
// shared_ptr, so it outlives the HttpServer if a session is destroyed last.
struct ServerState {
  ServerState(HttpServerOptions options_in, Handler handler_in)
      : options(std::move(options_in)), handler(std::move(handler_in)) {}

  // Adds a session unless the server is stopping (then returns false).
  bool Register(const std::shared_ptr<Session>& session) ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    if (stopping.load()) return false;
    sessions.emplace(session.get(), session);
    return true;
  }

  void Deregister(Session* session) ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    sessions.erase(session);
  }

  const HttpServerOptions options;
  const Handler handler;
  // Written under `mu` so that Register and Stop agree on who saw it first;
  // read without it by sessions, which only need to notice it eventually.
  std::atomic<bool> stopping{false};
  absl::Mutex mu;
  absl::flat_hash_map<Session*, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);
};

// One connection. Every member function runs on the connection's strand
// (the executor of stream_), so none needs a lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ServerState> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    beast::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? "unknown" : FormatEndpoint(peer);
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  ~Session() { state_->Deregister(this); }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::WaitForRequest, shared_from_this()));
  }

  // Called by Stop from any thread.
  void RequestStop() {
    net::post(stream_.get_executor(),
              beast::bind_front_handler(&Session::OnStop, shared_from_this()));
  }

 private:
  enum class Phase { kWaiting, kBusy, kLingering, kClosed };

  void OnStop() {
    // A request in progress finishes (Stop bounds how long); a connection
    // with nothing in progress goes now.
    if (phase_ == Phase::kWaiting || phase_ == Phase::kLingering) Close();
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
    stream_.expires_after(
        ToChrono(first_request_ ? state_->options.read_timeout : state_->options.idle_timeout));
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this()));
  }

  void OnFirstBytes(beast::error_code ec, size_t bytes) {
    if (phase_ == Phase::kClosed) return;
    buffer_.commit(bytes);
    if (ec) {
      Close();
      return;
    }
    ReadHeader();
  }

  void ReadHeader() {
    phase_ = Phase::kBusy;
    stream_.expires_after(ToChrono(state_->options.read_timeout));
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

    if (state_->options.screen) {
      Request head_only = RequestFromHeader(request);
      absl::optional<Response> refusal;
      try {
        refusal = state_->options.screen(head_only);
      } catch (const std::exception& e) {
        refusal = InternalError(head_only, absl::StrCat("screen threw: ", e.what()));
      }
      if (refusal.has_value()) {
        parser_.reset();
        Send(*std::move(refusal), head, /*keep_alive=*/false, 11);
        return;
      }
    }

    const uint64_t limit = state_->options.max_body_bytes;
    if (const auto length = parser_->content_length(); length && *length > limit) {
      Refuse(413,
             absl::StrCat("Request body too large: ", *length, " bytes exceeds the limit of ",
                          limit, " bytes"),
             head);
      return;
    }
    parser_->body_limit(limit);

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
    stream_.expires_after(ToChrono(state_->options.read_timeout));
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
    stream_.expires_after(ToChrono(state_->options.read_timeout));
    http::async_read_some(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed) return;
    const bool head = parser_->get().method() == http::verb::head;
    if (ec == http::error::body_limit) {
      Refuse(413,
             absl::StrCat("Request body too large: the chunked body exceeds the limit of ",
                          state_->options.max_body_bytes, " bytes"),
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
    return request;
  }

  void CallHandler() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    Request request = RequestFromHeader(message);
    request.body = std::move(message.body());
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
      response = InternalError(request, absl::StrCat("returned an invalid response: ", reason));
    }
    Send(std::move(response), request.method == "HEAD", keep_alive, version);
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
    absl::StrAppend(&message, "\n");
    Send(TextResponse(status, std::move(message)), head, /*keep_alive=*/false, 11);
  }

  void Send(Response response, bool head, bool keep_alive, unsigned version) {
    phase_ = Phase::kBusy;
    keep_alive = keep_alive && !state_->stopping.load();
    response_ = {};
    response_.version(version == 10 ? 10 : 11);
    response_.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers) {
      if (IsServerHeader(name)) continue;
      // insert, not set: a handler may repeat a header (Link, Set-Cookie).
      response_.insert(beast::string_view(name.data(), name.size()),
                       beast::string_view(value.data(), value.size()));
    }
    response_.set(http::field::server, "pgxnd");
    response_.set(http::field::date, FormatHttpDate(absl::Now()));
    const bool bodiless = response.status == 204 || response.status == 304;
    if (!bodiless) {
      response_.content_length(response.body.size());
      if (!head) response_.body() = std::move(response.body);
    }
    if (version == 10 && keep_alive) response_.set(http::field::connection, "keep-alive");
    if (version != 10 && !keep_alive) response_.set(http::field::connection, "close");
    close_after_response_ = !keep_alive;
    serializer_.emplace(response_);
    WriteSome();
  }

  void WriteSome() {
    stream_.expires_after(ToChrono(state_->options.read_timeout));
    http::async_write_some(stream_, *serializer_,
                           beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      Close();
      return;
    }
    if (!serializer_->is_done()) {
      WriteSome();
      return;
    }
    serializer_.reset();
    response_ = {};
    if (close_after_response_) {
      Linger();
      return;
    }
    first_request_ = false;
    WaitForRequest();
  }

  void Linger() {
    phase_ = Phase::kLingering;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec || state_->stopping.load()) {
      Close();
      return;
    }
    stream_.expires_after(kLingerTime);
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
    stream_.close();
  }

  beast::tcp_stream stream_;
  const std::shared_ptr<ServerState> state_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string path_;   // decoded path of the request being read
  std::string query_;  // its raw query
  http::response<http::string_body> response_;
  std::optional<http::response_serializer<http::string_body>> serializer_;
  Phase phase_ = Phase::kBusy;
  bool first_request_ = true;
  bool close_after_response_ = false;
  size_t lingered_bytes_ = 0;
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
      : state(std::make_shared<ServerState>(std::move(options), std::move(handler))),
        io(std::make_unique<net::io_context>(state->options.threads)),
        work(std::make_unique<WorkGuard>(io->get_executor())),
        acceptor(std::make_unique<tcp::acceptor>(net::make_strand(*io))),
        retry_timer(std::make_unique<net::steady_timer>(acceptor->get_executor())) {}

  absl::Status Listen() {
    const HttpServerOptions& options = state->options;
    tcp::resolver resolver(*io);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("Cannot resolve HTTP host \"", options.host, "\": ", ec.message()));
    }
    for (const auto& entry : endpoints) {
      beast::error_code close_ec;
      acceptor->close(close_ec);
      if (acceptor->open(entry.endpoint().protocol(), ec)) continue;
      acceptor->set_option(net::socket_base::reuse_address(true), ec);
      if (acceptor->bind(entry.endpoint(), ec)) continue;
      if (acceptor->listen(net::socket_base::max_listen_connections, ec)) continue;
      port = acceptor->local_endpoint(ec).port();
      if (!ec) return absl::OkStatus();
    }
    acceptor->close(ec);
    if (!ec) ec = net::error::host_not_found;
    return BindError(options, ec);
  }

  void Accept() {
    acceptor->async_accept(net::make_strand(*io), [this](beast::error_code ec, tcp::socket socket) {
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
    if (!state->Register(session)) return;
    session->Start();
    Accept();
  }

  void Run() {
    // An exception escaping a completion handler leaves the io_context usable;
    // log it and keep this thread serving rather than terminate the node.
    while (true) {
      try {
        io->run();
        return;
      } catch (const std::exception& e) {
        base::LogError(absl::StrCat("HTTP: I/O thread caught: ", e.what()));
      }
    }
  }

  using WorkGuard = net::executor_work_guard<net::io_context::executor_type>;

  const std::shared_ptr<ServerState> state;
  // Declared before what runs on it, so it is destroyed after them.
  std::unique_ptr<net::io_context> io;
  // Keeps the I/O threads running while nothing is pending (after the
  // acceptor closed and the last session ended, say), so that handlers Stop
  // posts still run. Only Stop ends them.
  std::unique_ptr<WorkGuard> work;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> retry_timer;
  std::vector<std::thread> threads;
  uint16_t port = 0;

  absl::Mutex stop_mu;
  bool stopped ABSL_GUARDED_BY(stop_mu) = false;
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              Handler handler) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  if (!handler) return absl::InvalidArgumentError("HTTP server needs a handler");
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  if (absl::Status status = impl->Listen(); !status.ok()) return status;
  Impl* raw = impl.get();
  net::post(raw->acceptor->get_executor(), [raw] { raw->Accept(); });
  for (int i = 0; i < raw->state->options.threads; ++i) {
    raw->threads.emplace_back([raw] { raw->Run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->port; }

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
    for (const auto& [raw, weak] : state.sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
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
            +[](absl::flat_hash_map<Session*, std::weak_ptr<Session>>* sessions) {
              return sessions->empty();
            },
            &state.sessions),
        state.options.stop_grace);
  }
  impl.work.reset();
  impl.io->stop();
  for (std::thread& thread : impl.threads) thread.join();
  impl.threads.clear();
  // Destroying the io_context destroys the handlers still queued, and with
  // them the sessions that outlived the grace period and their sockets.
  impl.retry_timer.reset();
  impl.acceptor.reset();
  impl.io.reset();
}

}  // namespace pgxn::gateway
