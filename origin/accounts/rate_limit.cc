#include "origin/accounts/rate_limit.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pgxn::origin {
namespace {

constexpr char kRetryAfterPayload[] = "type.googleapis.com/pgxn.origin.RetryAfter";

}  // namespace

absl::Status TooManyRequests(absl::string_view message, absl::Duration wait) {
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))));
  absl::Status status = absl::ResourceExhaustedError(
      absl::StrCat(message, "; try again in ", seconds, seconds == 1 ? " second" : " seconds"));
  status.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(seconds)));
  return status;
}

absl::optional<int64_t> RetryAfterSeconds(const absl::Status& status) {
  if (!absl::IsResourceExhausted(status)) return absl::nullopt;
  absl::optional<absl::Cord> payload = status.GetPayload(kRetryAfterPayload);
  int64_t seconds = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &seconds)) {
    return absl::nullopt;
  }
  return seconds;
}

AddressRateLimiter::AddressRateLimiter(std::string what, RateLimitOptions options)
    : what_(std::move(what)), options_(options) {}

absl::Status AddressRateLimiter::Acquire(absl::string_view address, absl::Time now) {
  if (options_.max_per_window <= 0) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  auto it = seen_.find(address);
  if (it == seen_.end()) {
    if (seen_.size() >= options_.max_addresses) {
      for (auto entry = seen_.begin(); entry != seen_.end();) {
        auto current = entry++;
        if (current->second.empty() || current->second.back() + options_.window <= now) {
          seen_.erase(current);
        }
      }
      if (seen_.size() >= options_.max_addresses) seen_.erase(seen_.begin());
    }
    it = seen_.emplace(std::string(address), std::deque<absl::Time>()).first;
  }
  std::deque<absl::Time>& times = it->second;
  while (!times.empty() && times.front() + options_.window <= now) times.pop_front();
  if (static_cast<int>(times.size()) >= options_.max_per_window) {
    return TooManyRequests(absl::StrCat("Too many ", what_, " from your address"),
                           times.front() + options_.window - now);
  }
  times.push_back(now);
  return absl::OkStatus();
}

size_t AddressRateLimiter::tracked() {
  absl::MutexLock lock(&mu_);
  return seen_.size();
}

}  // namespace pgxn::origin
