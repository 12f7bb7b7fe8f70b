// Tests of the test cluster's own promises that the multi-process tests lean
// on: a node restarts on its ports even when another socket holds one of
// them for a while.
#include "tests/support/cluster.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/match.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

// A listening socket on 127.0.0.1:`port` without SO_REUSEADDR (what an
// outgoing connection given that port amounts to for a later bind); -1 if
// the bind fails.
int HoldPort(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 1) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

TEST(NodeRestartTest, WaitsForAPortAnotherSocketHolds) {
  base::TempDir dir;
  // A mirror needs no Postgres; its upstream need not answer.
  std::unique_ptr<Node> mirror =
      Node::Start("mirror", dir.path() + "/mirror", {"--upstream", "127.0.0.1:1"});
  ASSERT_NE(mirror, nullptr);
  const std::string grpc = mirror->grpc_address();
  const int port = mirror->http_port();
  ASSERT_EQ(mirror->Stop(SIGTERM), 0);

  const int held = HoldPort(port);
  ASSERT_GE(held, 0) << "could not hold port " << port;
  // Let go of the port once a life of the node has failed on it.
  std::thread release([&] {
    WaitUntil([&] { return absl::StrContains(mirror->Log(), "Address already in use"); });
    ::close(held);
  });
  const bool restarted = mirror->Restart();
  release.join();
  ASSERT_TRUE(restarted) << mirror->Log();
  EXPECT_TRUE(absl::StrContains(mirror->Log(), "Address already in use")) << mirror->Log();
  EXPECT_EQ(mirror->http_port(), port);
  EXPECT_EQ(mirror->grpc_address(), grpc);
  EXPECT_TRUE(mirror->Status().is_object());
}

}  // namespace
}  // namespace pgxn::testing
