// Bytes of file contents that the Feed server holds for its streams (read
// from the log, not yet taken by their clients), bounded over all streams
// (feed/feed_service.h, --feed-max-buffered). A stream that finds no room
// queues up and is woken when room is given back; streams of other peers
// than the one served last are woken first, so that a client with a crowd of
// streams that never read (each holding its share until it times out) delays
// another client's turn by one at most.
//
// Thread-safety: thread-safe. Wake() is called without the budget's lock
// held, from the thread that gave room back.
#ifndef PGXN_FEED_BYTE_BUDGET_H_
#define PGXN_FEED_BYTE_BUDGET_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pgxn::feed {

// What waits for room.
class BudgetWaiter {
 public:
  virtual ~BudgetWaiter() = default;
  // Room was given back: try again (a Take may fail and queue anew).
  virtual void Wake() = 0;
};

class ByteBudget {
 public:
  explicit ByteBudget(uint64_t limit) : limit_(limit) {}

  // Takes `bytes` for a stream of `peer` if they fit, or if nothing is taken
  // (one message may exceed the limit alone); otherwise queues `waiter` and
  // returns false. Taking 0 bytes always succeeds.
  bool Take(uint64_t bytes, const std::string& peer, std::weak_ptr<BudgetWaiter> waiter);

  // Gives `bytes` back and wakes every queued waiter that is still alive.
  void Give(uint64_t bytes);

  uint64_t used() const;

 private:
  struct Waiter {
    std::weak_ptr<BudgetWaiter> waiter;
    std::string peer;
  };
  const uint64_t limit_;
  mutable absl::Mutex mu_;
  uint64_t used_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_peer_ ABSL_GUARDED_BY(mu_);
  std::deque<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_BYTE_BUDGET_H_
