// The HTTP server's spooling of large request bodies (http_server.h,
// spool_threshold): they reach the handler whole from a temp file, are
// charged to the disk budget rather than memory, and their file is gone when
// the request ends, however it ends.
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "base/temp_dir.h"
#include "gateway/http_server.h"
#include "gateway/http_test_client.h"
#include "gateway/spool_testing.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

using testing::Client;
using testing::FilesHeldIn;
namespace http = boost::beast::http;

constexpr uint64_t kThreshold = 64 * 1024;

// `size` bytes that differ from one position to the next, so a misplaced or
// lost piece shows.
std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 13 + i / 4093) % 256);
  return bytes;
}

// What the handler saw of a body, taken while it ran.
struct Seen {
  std::string body;
  int files_held = -1;   // descriptors and mappings into the spool dir
  uint64_t memory = 0;   // body_bytes_in_flight()
  uint64_t spooled = 0;  // body_bytes_spooled()
};

class HttpSpoolTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.spool_threshold = kThreshold;
    options.spool_dir = dir_.path();
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(options), [this](const Request& request) {
          Seen seen;
          seen.body = std::string(request.body.view());
          seen.files_held = FilesHeldIn(getpid(), dir_.path());
          seen.memory = running_.load()->body_bytes_in_flight();
          seen.spooled = running_.load()->body_bytes_spooled();
          absl::MutexLock lock(&mu_);
          seen_ = std::move(seen);
          return TextResponse(200, absl::StrCat(request.path, " ", request.body.size()));
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    running_.store(server_.get());
  }

  Seen seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

  // Waits until the server has spooled at least `bytes` (it reads what the
  // client sent; the test's own timeout bounds a server that does not).
  void WaitForSpooled(uint64_t bytes) {
    while (server_->body_bytes_spooled() < bytes) std::this_thread::yield();
  }

  void WaitForNoSpoolFiles() {
    while (FilesHeldIn(getpid(), dir_.path()) != 0) std::this_thread::yield();
  }

  base::TempDir dir_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<HttpServer*> running_{nullptr};  // server_, for the handler
  absl::Mutex mu_;
  Seen seen_ ABSL_GUARDED_BY(mu_);
};

TEST_F(HttpSpoolTest, LargeBodyReachesTheHandlerFromItsFileByteForByte) {
  Start();
  const std::string body = Pattern(3 * 1024 * 1024 + 5);
  Client client(server_->port());
  client.Send(http::verb::post, "/upload", body);
  const auto response = client.Read();
  ASSERT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), absl::StrCat("/upload ", body.size()));
  const Seen saw = seen();
  EXPECT_TRUE(saw.body == body) << "the handler saw " << saw.body.size() << " bytes";
  // While the handler ran the body was a mapped file charged to the disk
  // budget, and none of it to memory.
  EXPECT_GE(saw.files_held, 1);
  EXPECT_EQ(saw.spooled, body.size());
  EXPECT_EQ(saw.memory, 0u);
  // And after it, nothing is left.
  EXPECT_EQ(FilesHeldIn(getpid(), dir_.path()), 0);
  EXPECT_EQ(server_->body_bytes_spooled(), 0u);
  EXPECT_EQ(server_->body_bytes_in_flight(), 0u);
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(HttpSpoolTest, ChunkedBodyMovesToItsFileWhenItPassesTheThreshold) {
  Start();
  const std::string body = Pattern(kThreshold * 5 + 123);
  Client client(server_->port());
  client.WriteRaw("POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  // Chunks of odd sizes that straddle the threshold.
  for (size_t at = 0; at < body.size(); at += 10'007) {
    const std::string chunk = body.substr(at, 10'007);
    client.WriteRaw(absl::StrFormat("%x\r\n", chunk.size()) + chunk + "\r\n");
  }
  client.WriteRaw("0\r\n\r\n");
  const auto response = client.Read();
  ASSERT_EQ(response.result_int(), 200);
  const Seen saw = seen();
  EXPECT_TRUE(saw.body == body) << "the handler saw " << saw.body.size() << " bytes";
  EXPECT_GE(saw.files_held, 1);
  EXPECT_EQ(saw.spooled, body.size());
  EXPECT_EQ(saw.memory, 0u);
  EXPECT_EQ(FilesHeldIn(getpid(), dir_.path()), 0);
  EXPECT_EQ(server_->body_bytes_spooled(), 0u);
}

TEST_F(HttpSpoolTest, BodyUpToTheThresholdStaysInMemory) {
  Start();
  const std::string body = Pattern(kThreshold);
  Client client(server_->port());
  client.Send(http::verb::post, "/form", body);
  ASSERT_EQ(client.Read().result_int(), 200);
  const Seen saw = seen();
  EXPECT_TRUE(saw.body == body);
  EXPECT_EQ(saw.files_held, 0);
  EXPECT_EQ(saw.memory, kThreshold);
  EXPECT_EQ(saw.spooled, 0u);
}

TEST_F(HttpSpoolTest, FileIsGoneWhenTheClientLeavesMidBody) {
  Start();
  {
    Client client(server_->port());
    client.WriteRaw("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4000000\r\n\r\n" +
                    Pattern(500'000));
    WaitForSpooled(500'000);
    EXPECT_EQ(FilesHeldIn(getpid(), dir_.path()), 1);
  }
  WaitForNoSpoolFiles();
  while (server_->body_bytes_spooled() != 0) std::this_thread::yield();
  EXPECT_EQ(seen().files_held, -1);  // the handler never ran
}

TEST_F(HttpSpoolTest, FileIsGoneAfterStop) {
  HttpServerOptions options;
  options.stop_grace = absl::Milliseconds(50);  // the body never completes
  Start(options);
  Client client(server_->port());
  client.WriteRaw("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
                  absl::StrFormat("%x\r\n", 300'000) + Pattern(300'000) + "\r\n");
  WaitForSpooled(300'000);
  EXPECT_EQ(FilesHeldIn(getpid(), dir_.path()), 1);
  server_->Stop();
  EXPECT_EQ(FilesHeldIn(getpid(), dir_.path()), 0);
  EXPECT_EQ(server_->body_bytes_spooled(), 0u);
}

TEST_F(HttpSpoolTest, FileIsGoneWhenTheClientStallsPastTheReadTimeout) {
  HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(200);
  Start(options);
  Client client(server_->port());
  client.WriteRaw("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4000000\r\n\r\n" +
                  Pattern(500'000));
  WaitForSpooled(500'000);
  // Nothing more comes: the server gives up on the request and closes.
  EXPECT_TRUE(client.ServerClosed());
  WaitForNoSpoolFiles();
  while (server_->body_bytes_spooled() != 0) std::this_thread::yield();
}

TEST_F(HttpSpoolTest, FileIsGoneWhenAChunkedBodyPassesItsLimit) {
  HttpServerOptions options;
  options.max_body_bytes = 1'000'000;
  Start(options);
  Client client(server_->port());
  client.WriteRaw("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 12; ++i) {
    client.WriteRaw(absl::StrFormat("%x\r\n", 100'000) + Pattern(100'000) + "\r\n");
  }
  const auto response = client.Read();
  EXPECT_EQ(response.result_int(), 413);
  WaitForNoSpoolFiles();
  EXPECT_EQ(server_->body_bytes_spooled(), 0u);
  EXPECT_EQ(seen().files_held, -1);  // the handler never ran
}

TEST_F(HttpSpoolTest, SpooledBodyAfter100ContinueArrivesWhole) {
  Start();
  const std::string body = Pattern(1'000'003);
  Client client(server_->port());
  client.WriteRaw(absl::StrCat("PUT /big HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n",
                               "Content-Length: ", body.size(), "\r\n\r\n"));
  EXPECT_EQ(client.ReadHeaderBlock(), "HTTP/1.1 100 Continue\r\n\r\n");
  client.WriteRaw(body);
  const auto response = client.Read();
  ASSERT_EQ(response.result_int(), 200);
  const Seen saw = seen();
  EXPECT_TRUE(saw.body == body) << "the handler saw " << saw.body.size() << " bytes";
  EXPECT_EQ(saw.spooled, body.size());
}

TEST_F(HttpSpoolTest, BodiesPastTheDiskBudgetGet503UntilOneFinishes) {
  HttpServerOptions options;
  options.max_body_disk = 1'000'000;
  Start(options);
  Client first(server_->port());
  first.WriteRaw("POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 800000\r\n\r\n" +
                 Pattern(700'000));
  WaitForSpooled(700'000);
  Client second(server_->port());
  second.WriteRaw("POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 500000\r\n\r\n" +
                  Pattern(400'000));
  const auto refused = second.Read();
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_EQ(refused[http::field::retry_after], "5");
  EXPECT_EQ(refused.body(), "Server busy: too many request bodies in flight (disk); try again\n");
  // A body small enough for memory is not held back by the disk.
  Client small(server_->port());
  small.Send(http::verb::post, "/small", Pattern(1000));
  EXPECT_EQ(small.Read().result_int(), 200);
  // The first one finishes, and its room is free again.
  first.WriteRaw(Pattern(800'000).substr(700'000));
  EXPECT_EQ(first.Read().body(), "/first 800000");
  EXPECT_EQ(server_->body_bytes_spooled(), 0u);
  Client third(server_->port());
  third.Send(http::verb::post, "/third", Pattern(900'000));
  EXPECT_EQ(third.Read().result_int(), 200);
  EXPECT_EQ(FilesHeldIn(getpid(), dir_.path()), 0);
}

TEST(HttpSpoolOptionsTest, SpoolDirThatCannotTakeAFileFailsStart) {
  base::TempDir dir;
  HttpServerOptions options;
  options.spool_dir = dir.path() + "/missing";
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(options, [](const Request&) { return TextResponse(200, "ok"); });
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(server.status())) << server.status();
  EXPECT_TRUE(absl::StrContains(server.status().message(), dir.path() + "/missing"))
      << server.status();
}

}  // namespace
}  // namespace pgxn::gateway
