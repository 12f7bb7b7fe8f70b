#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <list>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace pgxn::testing {
namespace {

// Bytes read per read() call, and how much a direction may hold before the
// proxy stops reading from its source (so a slow side pushes back).
constexpr size_t kReadBytes = 64 << 10;
constexpr size_t kMaxQueuedBytes = 4 << 20;
// The longest poll() waits without a reason to wake: a safety net only.
constexpr int kMaxPollMs = 100;

struct Chunk {
  absl::Time due;
  std::string bytes;
  size_t offset = 0;
};

// One direction of a connection: what was read from `from` and waits to be
// written to `to`.
struct Direction {
  int from = -1;
  int to = -1;
  std::deque<Chunk> queue;
  size_t queued = 0;
  bool eof = false;   // `from` said it will send no more
  bool shut = false;  // and `to` was told so, after the queue drained
};

struct Connection {
  Direction up;    // client → target
  Direction down;  // target → client
  bool broken = false;
};

void CloseWithReset(int fd) {
  linger hard{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(fd);
}

bool SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

int ConnectTo(int port, const std::string& source_ip) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (!source_ip.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_ip.c_str(), &source.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A blocking connect on loopback is answered at once (accepted or refused).
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || !SetNonBlocking(fd)) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Reads what `d.from` has; false if the connection broke.
bool ReadSide(Direction& d, absl::Duration delay) {
  char buffer[kReadBytes];
  const ssize_t n = ::read(d.from, buffer, sizeof buffer);
  if (n > 0) {
    d.queue.push_back(Chunk{absl::Now() + delay, std::string(buffer, static_cast<size_t>(n))});
    d.queued += static_cast<size_t>(n);
    return true;
  }
  if (n == 0) {
    d.eof = true;
    return true;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// Writes the due chunks of `d` to `d.to`, no more than `*budget` bytes
// unless it is negative (no limit); false if the connection broke. Counts the
// bytes in `forwarded`; if `last_message` is given, stamps it (Unix ns) with
// the clock read before writing when a chunk of TcpProxy::kMessageBytes or
// more went out whole.
bool WriteSide(Direction& d, int64_t* budget, std::atomic<int64_t>& forwarded,
               std::atomic<int64_t>* last_message) {
  const absl::Time now = absl::Now();
  while (!d.queue.empty() && d.queue.front().due <= now && *budget != 0) {
    Chunk& chunk = d.queue.front();
    size_t length = chunk.bytes.size() - chunk.offset;
    if (*budget > 0) length = std::min(length, static_cast<size_t>(*budget));
    const ssize_t n = ::send(d.to, chunk.bytes.data() + chunk.offset, length, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (*budget > 0) *budget -= n;
    chunk.offset += static_cast<size_t>(n);
    d.queued -= static_cast<size_t>(n);
    forwarded += n;
    if (chunk.offset < chunk.bytes.size()) return true;  // the socket is full
    if (last_message != nullptr && chunk.bytes.size() >= TcpProxy::kMessageBytes) {
      *last_message = absl::ToUnixNanos(now);
    }
    d.queue.pop_front();
  }
  return true;
}

bool WantsRead(const Direction& d) { return !d.eof && d.queued < kMaxQueuedBytes; }
bool WantsWrite(const Direction& d, absl::Time now) {
  return !d.queue.empty() && d.queue.front().due <= now;
}

}  // namespace

std::unique_ptr<TcpProxy> TcpProxy::Start(int target_port, const std::string& source_ip) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    std::fprintf(stderr, "TcpProxy: cannot listen: %s\n", std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::close(fd);
    return nullptr;
  }
  auto proxy = std::unique_ptr<TcpProxy>(new TcpProxy(fd, wake, ntohs(addr.sin_port), target_port));
  proxy->source_ip_ = source_ip;
  proxy->thread_ = std::thread([raw = proxy.get()] { raw->Run(); });
  return proxy;
}

TcpProxy::TcpProxy(int listen_fd, int wake_fd, int port, int target_port)
    : listen_fd_(listen_fd), wake_fd_(wake_fd), port_(port), target_port_(target_port) {}

TcpProxy::~TcpProxy() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

std::string TcpProxy::address() const { return absl::StrCat("127.0.0.1:", port_); }

void TcpProxy::Wake() {
  const uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
}

void TcpProxy::Control(const std::function<void()>& change) {
  int64_t wanted;
  {
    absl::MutexLock lock(&mu_);
    change();
    wanted = ++changes_;
  }
  Wake();
  absl::MutexLock lock(&mu_);
  auto seen = [this, wanted]()
                  ABSL_SHARED_LOCKS_REQUIRED(mu_) { return changes_seen_ >= wanted || stopping_; };
  mu_.Await(absl::Condition(&seen));
}

void TcpProxy::DropAll() {
  Control([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { drop_now_ = true; });
}

void TcpProxy::DropAfter(int64_t bytes) {
  Control([this, bytes]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    drop_budget_ = bytes;
    dropped_after_ = false;
    ++drop_after_calls_;
  });
}

bool TcpProxy::dropped_after() const {
  absl::MutexLock lock(&mu_);
  return dropped_after_;
}

absl::Time TcpProxy::last_message_to_clients() const {
  const int64_t ns = last_message_to_clients_.load();
  return ns == std::numeric_limits<int64_t>::min() ? absl::InfinitePast() : absl::FromUnixNanos(ns);
}

void TcpProxy::Stall() {
  Control([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { stalled_ = true; });
}

void TcpProxy::Resume() {
  Control([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { stalled_ = false; });
}

void TcpProxy::SetDelay(absl::Duration delay) {
  Control([this, delay]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { delay_ = delay; });
}

void TcpProxy::Run() {
  std::list<Connection> connections;
  auto close_connection = [this](Connection& c) {
    CloseWithReset(c.up.from);
    CloseWithReset(c.down.from);
    --open_;
  };
  while (true) {
    bool stalled;
    absl::Duration delay;
    int64_t budget;
    int64_t budget_call;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      if (drop_budget_ == 0) {
        drop_budget_ = -1;
        dropped_after_ = true;
        drop_now_ = true;
      }
      if (drop_now_) {
        for (Connection& c : connections) close_connection(c);
        connections.clear();
        drop_now_ = false;
      }
      changes_seen_ = changes_;
      stalled = stalled_;
      delay = delay_;
      budget = drop_budget_;
      budget_call = drop_after_calls_;
    }

    // One pollfd per socket: [0] the wake fd, [1] the listener, then the
    // client and target socket of each connection.
    const absl::Time now = absl::Now();
    std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    absl::Time next_due = absl::InfiniteFuture();
    for (Connection& c : connections) {
      short client = 0, target = 0;
      if (!stalled) {
        if (WantsRead(c.up)) client |= POLLIN;
        if (WantsRead(c.down)) target |= POLLIN;
        if (WantsWrite(c.up, now)) target |= POLLOUT;
        if (WantsWrite(c.down, now)) client |= POLLOUT;
        for (const Direction* d : {&c.up, &c.down}) {
          if (!d->queue.empty() && d->queue.front().due > now) {
            next_due = std::min(next_due, d->queue.front().due);
          }
        }
      }
      // A stalled proxy does not even look at its sockets (poll ignores a
      // negative fd), so a peer's reset cannot make it spin.
      fds.push_back({stalled ? -1 : c.up.from, client, 0});
      fds.push_back({stalled ? -1 : c.down.from, target, 0});
    }
    int timeout_ms = kMaxPollMs;
    if (next_due != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(absl::Ceil(next_due - now, absl::Milliseconds(1))), 0,
          kMaxPollMs));
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      std::fprintf(stderr, "TcpProxy: poll: %s\n", std::strerror(errno));
      break;
    }
    if (fds[0].revents != 0) {
      uint64_t count;
      (void)::read(wake_fd_, &count, sizeof count);
    }

    size_t index = 2;
    for (Connection& c : connections) {
      const pollfd& client = fds[index++];
      const pollfd& target = fds[index++];
      if (stalled) continue;
      if ((client.revents | target.revents) & (POLLERR | POLLNVAL)) {
        c.broken = true;
        continue;
      }
      if ((client.revents & (POLLIN | POLLHUP)) && WantsRead(c.up) && !ReadSide(c.up, delay)) {
        c.broken = true;
      }
      if ((target.revents & (POLLIN | POLLHUP)) && WantsRead(c.down) && !ReadSide(c.down, delay)) {
        c.broken = true;
      }
      int64_t unlimited = -1;
      if (!c.broken && !WriteSide(c.up, &unlimited, forwarded_bytes_, nullptr)) c.broken = true;
      if (!c.broken && !WriteSide(c.down, &budget, forwarded_bytes_, &last_message_to_clients_)) {
        c.broken = true;
      }
      for (Direction* d : {&c.up, &c.down}) {
        if (d->eof && d->queue.empty() && !d->shut) {
          ::shutdown(d->to, SHUT_WR);
          d->shut = true;
        }
      }
    }
    if (budget >= 0) {
      absl::MutexLock lock(&mu_);
      // A DropAfter() call made during this turn starts a new count.
      if (drop_after_calls_ == budget_call) drop_budget_ = budget;
      if (drop_budget_ == 0) Wake();
    }
    for (auto it = connections.begin(); it != connections.end();) {
      if (it->broken || (it->up.shut && it->down.shut)) {
        close_connection(*it);
        it = connections.erase(it);
      } else {
        ++it;
      }
    }

    if (fds[1].revents & POLLIN) {
      while (true) {
        const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) break;
        ++accepted_;
        const int target = ConnectTo(target_port_, source_ip_);
        if (target < 0) {
          CloseWithReset(client);  // as if the target refused it
          continue;
        }
        const int one = 1;
        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Connection& c = connections.emplace_back();
        c.up.from = c.down.to = client;
        c.up.to = c.down.from = target;
        ++open_;
      }
    }
  }
  for (Connection& c : connections) close_connection(c);
}

}  // namespace pgxn::testing
