// File bodies (Response::file): sent with sendfile on plain TCP, whole or
// from an offset, on a keep-alive connection; a file shorter than announced
// ends the connection; a client that stops reading is dropped after the read
// timeout, its file still open only until then.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "base/scoped_fd.h"
#include "base/temp_dir.h"
#include "gateway/http_server.h"
#include "gateway/http_test_client.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

using testing::Client;
namespace http = boost::beast::http;

// Byte i of the test file.
char ByteAt(uint64_t i) { return static_cast<char>('a' + (i * 7 + i / 4096) % 26); }

// Writes `size` bytes of ByteAt to `path` and opens it for reading.
std::shared_ptr<const base::ScopedFd> MakeFile(const std::string& path, uint64_t size) {
  base::ScopedFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  EXPECT_TRUE(out.valid());
  std::string content(size, '\0');
  for (uint64_t i = 0; i < size; ++i) content[i] = ByteAt(i);
  EXPECT_EQ(::write(out.get(), content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  return std::make_shared<const base::ScopedFd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

Response FileResponse(std::shared_ptr<const base::ScopedFd> file, uint64_t offset,
                      uint64_t length) {
  Response response;
  response.SetHeader("Content-Type", "application/zip");
  response.file = std::move(file);
  response.file_offset = offset;
  response.stream_size = length;
  return response;
}

class HttpFileTest : public ::testing::TestWithParam<bool> {
 protected:
  void Start(Handler handler, HttpServerOptions options = {}) {
    options.loop_per_thread = GetParam();
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(options), std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  base::TempDir dir_;
  std::unique_ptr<HttpServer> server_;
};

TEST_P(HttpFileTest, AFileArrivesWholeOrFromAnOffsetOnAKeepAliveConnection) {
  constexpr uint64_t kSize = 5 * 1024 * 1024 + 17;  // several sendfile calls
  std::shared_ptr<const base::ScopedFd> file = MakeFile(dir_.path() + "/zip", kSize);
  Start([&file](const Request& request) {
    if (request.path == "/part") return FileResponse(file, 1000003, 70000);
    return FileResponse(file, 0, kSize);
  });
  Client client(server_->port());
  for (int round = 0; round < 2; ++round) {
    const auto whole = client.Get("/zip");
    ASSERT_EQ(whole.result_int(), 200);
    ASSERT_EQ(whole.body().size(), kSize);
    for (uint64_t i = 0; i < kSize; ++i) {
      if (whole.body()[i] != ByteAt(i)) FAIL() << "byte " << i << " differs";
    }
    EXPECT_TRUE(whole.keep_alive());
  }
  const auto part = client.Get("/part");
  ASSERT_EQ(part.body().size(), 70000u);
  for (uint64_t i = 0; i < 70000; ++i) {
    if (part.body()[i] != ByteAt(1000003 + i)) FAIL() << "byte " << i << " of the part differs";
  }
  client.Send(http::verb::head, "/zip");
  const auto head = client.Read(/*head=*/true);
  EXPECT_EQ(head[http::field::content_length], std::to_string(kSize));
  // The connection still carries requests after all of that.
  EXPECT_EQ(client.Get("/part").body().size(), 70000u);
}

TEST_P(HttpFileTest, AFileShorterThanAnnouncedEndsTheConnection) {
  std::shared_ptr<const base::ScopedFd> file = MakeFile(dir_.path() + "/short", 100000);
  Start([&file](const Request&) { return FileResponse(file, 0, 300000); });
  Client client(server_->port());
  client.WriteRaw("GET /short HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string received = client.ReadToEof();
  EXPECT_TRUE(absl::StrContains(received, "Content-Length: 300000")) << received.substr(0, 200);
  EXPECT_LT(received.size(), 300000u);
}

TEST_P(HttpFileTest, AClientThatStopsReadingIsDroppedAfterTheReadTimeout) {
  // Far more than the socket buffers hold, so the server must wait for the
  // client; sparse, so it costs no disk.
  constexpr uint64_t kSize = uint64_t{1} << 30;
  const std::string path = dir_.path() + "/large";
  {
    base::ScopedFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_EQ(::ftruncate(out.get(), kSize), 0);
  }
  std::weak_ptr<const base::ScopedFd> watch;
  absl::Notification handled;
  HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(300);
  Start(
      [&path, &watch, &handled](const Request&) {
        auto file =
            std::make_shared<const base::ScopedFd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        watch = file;
        handled.Notify();
        return FileResponse(std::move(file), 0, kSize);
      },
      options);
  Client client(server_->port());
  client.WriteRaw("GET /large HTTP/1.1\r\nHost: a\r\n\r\n");
  // Once the file is being sent, the server gives up on the client (and
  // lets go of the file). Waiting for the handler first matters: before
  // the server has taken the connection, no connection is open either.
  handled.WaitForNotification();
  while (server_->open_connections() > 0) std::this_thread::yield();
  EXPECT_TRUE(watch.expired());
  // What the socket buffers held still arrives, then the end: far short.
  EXPECT_LT(client.ReadToEof().size(), kSize / 4);
}

INSTANTIATE_TEST_SUITE_P(Loops, HttpFileTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "LoopPerThread" : "SharedLoop";
                         });

}  // namespace
}  // namespace pgxn::gateway
