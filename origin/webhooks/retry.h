// When a failed delivery is tried again: exponential backoff with jitter.
// The n-th consecutive failure (n >= 1) waits a random time in
// [d/2, d], d = min(base * 2^(n-1), max): with the defaults 5 s, 10 s,
// 20 s, ... up to 6 h, so a receiver that is down for a day is asked a few
// dozen times, and receivers that fail together do not retry together.
// Pure; thread-safe.
#ifndef PGXN_ORIGIN_WEBHOOKS_RETRY_H_
#define PGXN_ORIGIN_WEBHOOKS_RETRY_H_

#include "absl/time/time.h"

namespace pgxn::origin {

struct RetryPolicy {
  absl::Duration base = absl::Seconds(5);
  absl::Duration max = absl::Hours(6);
};

// `unit` is a random number in [0, 1) (injected so tests can pin it).
absl::Duration RetryDelay(const RetryPolicy& policy, int failures, double unit);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_WEBHOOKS_RETRY_H_
