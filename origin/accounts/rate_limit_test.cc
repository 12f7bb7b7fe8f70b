#include "origin/accounts/rate_limit.h"

#include <string>

#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TEST(AddressRateLimiterTest, RefusesPastTheLimitUntilTheOldestLeavesTheWindow) {
  AddressRateLimiter limiter("registrations", RateLimitOptions{3, absl::Hours(1), 100});
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Acquire("10.0.0.1", kStart + absl::Minutes(i)).ok()) << i;
  }
  absl::Status refused = limiter.Acquire("10.0.0.1", kStart + absl::Minutes(10));
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_EQ(refused.message(),
            "Too many registrations from your address; try again in 3000 seconds");
  EXPECT_EQ(RetryAfterSeconds(refused), 3000);
  EXPECT_TRUE(limiter.Acquire("10.0.0.2", kStart + absl::Minutes(10)).ok());
  EXPECT_TRUE(limiter.Acquire("10.0.0.1", kStart + absl::Hours(1)).ok());
  EXPECT_FALSE(limiter.Acquire("10.0.0.1", kStart + absl::Hours(1)).ok());
}

TEST(AddressRateLimiterTest, ZeroMeansNoLimit) {
  AddressRateLimiter limiter("registrations", RateLimitOptions{0, absl::Hours(1), 100});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Acquire("10.0.0.1", kStart).ok());
}

TEST(AddressRateLimiterTest, MemoryIsBounded) {
  AddressRateLimiter limiter("registrations", RateLimitOptions{1, absl::Hours(1), 10});
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(limiter.Acquire("addr" + std::to_string(i), kStart).ok());
  }
  EXPECT_LE(limiter.tracked(), 10u);
}

TEST(TooManyRequestsTest, CarriesTheWaitRoundedUp) {
  absl::Status status = TooManyRequests("Too many tries", absl::Milliseconds(1500));
  EXPECT_EQ(status.message(), "Too many tries; try again in 2 seconds");
  EXPECT_EQ(RetryAfterSeconds(status), 2);
  EXPECT_EQ(TooManyRequests("x", absl::ZeroDuration()).message(), "x; try again in 1 second");
  EXPECT_EQ(RetryAfterSeconds(absl::ResourceExhaustedError("x")), absl::nullopt);
  EXPECT_EQ(RetryAfterSeconds(absl::OkStatus()), absl::nullopt);
}

}  // namespace
}  // namespace pgxn::origin
