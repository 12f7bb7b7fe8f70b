// The Boost.Beast and OpenSSL adapter of origin/webhooks (ops/layering.txt):
// no other file of the library includes their headers.
#include "origin/webhooks/http_client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/log.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "openssl/ssl.h"

namespace pgxn::origin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string AddressBytes(const asio::ip::address& address) {
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  const auto bytes = address.to_v6().to_bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Runs one asynchronous step started by `start` (which gets the completion
// handler) on `io` until it completes or `deadline` passes; then `cancel`
// (closing the socket) makes it complete. DeadlineExceeded on a timeout.
template <typename Start, typename Cancel>
beast::error_code RunStep(asio::io_context& io, Clock::time_point deadline, Start start,
                          Cancel cancel, bool* timed_out) {
  bool done = false;
  beast::error_code result;
  start([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  io.restart();
  io.run_until(deadline);
  if (!done) {
    *timed_out = true;
    cancel();
    io.restart();
    io.run();
  }
  return result;
}

// A lookup's outcome, shared by the delivery that waits for it and the
// thread that runs it (which may outlive the delivery).
struct Lookup {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  absl::StatusOr<std::vector<std::string>> addresses ABSL_GUARDED_BY(mu) =
      absl::UnknownError("not looked up");
};

std::atomic<int> lookups_in_flight{0};

absl::StatusOr<std::vector<std::string>> SystemResolve(const std::string& host) {
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  const tcp::resolver::results_type results = resolver.resolve(host, "0", ec);
  if (ec) return absl::UnavailableError(ec.message());
  std::vector<std::string> addresses;
  for (const auto& entry : results) addresses.push_back(entry.endpoint().address().to_string());
  return addresses;
}

// `host`'s addresses, or DeadlineExceeded at `deadline` (the lookup's thread
// then finishes on its own), or Unavailable when kMaxLookups are in flight.
absl::StatusOr<std::vector<std::string>> ResolveWithin(
    const WebhookClientOptions& options, const std::string& host, Clock::time_point deadline) {
  if (lookups_in_flight.fetch_add(1) >= WebhookClient::kMaxLookups) {
    lookups_in_flight.fetch_sub(1);
    return absl::UnavailableError(absl::StrCat(
        "Cannot resolve ", host, ": ", WebhookClient::kMaxLookups,
        " name lookups are already waiting for the resolver"));
  }
  auto lookup = std::make_shared<Lookup>();
  auto resolve = options.resolve ? options.resolve : SystemResolve;
  try {
    std::thread([lookup, resolve = std::move(resolve), host] {
      // Nothing may escape a detached thread: an exception would terminate.
      absl::StatusOr<std::vector<std::string>> addresses =
          absl::UnavailableError("the lookup failed");
      try {
        addresses = resolve(host);
      } catch (const std::exception& e) {
        addresses = absl::UnavailableError(e.what());
      } catch (...) {
      }
      {
        absl::MutexLock lock(&lookup->mu);
        lookup->addresses = std::move(addresses);
        lookup->done = true;
      }
      lookups_in_flight.fetch_sub(1);
    }).detach();
  } catch (const std::system_error& e) {  // no thread to be had
    lookups_in_flight.fetch_sub(1);
    return absl::UnavailableError(absl::StrCat("Cannot resolve ", host, ": ", e.what()));
  }
  const absl::Time until = absl::Now() + absl::FromChrono(deadline - Clock::now());
  absl::MutexLock lock(&lookup->mu);
  if (!lookup->mu.AwaitWithDeadline(absl::Condition(&lookup->done), until)) {
    return absl::DeadlineExceededError("resolving");
  }
  // Moved, not copied: a copied error would share its message with the
  // lookup's thread, which frees it whenever it ends, ordered only by
  // absl::Status's own reference count (ThreadSanitizer, which cannot see
  // into Debian's libabsl_status, reported the free against the reads here).
  // This delivery is the outcome's only reader.
  return std::move(lookup->addresses);
}

}  // namespace

int WebhookClient::LookupsInFlight() { return lookups_in_flight.load(); }

struct WebhookClient::Impl {
  asio::ssl::context tls{asio::ssl::context::tls_client};
};

WebhookClient::WebhookClient(WebhookClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  impl_->tls.set_default_verify_paths();
  if (!options_.ca_file.empty()) {
    beast::error_code ignored;
    impl_->tls.load_verify_file(options_.ca_file, ignored);
  }
  impl_->tls.set_verify_mode(asio::ssl::verify_peer);
  SSL_CTX_set_min_proto_version(impl_->tls.native_handle(), TLS1_2_VERSION);
}

WebhookClient::~WebhookClient() = default;

absl::StatusOr<WebhookResponse> WebhookClient::Post(
    const WebhookUrl& url, const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body) const {
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + absl::ToChronoNanoseconds(options_.timeout);
  const Clock::time_point connect_deadline =
      std::min(deadline, start + absl::ToChronoNanoseconds(options_.connect_timeout));
  asio::io_context io;
  bool timed_out = false;
  auto timeout = [&](absl::string_view what) {
    return absl::DeadlineExceededError(absl::StrCat("No answer from ", url.host, " within ",
                                                    absl::FormatDuration(options_.timeout),
                                                    " (timed out ", what, ")"));
  };

  // Resolve, then keep only the addresses we may connect to.
  absl::StatusOr<std::vector<std::string>> resolved =
      ResolveWithin(options_, url.host, connect_deadline);
  if (absl::IsDeadlineExceeded(resolved.status())) return timeout("resolving");
  if (!resolved.ok()) {
    return absl::UnavailableError(
        absl::StrCat("Cannot resolve ", url.host, ": ", resolved.status().message()));
  }
  std::vector<tcp::endpoint> allowed;
  std::vector<std::string> refused;
  for (const std::string& text : *resolved) {
    beast::error_code invalid;
    const asio::ip::address address = asio::ip::make_address(text, invalid);
    if (invalid) continue;
    const std::string kind = ClassifyAddress(AddressBytes(address));
    if (options_.allow_private || kind == "public") {
      allowed.emplace_back(address, static_cast<uint16_t>(url.port));
    } else {
      refused.push_back(absl::StrCat(address.to_string(), ", a ", kind, " address"));
    }
  }
  if (allowed.empty()) {
    const std::string detail = absl::StrCat(
        url.host, " resolves to ", refused.empty() ? "nothing" : absl::StrJoin(refused, " and "),
        ": webhooks go to public addresses only");
    beast::error_code literal_ec;
    asio::ip::make_address(url.host, literal_ec);
    if (!literal_ec) return absl::PermissionDeniedError(detail);  // the owner wrote the address
    // A name: what the origin's resolver knows of it (internal names through
    // the search domains, say) is the operator's to read, not the hook's
    // owner, who sees this error in GET /account/webhooks and in mail.
    base::LogWarning(absl::StrCat("Webhook target refused: ", detail));
    return absl::PermissionDeniedError(
        absl::StrCat(url.host, " has no public address: webhooks go to public addresses only"));
  }

  beast::tcp_stream stream(io);
  beast::error_code ec = RunStep(
      io, connect_deadline,
      [&](auto handler) {
        asio::async_connect(stream.socket(), allowed.begin(), allowed.end(),
                            [handler](beast::error_code e, auto) mutable { handler(e); });
      },
      [&] { stream.socket().close(); }, &timed_out);
  if (timed_out) return timeout("connecting");
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("Cannot connect to ", url.host, ":", url.port, ": ", ec.message()));
  }
  // The address connected to is one checked above; say so where it matters.
  {
    beast::error_code peer_error;
    const tcp::endpoint peer = stream.socket().remote_endpoint(peer_error);
    if (peer_error ||
        (!options_.allow_private && ClassifyAddress(AddressBytes(peer.address())) != "public")) {
      return absl::PermissionDeniedError(
          absl::StrCat("Connected to a non-public address of ", url.host));
    }
  }

  http::request<http::string_body> request(http::verb::post, url.target, 11);
  // An IPv6 literal is bracketed in Host, with or without a port.
  const bool ipv6_literal = url.host.find(':') != std::string::npos;
  const std::string authority =
      ipv6_literal ? absl::StrCat("[", url.host, "]") : url.host;
  request.set(http::field::host, url.port == (url.tls ? 443 : 80)
                                     ? authority
                                     : absl::StrCat(authority, ":", url.port));
  request.set(http::field::user_agent, "pgxnd-webhooks/1");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();

  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBodyBytes);
  parser.header_limit(16 * 1024);
  beast::flat_buffer buffer;
  const auto exchange = [&](auto& s, auto close) -> absl::Status {
    beast::error_code e = RunStep(
        io, deadline,
        [&](auto handler) {
          http::async_write(s, request,
                            [handler](beast::error_code err, size_t) mutable { handler(err); });
        },
        close, &timed_out);
    if (timed_out) return timeout("sending");
    if (e) return absl::UnavailableError(absl::StrCat("Sending to ", url.host, ": ", e.message()));
    e = RunStep(
        io, deadline,
        [&](auto handler) {
          http::async_read(s, buffer, parser,
                           [handler](beast::error_code err, size_t) mutable { handler(err); });
        },
        close, &timed_out);
    if (timed_out && !parser.is_header_done()) return timeout("waiting for the answer");
    // A body past the cap, or one that did not end in time, is cut: the
    // status is what counts.
    if (e && !parser.is_header_done()) {
      return absl::UnavailableError(
          absl::StrCat("Reading the answer of ", url.host, ": ", e.message()));
    }
    return absl::OkStatus();
  };

  absl::Status exchanged;
  if (url.tls) {
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), impl_->tls);
    auto close_tls = [&] { beast::get_lowest_layer(tls).socket().close(); };
    // SNI names a host: never an address literal (RFC 6066, 3).
    beast::error_code literal_ec;
    asio::ip::make_address(url.host, literal_ec);
    if (literal_ec && !SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
      return absl::UnavailableError(absl::StrCat("Cannot set SNI for ", url.host));
    }
    tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
    ec = RunStep(
        io, connect_deadline,
        [&](auto handler) {
          tls.async_handshake(asio::ssl::stream_base::client,
                              [handler](beast::error_code e) mutable { handler(e); });
        },
        close_tls, &timed_out);
    if (timed_out) return timeout("in the TLS handshake");
    if (ec) {
      return absl::UnavailableError(absl::StrCat("TLS with ", url.host, " failed: ", ec.message()));
    }
    exchanged = exchange(tls, close_tls);
  } else {
    exchanged = exchange(stream, [&] { stream.socket().close(); });
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
  if (!exchanged.ok()) return exchanged;
  WebhookResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  std::string& got = parser.get().body();
  response.body = got.substr(0, std::min(got.size(), kMaxResponseBodyBytes));
  auto location = parser.get().find(http::field::location);
  if (location != parser.get().end()) response.location = std::string(location->value());
  return response;
}

}  // namespace pgxn::origin
