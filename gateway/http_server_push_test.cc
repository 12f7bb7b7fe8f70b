// The server's open-ended responses (BodyStream, http.h): pieces pushed from
// another thread go out as chunks as they come, the end is a last chunk, and
// the stream hears of every way its response can end.
#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/http.h"
#include "gateway/http_server.h"
#include "gateway/http_test_client.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

using testing::Client;
namespace http = boost::beast::http;

// A stream fed by the test: Push queues a piece and wakes the server, Finish
// ends the body after what is queued.
class QueueStream final : public BodyStream {
 public:
  void SetWaker(std::function<void()> wake) override {
    absl::MutexLock lock(&mu_);
    wake_ = std::move(wake);
  }
  Piece Next() override {
    absl::MutexLock lock(&mu_);
    ++next_calls_;
    Piece piece;
    if (!queue_.empty()) {
      piece.bytes = std::move(queue_.front());
      queue_.pop_front();
    }
    piece.done = finished_ && queue_.empty();
    return piece;
  }
  // Lets go of the waker, as BodyStream asks: it holds the connection's
  // executor, which must not outlive the server's io_context (this stream
  // outlives the server in the fixture).
  void Close() override {
    absl::MutexLock lock(&mu_);
    ++close_calls_;
    wake_ = nullptr;
    if (!closed_.HasBeenNotified()) closed_.Notify();
  }

  void Push(std::string piece) {
    std::function<void()> wake;
    {
      absl::MutexLock lock(&mu_);
      queue_.push_back(std::move(piece));
      wake = wake_;
    }
    if (wake) wake();
  }
  void Finish() {
    std::function<void()> wake;
    {
      absl::MutexLock lock(&mu_);
      finished_ = true;
      wake = wake_;
    }
    if (wake) wake();
  }
  bool WaitClosed(absl::Duration timeout = absl::Seconds(60)) {
    return closed_.WaitForNotificationWithTimeout(timeout);
  }
  int close_calls() {
    absl::MutexLock lock(&mu_);
    return close_calls_;
  }
  int next_calls() {
    absl::MutexLock lock(&mu_);
    return next_calls_;
  }

 private:
  absl::Mutex mu_;
  std::function<void()> wake_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  int next_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int close_calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification closed_;
};

// Every test runs with both ways of sharing the I/O threads
// (HttpServerOptions::loop_per_thread).
class HttpServerPushTest : public ::testing::TestWithParam<bool> {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.loop_per_thread = GetParam();
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
        std::move(options), [this](const Request& request) {
          if (request.path != "/events") return TextResponse(200, "plain\n");
          Response response;
          response.SetHeader("Content-Type", "text/event-stream");
          response.push = stream_;
          return response;
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::shared_ptr<QueueStream> stream_ = std::make_shared<QueueStream>();
  std::unique_ptr<HttpServer> server_;
};

TEST_P(HttpServerPushTest, PiecesGoOutAsChunksAsTheyComeThenTheConnectionGoesOn) {
  Start();
  Client client(server_->port());
  client.Send(http::verb::get, "/events");
  const std::string header = client.ReadHeaderBlock();
  EXPECT_NE(header.find("Transfer-Encoding: chunked"), std::string::npos) << header;
  EXPECT_EQ(header.find("Content-Length"), std::string::npos) << header;
  // A pushed response gets the same default headers as any other.
  EXPECT_NE(header.find("X-Content-Type-Options: nosniff\r\n"), std::string::npos) << header;
  EXPECT_NE(header.find("Referrer-Policy: same-origin\r\n"), std::string::npos) << header;
  // Each piece arrives before the next one exists: nothing waits for a full
  // buffer or the end.
  for (int i = 0; i < 5; ++i) {
    const std::string piece = absl::StrCat("data: ", i, "\n\n");
    stream_->Push(piece);
    EXPECT_EQ(client.ReadUntil(piece), absl::StrCat(absl::Hex(piece.size()), "\r\n", piece));
    EXPECT_EQ(client.ReadUntil("\r\n"), "\r\n");
  }
  stream_->Finish();
  EXPECT_EQ(client.ReadUntil("0\r\n\r\n"), "0\r\n\r\n");
  ASSERT_TRUE(stream_->WaitClosed());
  // Keep-alive: the same connection answers the next request.
  EXPECT_EQ(client.Get("/other").body(), "plain\n");
  EXPECT_EQ(stream_->close_calls(), 1);
}

// A stream that gives one piece and ends with it, each time it is asked.
class OnePieceStream final : public BodyStream {
 public:
  explicit OnePieceStream(std::string piece) : piece_(std::move(piece)) {}
  void SetWaker(std::function<void()>) override {}
  Piece Next() override { return Piece{piece_, true}; }
  void Close() override {}

 private:
  std::string piece_;
};

INSTANTIATE_TEST_SUITE_P(Loops, HttpServerPushTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "LoopPerThread" : "SharedLoop";
                         });

TEST(HttpServerPushSequenceTest, ASecondStreamOnAConnectionIsWholeAfterOneThatEndedWithAPiece) {
  std::atomic<int> served{0};
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start({}, [&served](const Request&) {
        Response response;
        response.push = std::make_shared<OnePieceStream>(absl::StrCat("piece ", ++served, "\n"));
        return response;
      });
  ASSERT_TRUE(server.ok()) << server.status();
  Client client((*server)->port());
  for (int i = 1; i <= 3; ++i) {
    client.Send(http::verb::get, "/");
    client.ReadHeaderBlock();
    const std::string piece = absl::StrCat("piece ", i, "\n");
    EXPECT_EQ(client.ReadUntil("0\r\n\r\n"),
              absl::StrCat(absl::Hex(piece.size()), "\r\n", piece, "\r\n0\r\n\r\n"))
        << "response " << i;
  }
}

TEST_P(HttpServerPushTest, Http10GetsThePiecesPlainAndTheConnectionCloses) {
  Start();
  Client client(server_->port());
  client.Send(http::verb::get, "/events", "", {}, 10);
  const std::string header = client.ReadHeaderBlock();
  EXPECT_EQ(header.find("chunked"), std::string::npos) << header;
  stream_->Push("one\n");
  stream_->Push("two\n");
  stream_->Finish();
  EXPECT_EQ(client.ReadToEof(), "one\ntwo\n");
  ASSERT_TRUE(stream_->WaitClosed());
}

TEST_P(HttpServerPushTest, AClientThatLeavesClosesTheStream) {
  Start();
  {
    Client client(server_->port());
    client.Send(http::verb::get, "/events");
    client.ReadHeaderBlock();
    stream_->Push("x\n");
    client.ReadUntil("x\n");
  }
  // The server learns of the close at a write: push until it does.
  for (int pushed = 0; pushed < 600 && !stream_->WaitClosed(absl::Milliseconds(100)); ++pushed) {
    stream_->Push("y\n");
  }
  EXPECT_EQ(stream_->close_calls(), 1);
}

TEST_P(HttpServerPushTest, StopEndsAWaitingStreamAtOnce) {
  HttpServerOptions options;
  options.stop_grace = testing::kOutOfTheWay;  // only a prompt end keeps Stop short
  Start(options);
  Client client(server_->port());
  client.Send(http::verb::get, "/events");
  client.ReadHeaderBlock();
  stream_->Push("x\n");
  client.ReadUntil("x\n\r\n");
  std::thread stopper([this] { server_->Stop(); });
  EXPECT_EQ(client.ReadUntil("0\r\n\r\n"), "0\r\n\r\n");
  EXPECT_TRUE(client.ServerClosed());
  stopper.join();
  EXPECT_TRUE(stream_->WaitClosed());
}

TEST_P(HttpServerPushTest, HeadClosesTheStreamUnread) {
  Start();
  Client client(server_->port());
  client.Send(http::verb::head, "/events");
  const auto response = client.Read(/*head=*/true);
  EXPECT_EQ(response.result_int(), 200);
  ASSERT_TRUE(stream_->WaitClosed());
  EXPECT_EQ(stream_->next_calls(), 0);
  EXPECT_EQ(client.Get("/other").body(), "plain\n");
}

TEST(HttpServerPushInvalidTest, APushWithABodyIs500AndTheStreamIsClosed) {
  auto stream = std::make_shared<QueueStream>();
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start({}, [stream](const Request&) {
        Response response = TextResponse(200, "both");
        response.push = stream;
        return response;
      });
  ASSERT_TRUE(server.ok()) << server.status();
  Client client((*server)->port());
  EXPECT_EQ(client.Get("/").result_int(), 500);
  EXPECT_TRUE(stream->WaitClosed());
}

}  // namespace
}  // namespace pgxn::gateway
