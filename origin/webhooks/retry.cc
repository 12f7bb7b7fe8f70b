#include "origin/webhooks/retry.h"

#include <algorithm>

namespace pgxn::origin {

absl::Duration RetryDelay(const RetryPolicy& policy, int failures, double unit) {
  absl::Duration ceiling = std::max(policy.base, absl::Milliseconds(1));
  for (int i = 1; i < failures && ceiling < policy.max; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, std::max(policy.max, policy.base));
  unit = std::clamp(unit, 0.0, 1.0);
  return ceiling / 2 + (ceiling / 2) * unit;
}

}  // namespace pgxn::origin
