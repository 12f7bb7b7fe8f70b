#include "origin/webhooks/retry.h"

#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

TEST(RetryDelayTest, DoublesFromBaseWithinJitterBoundsUpToMax) {
  const RetryPolicy policy;  // 5 s to 6 h
  absl::Duration ceiling = absl::Seconds(5);
  for (int failures = 1; failures <= 40; ++failures) {
    for (double unit : {0.0, 0.25, 0.5, 0.999}) {
      const absl::Duration delay = RetryDelay(policy, failures, unit);
      EXPECT_GE(delay, ceiling / 2) << failures << " " << unit;
      EXPECT_LE(delay, ceiling) << failures << " " << unit;
    }
    ceiling = std::min(ceiling * 2, absl::Hours(6));
  }
  EXPECT_EQ(RetryDelay(policy, 1, 0.0), absl::Milliseconds(2500));
  EXPECT_EQ(RetryDelay(policy, 3, 0.0), absl::Seconds(10));
  EXPECT_EQ(RetryDelay(policy, 1000, 0.999999), absl::Hours(6) / 2 + absl::Hours(6) / 2 * 0.999999);
}

TEST(RetryDelayTest, JitterSpreadsReceiversThatFailTogether) {
  const RetryPolicy policy{absl::Milliseconds(100), absl::Seconds(10)};
  EXPECT_LT(RetryDelay(policy, 4, 0.1), RetryDelay(policy, 4, 0.9));
  EXPECT_EQ(RetryDelay(policy, 4, 0.0), absl::Milliseconds(400));
  EXPECT_EQ(RetryDelay(policy, 4, 1.0), absl::Milliseconds(800));
}

}  // namespace
}  // namespace pgxn::origin
