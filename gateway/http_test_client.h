// A blocking HTTP/1.1 test client over one real TCP connection, for the
// HTTP server's tests (not part of any library).
#ifndef PGXN_GATEWAY_HTTP_TEST_CLIENT_H_
#define PGXN_GATEWAY_HTTP_TEST_CLIENT_H_

#include <sys/socket.h>
#include <sys/time.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"

namespace pgxn::gateway::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// How long any blocking read of the test client may take before the test
// fails instead of hanging: a safety net, not a bound on the server.
inline constexpr int kClientTimeoutSeconds = 60;
// A timeout a test wants out of its way: longer than the client waits, so a
// connection the server closes while the client waits was not closed by it.
inline constexpr absl::Duration kOutOfTheWay = absl::Minutes(10);

// A blocking HTTP/1.1 client over one real TCP connection.
class Client {
 public:
  // `from`: the local address to connect from (any of 127/8 is loopback).
  explicit Client(uint16_t port, const std::string& from = "") : socket_(io_) {
    if (!from.empty()) {
      socket_.open(tcp::v4());
      socket_.bind(tcp::endpoint(net::ip::make_address(from), 0));
    }
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    timeval timeout{kClientTimeoutSeconds, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  }

  void WriteRaw(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

  // Sends one request with Host and, if there is a body, Content-Length.
  void Send(http::verb method, const std::string& target, const std::string& body = "",
            std::vector<std::pair<std::string, std::string>> headers = {}, unsigned version = 11) {
    http::request<http::string_body> request(method, target, version);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    if (!body.empty()) request.prepare_payload();
    http::write(socket_, request);
  }

  // Reads one response; `head` says the request was HEAD (no body follows).
  http::response<http::string_body> Read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    parser.skip(head);
    http::read(socket_, buffer_, parser);
    return parser.release();
  }

  http::response<http::string_body> Get(
      const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    Send(http::verb::get, target, "", std::move(headers));
    return Read();
  }

  // Reads raw bytes up to and including the next blank line.
  std::string ReadHeaderBlock() {
    size_t end;
    while ((end = beast::buffers_to_string(buffer_.data()).find("\r\n\r\n")) == std::string::npos) {
      if (ReadMore()) {
        ADD_FAILURE() << "connection ended before a blank line";
        return "";
      }
    }
    std::string block = beast::buffers_to_string(buffer_.data()).substr(0, end + 4);
    buffer_.consume(end + 4);
    return block;
  }

  // Raw bytes up to and including the first `needle`; "" (and a test
  // failure) if the connection ends first.
  std::string ReadUntil(const std::string& needle) {
    size_t end;
    while ((end = beast::buffers_to_string(buffer_.data()).find(needle)) == std::string::npos) {
      if (ReadMore()) {
        ADD_FAILURE() << "connection ended before \"" << needle << "\"";
        return "";
      }
    }
    std::string block = beast::buffers_to_string(buffer_.data()).substr(0, end + needle.size());
    buffer_.consume(end + needle.size());
    return block;
  }

  // Everything until the server closes the connection.
  std::string ReadToEof() {
    beast::error_code ec;
    while (!(ec = ReadMore())) {
    }
    std::string rest = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (ec != net::error::eof) ADD_FAILURE() << "expected EOF, got " << ec.message();
    return rest;
  }

  // Whether the server closed the connection (EOF or reset) rather than the
  // read timing out.
  bool ServerClosed() {
    beast::error_code ec;
    char byte;
    const size_t n = socket_.read_some(net::buffer(&byte, 1), ec);
    return n == 0 && (ec == net::error::eof || ec == net::error::connection_reset);
  }

 private:
  // Appends what one read returns to buffer_; returns the read's error.
  beast::error_code ReadMore() {
    beast::error_code ec;
    const size_t n = socket_.read_some(buffer_.prepare(16 * 1024), ec);
    buffer_.commit(n);
    return ec;
  }

  net::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

}  // namespace pgxn::gateway::testing

#endif  // PGXN_GATEWAY_HTTP_TEST_CLIENT_H_
