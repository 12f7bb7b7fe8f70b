// Rate limits on the origin's cheap-to-send, costly-to-serve requests
// (registrations, password-reset requests): at most `max_per_window` per
// client address in a sliding `window`. Also the one way this origin says
// "too many requests, retry in N seconds" (a ResourceExhausted status that
// carries the wait, so the HTTP layer can send Retry-After).
//
// Called by the Manager's handlers. Thread-safe. Time is passed in. Memory is
// bounded: at most `max_addresses` addresses are tracked; past that the
// oldest-looking entry goes (an attacker with that many addresses gets
// through anyway).
#ifndef PGXN_ORIGIN_ACCOUNTS_RATE_LIMIT_H_
#define PGXN_ORIGIN_ACCOUNTS_RATE_LIMIT_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace pgxn::origin {

// ResourceExhausted "MESSAGE; try again in N seconds" carrying N (at least 1,
// rounded up) for RetryAfterSeconds.
absl::Status TooManyRequests(absl::string_view message, absl::Duration wait);

// The wait a TooManyRequests status carries; nullopt for any other status.
absl::optional<int64_t> RetryAfterSeconds(const absl::Status& status);

struct RateLimitOptions {
  int max_per_window = 10;  // 0: no limit
  absl::Duration window = absl::Hours(1);
  size_t max_addresses = 100'000;
};

class AddressRateLimiter {
 public:
  // `what` names the requests in the refusal, e.g. "registrations".
  AddressRateLimiter(std::string what, RateLimitOptions options);

  // Counts one request from `address`; TooManyRequests ("Too many
  // registrations from your address; try again in N seconds") when it already
  // made max_per_window within the window (a refused request is not counted).
  absl::Status Acquire(absl::string_view address, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  size_t tracked() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const std::string what_;
  const RateLimitOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::deque<absl::Time>> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_RATE_LIMIT_H_
