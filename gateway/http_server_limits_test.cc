// The HTTP server's limits: per-route body limits, the body-memory budget,
// connection caps with eviction and reserved slots, refused transfer codings,
// default security headers and streamed responses.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gateway/http_server.h"
#include "gateway/http_test_client.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

using testing::Client;
namespace http = boost::beast::http;

class HttpLimitsTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options, Handler handler = nullptr) {
    if (!handler) {
      handler = [this](const Request& request) {
        calls_.fetch_add(1);
        return TextResponse(200, absl::StrCat(request.path, " ", request.body.size()));
      };
    }
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(options), std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> calls_{0};
};

TEST_F(HttpLimitsTest, RouteBodyLimitAppliesToChunkedBodies) {
  HttpServerOptions options;
  options.max_body_bytes = 1 << 20;
  options.body_limit = [](const Request& head) -> uint64_t {
    return head.path == "/upload" ? 1 << 20 : 100;
  };
  Start(options);
  {
    Client client(server_->port());
    client.WriteRaw("POST /form HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n96\r\n" +
                    std::string(150, 'x') + "\r\n0\r\n\r\n");
    const auto response = client.Read();
    EXPECT_EQ(response.result_int(), 413);
    EXPECT_EQ(response.body(),
              "Request body too large: the chunked body exceeds the limit of 100 bytes for "
              "/form\n");
  }
  {
    Client client(server_->port());
    client.WriteRaw("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n");
    EXPECT_EQ(client.Read().result_int(), 413);
  }
  Client client(server_->port());
  client.Send(http::verb::post, "/upload", std::string(5000, 'u'));
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "/upload 5000");
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_EQ(server_->body_bytes_in_flight(), 0u);
}

TEST_F(HttpLimitsTest, BodiesPastTheMemoryBudgetGet503UntilOneFinishes) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  options.max_body_memory = 1500;
  Start(options);
  Client first(server_->port());
  // 990 of 1000 bytes: what arrived is charged until the request is done.
  first.WriteRaw("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" +
                 std::string(990, 'a'));
  while (server_->body_bytes_in_flight() < 990) std::this_thread::yield();
  // A client announcing a large body is charged only what it sends.
  Client announcer(server_->port());
  announcer.WriteRaw("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
  Client second(server_->port());
  second.WriteRaw("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" +
                  std::string(600, 'b'));
  const auto refused = second.Read();
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_EQ(refused[http::field::retry_after], "5");
  EXPECT_TRUE(absl::StrContains(refused.body(), "too many request bodies in flight"))
      << refused.body();
  // A small body still fits beside the first.
  Client third(server_->port());
  third.Send(http::verb::post, "/c", std::string(400, 'c'));
  EXPECT_EQ(third.Read().result_int(), 200);
  first.WriteRaw(std::string(10, 'a'));
  EXPECT_EQ(first.Read().body(), "/a 1000");
  EXPECT_EQ(server_->body_bytes_in_flight(), 0u);
  Client fourth(server_->port());
  fourth.Send(http::verb::post, "/d", std::string(1000, 'd'));
  EXPECT_EQ(fourth.Read().result_int(), 200);
}

TEST_F(HttpLimitsTest, EndlessChunkExtensionIsRefusedNotBuffered) {
  HttpServerOptions options;
  options.max_body_bytes = 100;
  Start(options);
  Client client(server_->port());
  client.WriteRaw("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;x=");
  bool open = true;
  for (int i = 0; i < 64 && open; ++i) {  // up to 16 MiB, never a line end
    try {
      client.WriteRaw(std::string(256 * 1024, 'x'));
    } catch (const std::exception&) {
      open = false;  // the server closed the connection
    }
  }
  if (open) {
    const auto response = client.Read();
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(response.body(), "Bad request: a chunk header or trailer is too long\n");
  }
  EXPECT_EQ(calls_.load(), 0);
  EXPECT_EQ(server_->body_bytes_in_flight(), 0u);
}

TEST_F(HttpLimitsTest, UnknownTransferEncodingGets501AndCloses) {
  Start(HttpServerOptions());
  for (const std::string coding : {"gzip", "gzip, chunked", "identity", "chunked, gzip"}) {
    Client client(server_->port());
    client.WriteRaw(absl::StrCat("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ", coding,
                                 "\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"));
    const auto response = client.Read();
    EXPECT_EQ(response.result_int(), 501) << coding;
    EXPECT_FALSE(response.keep_alive()) << coding;
    EXPECT_TRUE(client.ServerClosed()) << coding;
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpLimitsTest, PathThatIsNotUtf8Gets400) {
  Start(HttpServerOptions());
  Client client(server_->port());
  const auto response = client.Get("/user/%FF%FE");
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(response.body(), "Bad request: Request path is not valid UTF-8: \"/user/%FF%FE\"\n");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpLimitsTest, EveryResponseGetsSecurityHeadersUnlessItHasItsOwn) {
  Start(HttpServerOptions(), [](const Request& request) {
    Response response = TextResponse(200, "<p>hi</p>");
    if (request.path != "/text") response.SetHeader("Content-Type", "text/html; charset=utf-8");
    if (request.path == "/own") {
      response.SetHeader("Content-Security-Policy", "default-src 'self'");
      response.SetHeader("Referrer-Policy", "no-referrer");
    }
    return response;
  });
  Client client(server_->port());
  const auto html = client.Get("/html");
  EXPECT_EQ(html["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(html["Referrer-Policy"], "same-origin");
  const std::string policy(html["Content-Security-Policy"]);
  EXPECT_TRUE(absl::StartsWith(policy, "default-src 'none';")) << policy;
  EXPECT_FALSE(absl::StrContains(policy, "script")) << policy;
  const auto text = client.Get("/text");
  EXPECT_EQ(text["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(text["Content-Security-Policy"], "");
  const auto own = client.Get("/own");
  EXPECT_EQ(own["Content-Security-Policy"], "default-src 'self'");
  EXPECT_EQ(own["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(client.Get("/missing-handler-headers")["X-Content-Type-Options"],
            "nosniff");
}

// A streamed body of `size` bytes whose byte i is 'a' + i % 26, counting the
// largest piece asked for.
Response Streamed(uint64_t size, std::atomic<size_t>* largest) {
  Response response;
  response.SetHeader("Content-Type", "application/zip");
  response.stream_size = size;
  response.stream = [largest](uint64_t offset, size_t max_bytes) -> absl::StatusOr<std::string> {
    size_t seen = largest->load();
    while (max_bytes > seen && !largest->compare_exchange_weak(seen, max_bytes)) {
    }
    std::string piece(max_bytes, '\0');
    for (size_t i = 0; i < max_bytes; ++i) piece[i] = static_cast<char>('a' + (offset + i) % 26);
    return piece;
  };
  return response;
}

TEST_F(HttpLimitsTest, StreamedBodyArrivesWholeInBoundedPieces) {
  std::atomic<size_t> largest{0};
  constexpr uint64_t kSize = 3 * 1024 * 1024 + 17;
  Start(HttpServerOptions(), [&largest](const Request& request) {
    if (request.path == "/broken") {
      Response response;
      response.stream_size = 200 * 1024;
      response.stream = [](uint64_t offset, size_t) -> absl::StatusOr<std::string> {
        if (offset > 0) return absl::DataLossError("chunk missing");
        return std::string(64 * 1024, 'x');
      };
      return response;
    }
    return Streamed(kSize, &largest);
  });
  Client client(server_->port());
  const auto response = client.Get("/zip");
  ASSERT_EQ(response.result_int(), 200);
  ASSERT_EQ(response.body().size(), kSize);
  for (size_t i = 0; i < kSize; i += 4099) {
    ASSERT_EQ(response.body()[i], static_cast<char>('a' + i % 26)) << i;
  }
  EXPECT_LE(largest.load(), 64u * 1024);
  EXPECT_TRUE(response.keep_alive());
  // The same connection carries a HEAD with the length and no body.
  client.Send(http::verb::head, "/zip");
  const auto head = client.Read(/*head=*/true);
  EXPECT_EQ(head[http::field::content_length], std::to_string(kSize));
  // A reader that fails midway ends the connection short of the length.
  Client broken(server_->port());
  broken.WriteRaw("GET /broken HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string received = broken.ReadToEof();
  EXPECT_TRUE(absl::StrContains(received, "Content-Length: 204800")) << received.substr(0, 200);
  EXPECT_LT(received.size(), 200u * 1024);
}

TEST_F(HttpLimitsTest, NewConnectionAtTheCapEvictsTheLongestIdle) {
  HttpServerOptions options;
  options.max_connections = 2;
  options.reserved_connections = 0;
  Start(options);
  Client oldest(server_->port());
  EXPECT_EQ(oldest.Get("/one").result_int(), 200);
  // The oldest must be idle before the newer is: a connection is idle once
  // the server has finished writing its response, a moment after the client
  // read it, and on a loaded machine the newer's whole exchange can fit in
  // that moment (the newer is then the longest idle, rightly evicted).
  while (server_->idle_connections() < 1) std::this_thread::yield();
  Client newer(server_->port());
  EXPECT_EQ(newer.Get("/two").result_int(), 200);
  // A connection becomes idle once its response is written, a moment after
  // the client has read it; until then a newcomer finds none to evict and
  // is turned away (503, or a reset if it had written its request).
  int status = 0;
  while (status != 200) {
    Client third(server_->port());
    try {
      status = third.Get("/three").result_int();
    } catch (const std::exception&) {
      status = 0;
    }
    if (status != 200) EXPECT_TRUE(status == 503 || status == 0) << status;
  }
  EXPECT_TRUE(oldest.ServerClosed());
  EXPECT_EQ(newer.Get("/again").result_int(), 200);
}

TEST_F(HttpLimitsTest, ReservedSlotsServeOnlyStatusWhenNoneIsIdle) {
  absl::Notification release;
  absl::Notification entered;
  HttpServerOptions options;
  options.max_connections = 1;
  options.reserved_connections = 1;
  Start(options, [&](const Request& request) {
    if (request.path == "/slow") {
      entered.Notify();
      release.WaitForNotification();
    }
    return TextResponse(200, request.path);
  });
  Client busy(server_->port());
  busy.WriteRaw("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  entered.WaitForNotification();
  {
    Client status(server_->port());
    const auto response = status.Get("/_status");
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_FALSE(response.keep_alive());
  }
  {
    Client other(server_->port());
    const auto response = other.Get("/page");
    EXPECT_EQ(response.result_int(), 503);
    EXPECT_EQ(response[http::field::retry_after], "5");
  }
  // A client that holds the reserved slot with a header it never finishes
  // gives it up to the next one, once it has had its grace second. (The two
  // clients above must be gone first, or the holder finds the slot taken.)
  while (server_->open_connections() > 1) std::this_thread::yield();
  Client holder(server_->port());
  holder.WriteRaw("GET /_status HTTP/1.1\r\n");
  absl::SleepFor(absl::Milliseconds(1100));  // the server's grace, not a bound on it
  Client status(server_->port());
  EXPECT_EQ(status.Get("/_status").result_int(), 200);
  EXPECT_TRUE(holder.ServerClosed());
  release.Notify();
  EXPECT_EQ(busy.Read().body(), "/slow");
}

TEST_F(HttpLimitsTest, OneAddressCannotTakeEveryConnection) {
  absl::Notification release;
  std::atomic<int> waiting{0};
  HttpServerOptions options;
  options.max_connections_per_address = 2;
  Start(options, [&](const Request& request) {
    if (request.path == "/slow") {
      waiting.fetch_add(1);
      release.WaitForNotification();
    }
    return TextResponse(200, request.path);
  });
  Client a(server_->port(), "127.0.0.2");
  Client b(server_->port(), "127.0.0.2");
  a.WriteRaw("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  b.WriteRaw("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  while (waiting.load() < 2) std::this_thread::yield();
  Client c(server_->port(), "127.0.0.2");
  const auto refused = c.Get("/x");
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_TRUE(absl::StrContains(refused.body(), "Too many connections")) << refused.body();
  // Another address is not affected.
  Client d(server_->port(), "127.0.0.3");
  EXPECT_EQ(d.Get("/y").result_int(), 200);
  release.Notify();
  EXPECT_EQ(a.Read().result_int(), 200);
  EXPECT_EQ(b.Read().result_int(), 200);
}

}  // namespace
}  // namespace pgxn::gateway
