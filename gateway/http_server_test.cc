#include "gateway/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gateway/http_test_client.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

using testing::Client;
using testing::kClientTimeoutSeconds;
using testing::kOutOfTheWay;

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Echoes what the handler saw, one "key=value" line each.
Response Echo(const Request& request) {
  std::string body = absl::StrCat("method=", request.method, "\ntarget=", request.target,
                                  "\npath=", request.path, "\nquery=", request.query,
                                  "\nbody=", request.body.view(), "\nremote=", request.remote_address);
  for (const auto& [name, value] : request.headers) absl::StrAppend(&body, "\n", name, ": ", value);
  return TextResponse(200, body);
}

// Every test runs with both ways of sharing the I/O threads
// (HttpServerOptions::loop_per_thread).
class HttpServerTest : public ::testing::TestWithParam<bool> {
 protected:
  void StartServer(Handler handler, HttpServerOptions options = {}) {
    options.loop_per_thread = GetParam();
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(options), std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_NE(server_->port(), 0);
  }

  // Starts a server whose handler counts its calls and echoes the request.
  void StartEchoServer(HttpServerOptions options = {}) {
    StartServer(
        [this](const Request& request) {
          calls_.fetch_add(1);
          return Echo(request);
        },
        std::move(options));
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> calls_{0};
};

TEST_P(HttpServerTest, TwoRequestsOnOneKeepAliveConnection) {
  StartEchoServer();
  Client client(server_->port());
  for (const std::string target : {"/first", "/second"}) {
    const auto response = client.Get(target);
    EXPECT_EQ(response.result_int(), 200) << target;
    EXPECT_TRUE(absl::StrContains(response.body(), "path=" + target)) << response.body();
    EXPECT_EQ(response[http::field::server], "pgxnd") << target;
    EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()))
        << target;
    EXPECT_FALSE(response[http::field::date].empty()) << target;
    EXPECT_TRUE(response.keep_alive()) << target;
  }
  EXPECT_EQ(calls_.load(), 2);
}

TEST_P(HttpServerTest, HandlerSeesTheDecodedRequest) {
  StartEchoServer();
  Client client(server_->port());
  client.Send(http::verb::post, "/tag/key%20value.json?q=a+b&x=%41", "payload",
              {{"X-Mixed-Case", "Value"}});
  const auto response = client.Read();
  ASSERT_EQ(response.result_int(), 200);
  const std::string& body = response.body();
  EXPECT_TRUE(absl::StrContains(body, "method=POST\n")) << body;
  EXPECT_TRUE(absl::StrContains(body, "target=/tag/key%20value.json?q=a+b&x=%41\n")) << body;
  EXPECT_TRUE(absl::StrContains(body, "path=/tag/key value.json\n")) << body;
  EXPECT_TRUE(absl::StrContains(body, "query=q=a+b&x=%41\n")) << body;
  EXPECT_TRUE(absl::StrContains(body, "body=payload\n")) << body;
  EXPECT_TRUE(absl::StrContains(body, "remote=127.0.0.1:")) << body;
  EXPECT_TRUE(absl::StrContains(body, "\nx-mixed-case: Value")) << body;
  EXPECT_TRUE(absl::StrContains(body, "\nhost: 127.0.0.1")) << body;
}

TEST_P(HttpServerTest, AbsoluteFormTargetIsReducedToItsPath) {
  StartEchoServer();
  const struct {
    std::string target;
    std::string path;
    std::string query;
  } kCases[] = {
      {"http://example.org/dist/pair.json?x=1", "/dist/pair.json", "x=1"},
      {"HTTP://example.org", "/", ""},
      {"http://example.org?x=1", "/", "x=1"},
  };
  for (const auto& c : kCases) {
    Client client(server_->port());
    const auto response = client.Get(c.target);
    ASSERT_EQ(response.result_int(), 200) << c.target;
    EXPECT_TRUE(absl::StrContains(response.body(), "\npath=" + c.path + "\n")) << c.target;
    EXPECT_TRUE(absl::StrContains(response.body(), "\nquery=" + c.query + "\n")) << c.target;
  }
}

TEST_P(HttpServerTest, HeadGivesContentLengthWithoutBody) {
  StartServer([](const Request&) { return TextResponse(200, "hello world"); });
  Client client(server_->port());
  client.WriteRaw("HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const std::string raw = client.ReadToEof();
  EXPECT_TRUE(absl::StartsWith(raw, "HTTP/1.1 200 OK\r\n")) << raw;
  EXPECT_TRUE(absl::StrContains(raw, "Content-Length: 11\r\n")) << raw;
  EXPECT_TRUE(absl::EndsWith(raw, "\r\n\r\n")) << raw;
  EXPECT_FALSE(absl::StrContains(raw, "hello")) << raw;
}

TEST_P(HttpServerTest, HeadThenGetOnOneConnection) {
  StartServer([](const Request&) { return TextResponse(200, "hello world"); });
  Client client(server_->port());
  client.Send(http::verb::head, "/x");
  const auto head = client.Read(/*head=*/true);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[http::field::content_length], "11");
  const auto get = client.Get("/x");
  EXPECT_EQ(get.result_int(), 200);
  EXPECT_EQ(get.body(), "hello world");
}

TEST_P(HttpServerTest, NotModifiedAndNoContentHaveNoBody) {
  StartServer([](const Request& request) {
    Response response = TextResponse(request.path == "/304" ? 304 : 204, "ignored");
    response.SetHeader("ETag", "\"abc\"");
    return response;
  });
  Client client(server_->port());
  for (const std::string target : {"/304", "/204", "/304"}) {
    client.Send(http::verb::get, target);
    const std::string header = client.ReadHeaderBlock();
    EXPECT_TRUE(absl::StartsWith(header, "HTTP/1.1 " + target.substr(1))) << header;
    EXPECT_TRUE(absl::StrContains(header, "ETag: \"abc\"\r\n")) << header;
    EXPECT_FALSE(absl::StrContains(header, "Content-Length")) << header;
  }
  // Had a body been sent, it would be read here as the start of this response.
  const auto response = client.Get("/304");
  EXPECT_EQ(response.result_int(), 304);
}

TEST_P(HttpServerTest, ServerOwnsFramingHeaders) {
  StartServer([](const Request&) {
    Response response = TextResponse(200, "body");
    response.SetHeader("Content-Length", "999");
    response.SetHeader("Connection", "close");
    response.SetHeader("Server", "other");
    response.SetHeader("X-Custom", "kept");
    return response;
  });
  Client client(server_->port());
  const auto first = client.Get("/");
  EXPECT_EQ(first[http::field::content_length], "4");
  EXPECT_EQ(first[http::field::server], "pgxnd");
  EXPECT_EQ(first["X-Custom"], "kept");
  EXPECT_TRUE(first.keep_alive());
  EXPECT_EQ(client.Get("/").body(), "body");
}

TEST_P(HttpServerTest, OversizeContentLengthGets413WithoutReadingTheBody) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartEchoServer(options);
  Client client(server_->port());
  // Only the header goes out: the server must answer without waiting for the body.
  client.WriteRaw("PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(response.body(),
            "Request body too large: 5000 bytes exceeds the limit of 1000 bytes for /upload\n");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.ServerClosed());
  EXPECT_EQ(calls_.load(), 0);
}

TEST_P(HttpServerTest, BodyAtTheLimitIsAccepted) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartEchoServer(options);
  Client client(server_->port());
  client.Send(http::verb::post, "/upload", std::string(1000, 'x'));
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(absl::StrContains(response.body(), "body=" + std::string(1000, 'x') + "\n"));
}

TEST_P(HttpServerTest, ChunkedBodyPastTheLimitGets413) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartEchoServer(options);
  Client client(server_->port());
  client.WriteRaw(
      "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "258\r\n" +
      std::string(600, 'a') + "\r\n258\r\n" + std::string(600, 'b') + "\r\n0\r\n\r\n");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 413);
  EXPECT_EQ(response.body(),
            "Request body too large: the chunked body exceeds the limit of 1000 bytes for /upload\n");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_P(HttpServerTest, ChunkedBodyWithinTheLimitIsDecoded) {
  StartEchoServer();
  Client client(server_->port());
  client.WriteRaw(
      "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(absl::StrContains(response.body(), "body=abcde\n")) << response.body();
}

TEST_P(HttpServerTest, ExpectContinueGets100ThenTheAnswer) {
  StartEchoServer();
  Client client(server_->port());
  client.WriteRaw(
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.ReadHeaderBlock(), "HTTP/1.1 100 Continue\r\n\r\n");
  client.WriteRaw("hello");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(absl::StrContains(response.body(), "body=hello\n")) << response.body();
  EXPECT_TRUE(absl::StrContains(response.body(), "expect: 100-continue")) << response.body();
}

TEST_P(HttpServerTest, ExpectContinueWithOversizeBodyGets413Only) {
  HttpServerOptions options;
  options.max_body_bytes = 10;
  StartEchoServer(options);
  Client client(server_->port());
  client.WriteRaw(
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
  const std::string header = client.ReadHeaderBlock();
  EXPECT_TRUE(absl::StartsWith(header, "HTTP/1.1 413 ")) << header;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_P(HttpServerTest, ScreenRefusesBeforeTheBodyIsRead) {
  HttpServerOptions options;
  options.screen = [](const Request& head) -> absl::optional<Response> {
    EXPECT_TRUE(head.body.empty());
    if (head.path == "/upload" && head.Header("authorization").empty()) {
      return TextResponse(401, "Authorization required");
    }
    return absl::nullopt;
  };
  StartEchoServer(options);
  {
    Client client(server_->port());
    client.WriteRaw(
        "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5000000\r\n"
        "Expect: 100-continue\r\n\r\n");
    const std::string header = client.ReadHeaderBlock();
    EXPECT_TRUE(absl::StartsWith(header, "HTTP/1.1 401 ")) << header;
    EXPECT_EQ(calls_.load(), 0);
  }
  // Let through, the request reaches the handler with its body.
  Client client(server_->port());
  client.WriteRaw(
      "POST /upload HTTP/1.1\r\nHost: a\r\nAuthorization: Basic eDp5\r\n"
      "Content-Length: 5\r\n\r\nhello");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(absl::StrContains(response.body(), "body=hello\n")) << response.body();
}

TEST_P(HttpServerTest, UnknownExpectationGets417) {
  StartEchoServer();
  Client client(server_->port());
  client.WriteRaw("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: magic\r\n\r\n");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 417);
  EXPECT_EQ(response.body(), "Unsupported expectation: magic\n");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_P(HttpServerTest, MalformedRequestsGet400AndClose) {
  StartEchoServer();
  const std::string kRequests[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9\r\n\r\n",
      "GET /\r\n\r\n",
      "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  for (const std::string& request : kRequests) {
    Client client(server_->port());
    client.WriteRaw(request);
    const std::string raw = client.ReadToEof();
    EXPECT_TRUE(absl::StartsWith(raw, "HTTP/1.1 400 Bad Request\r\n")) << request << " -> " << raw;
    EXPECT_TRUE(absl::StrContains(raw, "\r\n\r\nBad request: ")) << request << " -> " << raw;
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_P(HttpServerTest, BadPathsGet400NamingTheProblem) {
  StartEchoServer();
  const struct {
    std::string target;
    std::string body;
  } kCases[] = {
      {"/dist/../etc/passwd",
       "Bad request: Request path must not contain a \"..\" segment: \"/dist/../etc/passwd\"\n"},
      {"/%2e%2e/x", "Bad request: Request path must not contain a \"..\" segment: \"/%2e%2e/x\"\n"},
      {"/a%00b", "Bad request: Request path must not contain a NUL byte: \"/a%00b\"\n"},
      {"/a%5cb", "Bad request: Request path must not contain a backslash: \"/a%5cb\"\n"},
      {"/a%zz", "Bad request: Invalid percent-escape \"%zz\" in request path \"/a%zz\"\n"},
      {"*", "Bad request: Request path must start with '/': \"*\"\n"},
  };
  for (const auto& c : kCases) {
    Client client(server_->port());
    client.WriteRaw("GET " + c.target + " HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto response = client.Read();
    EXPECT_EQ(response.result_int(), 400) << c.target;
    EXPECT_EQ(response.body(), c.body) << c.target;
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_P(HttpServerTest, OversizeHeaderGets431) {
  StartEchoServer();
  Client client(server_->port());
  client.WriteRaw("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(40 * 1024, 'x') +
                  "\r\n\r\n");
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 431);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_P(HttpServerTest, ThrowingHandlerGets500AndServerKeepsServing) {
  StartServer([](const Request& request) -> Response {
    if (request.path == "/throw") throw std::runtime_error("boom");
    if (request.path == "/throw-int") throw 42;
    if (request.path == "/bad-status") return TextResponse(42, "");
    if (request.path == "/bad-header") {
      Response response = TextResponse(200, "");
      response.SetHeader("X-Injected", "a\r\nSet-Cookie: evil");
      return response;
    }
    return TextResponse(200, "fine");
  });
  Client client(server_->port());
  for (const std::string target : {"/throw", "/throw-int", "/bad-status", "/bad-header"}) {
    const auto failed = client.Get(target);
    EXPECT_EQ(failed.result_int(), 500) << target;
    EXPECT_EQ(failed.body(), "Internal server error\n") << target;
    EXPECT_EQ(failed.count("Set-Cookie"), 0u) << target;
    const auto ok = client.Get("/ok");
    EXPECT_EQ(ok.result_int(), 200) << "after " << target;
    EXPECT_EQ(ok.body(), "fine") << "after " << target;
  }
}

TEST_P(HttpServerTest, ConnectionCloseAndHttp10) {
  StartEchoServer();
  const struct {
    std::string name;
    unsigned version;
    std::vector<std::pair<std::string, std::string>> headers;
    bool keep_alive;
  } kCases[] = {
      {"HTTP/1.1", 11, {}, true},
      {"HTTP/1.1 Connection: close", 11, {{"Connection", "close"}}, false},
      {"HTTP/1.0", 10, {}, false},
      {"HTTP/1.0 Connection: keep-alive", 10, {{"Connection", "keep-alive"}}, true},
  };
  for (const auto& c : kCases) {
    Client client(server_->port());
    client.Send(http::verb::get, "/", "", c.headers, c.version);
    const auto response = client.Read();
    EXPECT_EQ(response.result_int(), 200) << c.name;
    EXPECT_EQ(response.keep_alive(), c.keep_alive) << c.name;
    if (c.keep_alive) {
      client.Send(http::verb::get, "/again", "", c.headers, c.version);
      EXPECT_EQ(client.Read().result_int(), 200) << c.name;
    } else {
      EXPECT_TRUE(client.ServerClosed()) << c.name;
    }
  }
}

TEST_P(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartEchoServer();
  Client client(server_->port());
  client.WriteRaw(
      "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "GET /three HTTP/1.1\r\nHost: a\r\n\r\n");
  for (const std::string path : {"/one", "/two", "/three"}) {
    const auto response = client.Read();
    EXPECT_TRUE(absl::StrContains(response.body(), "path=" + path + "\n")) << response.body();
  }
}

TEST_P(HttpServerTest, SlowHeaderIsCutOff) {
  HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(200);
  options.idle_timeout = kOutOfTheWay;
  StartEchoServer(options);
  Client client(server_->port());
  client.WriteRaw("GET / HTTP/1.1\r\nHost: a\r\n");  // and never the blank line
  EXPECT_TRUE(client.ServerClosed());
  EXPECT_EQ(calls_.load(), 0);
}

TEST_P(HttpServerTest, SilentConnectionIsCutOff) {
  HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(200);
  options.idle_timeout = kOutOfTheWay;
  StartEchoServer(options);
  Client client(server_->port());
  EXPECT_TRUE(client.ServerClosed());
}

TEST_P(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = absl::Milliseconds(200);
  options.read_timeout = kOutOfTheWay;
  StartEchoServer(options);
  Client client(server_->port());
  EXPECT_EQ(client.Get("/").result_int(), 200);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_P(HttpServerTest, StopReturnsPromptlyWithAnIdleKeepAliveConnection) {
  // With every timeout and the grace out of the way, only Stop can close
  // them, and only by not waiting for them.
  HttpServerOptions options;
  options.read_timeout = kOutOfTheWay;
  options.idle_timeout = kOutOfTheWay;
  options.stop_grace = kOutOfTheWay;
  StartEchoServer(options);
  Client idle(server_->port());
  EXPECT_EQ(idle.Get("/").result_int(), 200);
  Client silent(server_->port());  // connected, never sends anything
  std::thread stopper([this] { server_->Stop(); });
  EXPECT_TRUE(idle.ServerClosed());
  EXPECT_TRUE(silent.ServerClosed());
  stopper.join();
  server_->Stop();  // idempotent
}

TEST_P(HttpServerTest, StopLetsARequestInFlightFinish) {
  absl::Notification entered;
  absl::Notification release;
  HttpServerOptions options;
  options.stop_grace = kOutOfTheWay;  // however long the test takes to release it
  StartServer(
      [&](const Request& request) {
        if (request.path == "/slow") {
          entered.Notify();
          release.WaitForNotification();
        }
        return TextResponse(200, "finished");
      },
      options);
  Client idle(server_->port());
  EXPECT_EQ(idle.Get("/").result_int(), 200);
  Client busy(server_->port());
  busy.Send(http::verb::get, "/slow");
  entered.WaitForNotification();
  std::thread stopper([this] { server_->Stop(); });
  // The idle connection closing shows that Stop is under way while /slow is
  // still in its handler.
  EXPECT_TRUE(idle.ServerClosed());
  release.Notify();
  const auto response = busy.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "finished");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(busy.ServerClosed());
  stopper.join();
}

TEST_P(HttpServerTest, StopCutsOffARequestThatOverrunsTheGrace) {
  HttpServerOptions options;
  options.stop_grace = absl::Milliseconds(100);
  options.read_timeout = kOutOfTheWay;  // only the grace can end the request
  StartEchoServer(options);
  Client client(server_->port());
  client.WriteRaw("GET / HTTP/1.1\r\nHost: a\r\n");  // a header that never ends
  // Serving a later connection gives the server time to take this one in.
  Client probe(server_->port());
  EXPECT_EQ(probe.Get("/").result_int(), 200);
  std::thread stopper([this] { server_->Stop(); });
  EXPECT_TRUE(client.ServerClosed());
  stopper.join();
  EXPECT_EQ(calls_.load(), 1);
}

TEST_P(HttpServerTest, LargeBodiesRoundTrip) {
  StartServer([](const Request& request) {
    return TextResponse(200, std::string(request.body.view().rbegin(), request.body.view().rend()));
  });
  std::string body(3 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  Client client(server_->port());
  client.Send(http::verb::put, "/big", body);
  const auto response = client.Read();
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), std::string(body.rbegin(), body.rend()));
}

TEST_P(HttpServerTest, StopRefusesNewConnections) {
  StartEchoServer();
  const uint16_t port = server_->port();
  server_->Stop();
  net::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_EQ(ec, net::error::connection_refused) << ec.message();
}

TEST_P(HttpServerTest, ConcurrentClients) {
  HttpServerOptions options;
  options.threads = 3;
  StartEchoServer(options);
  constexpr int kClients = 8;
  constexpr int kRequests = 25;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      Client client(server_->port());
      for (int r = 0; r < kRequests; ++r) {
        const std::string path = absl::StrCat("/client/", c, "/request/", r);
        const auto response = client.Get(path);
        if (response.result_int() == 200 &&
            absl::StrContains(response.body(), "path=" + path + "\n")) {
          good.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(good.load(), kClients * kRequests);
  EXPECT_EQ(calls_.load(), kClients * kRequests);
}

INSTANTIATE_TEST_SUITE_P(Loops, HttpServerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "LoopPerThread" : "SharedLoop";
                         });

TEST(HttpServerStartTest, PortInUseIsUnavailable) {
  absl::StatusOr<std::unique_ptr<HttpServer>> first =
      HttpServer::Start({}, [](const Request&) { return TextResponse(200, ""); });
  ASSERT_TRUE(first.ok()) << first.status();
  HttpServerOptions options;
  options.port = (*first)->port();
  absl::StatusOr<std::unique_ptr<HttpServer>> second =
      HttpServer::Start(options, [](const Request&) { return TextResponse(200, ""); });
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(),
                                absl::StrCat("Cannot listen for HTTP on 127.0.0.1:", options.port)))
      << second.status();
  // The reason the system gave, not a stand-in.
  EXPECT_TRUE(absl::StrContains(second.status().message(), "Address already in use"))
      << second.status();
}

TEST(HttpServerStartTest, RejectsBadOptions) {
  const auto handler = [](const Request&) { return TextResponse(200, ""); };
  const struct {
    std::string name;
    HttpServerOptions options;
    std::string message;
  } kCases[] = {
      {"unresolvable host", {.host = "no-such-host.invalid"}, "Cannot resolve HTTP host"},
      {"empty host", {.host = ""}, "HTTP host must not be empty"},
      {"no threads", {.threads = 0}, "HTTP server threads must be 1 to 1024, not 0"},
      {"zero read timeout",
       {.read_timeout = absl::ZeroDuration()},
       "HTTP server read_timeout must be positive and finite, not 0"},
      {"infinite idle timeout",
       {.idle_timeout = absl::InfiniteDuration()},
       "HTTP server idle_timeout must be positive and finite, not inf"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(c.options, handler);
    ASSERT_FALSE(server.ok()) << c.name;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_TRUE(absl::StartsWith(server.status().message(), c.message))
        << c.name << ": " << server.status();
  }
  absl::StatusOr<std::unique_ptr<HttpServer>> no_handler = HttpServer::Start({}, nullptr);
  EXPECT_EQ(no_handler.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pgxn::gateway
