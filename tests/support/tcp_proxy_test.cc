#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace pgxn::testing {
namespace {

// A socket that closes itself.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// A listening socket on 127.0.0.1:0, standing in for the proxy's target.
Socket Listen(int* port) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = Loopback(0);
  socklen_t length = sizeof addr;
  EXPECT_EQ(::bind(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(s.fd(), 16), 0);
  EXPECT_EQ(::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&addr), &length), 0);
  *port = ntohs(addr.sin_port);
  return s;
}

Socket Connect(int port) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = Loopback(port);
  EXPECT_EQ(::connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return s;
}

// How long the test's own reads and accepts wait before they fail instead of
// hanging: a safety net, far longer than loopback takes on a loaded machine.
constexpr absl::Duration kGiveUp = absl::Seconds(60);

bool Readable(int fd, absl::Duration timeout) {
  pollfd p{fd, POLLIN, 0};
  const int ms =
      static_cast<int>(absl::ToInt64Milliseconds(std::max(timeout, absl::ZeroDuration())));
  return ::poll(&p, 1, ms) == 1;
}

Socket Accept(const Socket& listener) {
  if (!Readable(listener.fd(), kGiveUp)) return Socket();
  return Socket(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
}

void Send(const Socket& s, const std::string& bytes) {
  ASSERT_EQ(::send(s.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

// Reads until `want` bytes arrived, the peer closed or reset, or kGiveUp
// passed.
// *end says how it ended: "" (got them all), "eof", "reset" or "timeout".
std::string Receive(const Socket& s, size_t want, std::string* end = nullptr) {
  std::string got;
  std::string how;
  const absl::Time deadline = absl::Now() + kGiveUp;
  while (got.size() < want) {
    if (!Readable(s.fd(), deadline - absl::Now())) {
      how = "timeout";
      break;
    }
    char buffer[4096];
    const ssize_t n = ::recv(s.fd(), buffer, sizeof buffer, 0);
    if (n == 0) {
      how = "eof";
      break;
    }
    if (n < 0) {
      how = errno == ECONNRESET ? "reset" : "error";
      break;
    }
    got.append(buffer, static_cast<size_t>(n));
  }
  if (end != nullptr) *end = how;
  return got;
}

class TcpProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    target_ = Listen(&target_port_);
    proxy_ = TcpProxy::Start(target_port_);
    ASSERT_NE(proxy_, nullptr);
  }

  // A client connected through the proxy, and the target's end of it.
  void Open(Socket* client, Socket* server) {
    *client = Connect(proxy_->port());
    *server = Accept(target_);
    ASSERT_GE(server->fd(), 0) << "the proxy did not connect to the target";
  }

  int target_port_ = 0;
  Socket target_;
  std::unique_ptr<TcpProxy> proxy_;
};

TEST_F(TcpProxyTest, ForwardsBothWaysAndPassesOnAClose) {
  Socket client, server;
  Open(&client, &server);
  Send(client, "hello");
  EXPECT_EQ(Receive(server, 5), "hello");
  Send(server, "world!");
  EXPECT_EQ(Receive(client, 6), "world!");
  EXPECT_EQ(proxy_->accepted(), 1);
  EXPECT_EQ(proxy_->open(), 1);
  client = Socket();
  std::string end;
  EXPECT_EQ(Receive(server, 1, &end), "");
  EXPECT_EQ(end, "eof");
}

TEST_F(TcpProxyTest, DelayHoldsEveryChunk) {
  proxy_->SetDelay(absl::Milliseconds(100));
  Socket client, server;
  Open(&client, &server);
  const absl::Time sent = absl::Now();
  Send(client, "ping");
  EXPECT_EQ(Receive(server, 4), "ping");
  EXPECT_GE(absl::Now() - sent, absl::Milliseconds(100));
  const absl::Time answered = absl::Now();
  Send(server, "pong");
  EXPECT_EQ(Receive(client, 4), "pong");
  EXPECT_GE(absl::Now() - answered, absl::Milliseconds(100));
}

TEST_F(TcpProxyTest, StampsTheLastMessageTowardsTheClients) {
  Socket client, server;
  Open(&client, &server);
  EXPECT_EQ(proxy_->last_message_to_clients(), absl::InfinitePast());
  const std::string message(TcpProxy::kMessageBytes, 'm');
  const absl::Time sent = absl::Now();
  Send(server, message);
  EXPECT_EQ(Receive(client, message.size()), message);
  const absl::Time received = absl::Now();
  proxy_->Stall();  // returns once the turn that passed the message on is over
  const absl::Time stamp = proxy_->last_message_to_clients();
  EXPECT_GE(stamp, sent);
  EXPECT_LE(stamp, received);
  proxy_->Resume();
  // Smaller chunks, and anything towards the target, leave it as it was.
  Send(server, "ack");
  EXPECT_EQ(Receive(client, 3), "ack");
  Send(client, message);
  EXPECT_EQ(Receive(server, message.size()), message);
  proxy_->Stall();
  EXPECT_EQ(proxy_->last_message_to_clients(), stamp);
}

TEST_F(TcpProxyTest, StallHoldsBytesUntilResume) {
  Socket client, server;
  Open(&client, &server);
  proxy_->Stall();
  Send(client, "held");
  EXPECT_FALSE(Readable(server.fd(), absl::Milliseconds(300)));
  proxy_->Resume();
  EXPECT_EQ(Receive(server, 4), "held");
  EXPECT_EQ(proxy_->open(), 1) << "a stall closes nothing";
}

TEST_F(TcpProxyTest, DropAllResetsOpenConnectionsOnly) {
  Socket client, server;
  Open(&client, &server);
  proxy_->DropAll();
  EXPECT_EQ(proxy_->open(), 0);
  std::string end;
  EXPECT_EQ(Receive(client, 1, &end), "");
  EXPECT_EQ(end, "reset");
  EXPECT_EQ(Receive(server, 1, &end), "");
  EXPECT_EQ(end, "reset");
  // A new connection goes through.
  Socket again, server_again;
  Open(&again, &server_again);
  Send(again, "x");
  EXPECT_EQ(Receive(server_again, 1), "x");
}

TEST_F(TcpProxyTest, DropAfterCutsAfterThatManyBytesTowardsTheClient) {
  Socket client, server;
  Open(&client, &server);
  proxy_->DropAfter(1000);
  EXPECT_FALSE(proxy_->dropped_after());
  Send(server, std::string(5000, 'z'));
  std::string end;
  EXPECT_EQ(Receive(client, 5000, &end).size(), 1000u);
  EXPECT_EQ(end, "reset");
  EXPECT_TRUE(proxy_->dropped_after());
}

}  // namespace
}  // namespace pgxn::testing
