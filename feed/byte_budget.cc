#include "feed/byte_budget.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace pgxn::feed {

bool ByteBudget::Take(uint64_t bytes, const std::string& peer,
                      std::weak_ptr<BudgetWaiter> waiter) {
  absl::MutexLock lock(&mu_);
  if (bytes == 0) return true;
  if (used_ == 0 || used_ + bytes <= limit_) {
    used_ += bytes;
    last_peer_ = peer;
    return true;
  }
  waiters_.push_back(Waiter{std::move(waiter), peer});
  return false;
}

void ByteBudget::Give(uint64_t bytes) {
  if (bytes == 0) return;
  std::vector<std::weak_ptr<BudgetWaiter>> wake;
  {
    absl::MutexLock lock(&mu_);
    used_ -= std::min(bytes, used_);
    for (const Waiter& waiter : waiters_) {
      if (waiter.peer != last_peer_) wake.push_back(waiter.waiter);
    }
    for (const Waiter& waiter : waiters_) {
      if (waiter.peer == last_peer_) wake.push_back(waiter.waiter);
    }
    waiters_.clear();
  }
  for (const std::weak_ptr<BudgetWaiter>& waiter : wake) {
    if (std::shared_ptr<BudgetWaiter> alive = waiter.lock()) alive->Wake();
  }
}

uint64_t ByteBudget::used() const {
  absl::MutexLock lock(&mu_);
  return used_;
}

}  // namespace pgxn::feed
