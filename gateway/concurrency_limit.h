// At most a fixed number of something expensive at once (an indexer's heavy
// source reads, a node's /_tree listings), for handlers that refuse past it
// (503 with Retry-After) instead of waiting: a waiting handler would hold an
// I/O thread as surely as a running one. Thread-safe; the limit must outlive
// its permits.
#ifndef PGXN_GATEWAY_CONCURRENCY_LIMIT_H_
#define PGXN_GATEWAY_CONCURRENCY_LIMIT_H_

#include <cstdint>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pgxn::gateway {

class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(int max) : max_(max) {}
  ConcurrencyLimit(const ConcurrencyLimit&) = delete;
  ConcurrencyLimit& operator=(const ConcurrencyLimit&) = delete;

  // One of the `max` places, given back when destroyed.
  class Permit {
   public:
    Permit(Permit&& other) noexcept : limit_(std::exchange(other.limit_, nullptr)) {}
    Permit& operator=(Permit&& other) noexcept {
      if (this != &other) {
        if (limit_ != nullptr) limit_->Release();
        limit_ = std::exchange(other.limit_, nullptr);
      }
      return *this;
    }
    ~Permit() {
      if (limit_ != nullptr) limit_->Release();
    }

   private:
    friend class ConcurrencyLimit;
    explicit Permit(ConcurrencyLimit* limit) : limit_(limit) {}
    ConcurrencyLimit* limit_;
  };

  // A permit, or nullopt (counted as refused) when `max` are out.
  std::optional<Permit> TryAcquire() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (running_ >= max_) {
      ++refused_;
      return std::nullopt;
    }
    ++running_;
    return Permit(this);
  }

  int max() const { return max_; }
  int running() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return running_;
  }
  uint64_t refused() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return refused_;
  }

 private:
  void Release() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    --running_;
  }

  const int max_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_CONCURRENCY_LIMIT_H_
