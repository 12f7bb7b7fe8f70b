// Test support: a loopback TCP proxy that sits between two nodes and breaks
// the network on command. It listens on 127.0.0.1:0 and forwards every
// accepted connection, byte for byte, to 127.0.0.1:TARGET; the test can
//  - drop every open connection at once (both sides see a reset), now or
//    once a given number of further bytes went from the target to clients
//    (to cut a large message in the middle),
//  - stall: stop moving bytes while keeping every socket open (new
//    connections are accepted and connected, but nothing flows),
//  - resume after a stall,
//  - hold every chunk it reads for a fixed delay before forwarding it.
//
// One background thread does all the forwarding with poll(); the controls may
// be called from any thread and return once that thread works by them, so
// bytes sent after a control returns are handled as it says.
#ifndef PGXN_TESTS_SUPPORT_TCP_PROXY_H_
#define PGXN_TESTS_SUPPORT_TCP_PROXY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pgxn::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1:0 and forwards to 127.0.0.1:`target_port`; null
  // (after printing why) if it cannot listen. With `source_ip` (e.g.
  // "127.0.0.2": any of 127/8 is this machine), connections to the target
  // come from that address, so the target sees another peer than the test's
  // direct connections.
  static std::unique_ptr<TcpProxy> Start(int target_port, const std::string& source_ip = "");
  ~TcpProxy();  // closes every connection and joins the thread
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  std::string address() const;  // 127.0.0.1:PORT

  // Resets every open connection (SO_LINGER 0); later connections go through
  // as usual. Returns once they are closed.
  void DropAll();
  // Forwards `bytes` more bytes from the target towards the clients, then
  // resets every open connection as DropAll() does; returns at once.
  void DropAfter(int64_t bytes);
  // Whether the DropAfter() cut has happened.
  bool dropped_after() const;
  // Stops reading and writing on every connection, open or new; bytes wait in
  // the kernel's buffers until Resume().
  void Stall();
  void Resume();
  // Each chunk read from either side is forwarded no sooner than `delay`
  // after it arrived (zero: at once). Applies to chunks read from now on.
  void SetDelay(absl::Duration delay);

  int accepted() const { return accepted_.load(); }  // connections accepted so far
  int open() const { return open_.load(); }          // connections open now
  int64_t forwarded_bytes() const { return forwarded_bytes_.load(); }

  // When the proxy last passed on, whole, a chunk of at least kMessageBytes
  // towards the clients, by its clock just before it wrote it (InfinitePast if
  // never): a client got that chunk no sooner. On a quiet gRPC stream such
  // chunks carry a message (a heartbeat); HTTP/2's own frames (pings, window
  // updates) are smaller. The stamp is set just after the write, so it covers
  // every chunk passed on before a control (e.g. Stall) returned.
  static constexpr size_t kMessageBytes = 64;
  absl::Time last_message_to_clients() const;

 private:
  TcpProxy(int listen_fd, int wake_fd, int port, int target_port);
  void Run();
  void Wake();
  // Makes `change` (to the fields under mu_) and waits until the thread has
  // begun a turn with it.
  void Control(const std::function<void()>& change);

  const int listen_fd_;
  const int wake_fd_;  // eventfd: a control changed, or stopping
  const int port_;
  const int target_port_;
  std::string source_ip_;  // set before the thread starts
  std::thread thread_;
  std::atomic<int> accepted_{0};
  std::atomic<int> open_{0};
  std::atomic<int64_t> forwarded_bytes_{0};
  // Unix nanoseconds; the minimum: never.
  std::atomic<int64_t> last_message_to_clients_{std::numeric_limits<int64_t>::min()};

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stalled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  bool drop_now_ ABSL_GUARDED_BY(mu_) = false;
  // Controls made, and controls the thread has begun a turn with.
  int64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t changes_seen_ ABSL_GUARDED_BY(mu_) = 0;
  // Bytes still to forward towards clients before a DropAfter() cut; -1: none.
  int64_t drop_budget_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t drop_after_calls_ ABSL_GUARDED_BY(mu_) = 0;
  bool dropped_after_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace pgxn::testing

#endif  // PGXN_TESTS_SUPPORT_TCP_PROXY_H_
