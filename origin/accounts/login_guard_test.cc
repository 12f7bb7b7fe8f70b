#include "origin/accounts/login_guard.h"

#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

TEST(LoginGuardTest, BlocksAnAccountAfterRepeatedFailuresUntilTheWindowPasses) {
  LoginGuardOptions options;
  options.max_account_failures = 3;
  options.window = absl::Minutes(15);
  LoginGuard guard(options);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(guard.Check("bob", "10.0.0.1", kStart + absl::Seconds(i)).ok()) << i;
    guard.RecordFailure("bob", "10.0.0.1", kStart + absl::Seconds(i));
  }
  absl::Status blocked = guard.Check("Bob", "10.0.0.9", kStart + absl::Seconds(5));
  EXPECT_TRUE(absl::IsResourceExhausted(blocked)) << blocked;
  EXPECT_EQ(blocked.message(), "Too many failed logins; try again in 896 seconds");
  // Another account from the same address is not affected.
  EXPECT_TRUE(guard.Check("alice", "10.0.0.1", kStart + absl::Seconds(5)).ok());
  // Once the first failure leaves the window, one more attempt is allowed.
  EXPECT_TRUE(guard.Check("bob", "10.0.0.1", kStart + absl::Minutes(15)).ok());
}

TEST(LoginGuardTest, BlocksAnAddressTryingManyAccounts) {
  LoginGuardOptions options;
  options.max_account_failures = 100;
  options.max_address_failures = 4;
  LoginGuard guard(options);
  for (int i = 0; i < 4; ++i) guard.RecordFailure("user" + std::to_string(i), "10.0.0.1", kStart);
  EXPECT_TRUE(absl::IsResourceExhausted(guard.Check("fresh", "10.0.0.1", kStart)));
  EXPECT_TRUE(guard.Check("fresh", "10.0.0.2", kStart).ok());
}

TEST(LoginGuardTest, SuccessClearsTheAccountsFailures) {
  LoginGuardOptions options;
  options.max_account_failures = 2;
  LoginGuard guard(options);
  guard.RecordFailure("bob", "a", kStart);
  guard.RecordSuccess("bob");
  guard.RecordFailure("bob", "a", kStart);
  EXPECT_TRUE(guard.Check("bob", "a", kStart).ok());
}

TEST(LoginGuardTest, CachedPasswordsExpireAndFollowTheStoredHash) {
  LoginGuardOptions options;
  options.cache_ttl = absl::Minutes(10);
  LoginGuard guard(options);
  guard.Remember("bob", "secret password", "$argon2id$one", kStart);
  EXPECT_TRUE(guard.IsCached("bob", "secret password", "$argon2id$one", kStart));
  EXPECT_TRUE(guard.IsCached("BOB", "secret password", "$argon2id$one", kStart));
  EXPECT_FALSE(guard.IsCached("bob", "wrong password", "$argon2id$one", kStart));
  EXPECT_FALSE(guard.IsCached("alice", "secret password", "$argon2id$one", kStart));
  // A changed password (another stored hash) is never answered from the cache.
  EXPECT_FALSE(guard.IsCached("bob", "secret password", "$argon2id$two", kStart));
  guard.Remember("bob", "secret password", "$argon2id$one", kStart);
  EXPECT_FALSE(
      guard.IsCached("bob", "secret password", "$argon2id$one", kStart + absl::Minutes(10)));
  // A failure forgets what was cached.
  guard.Remember("bob", "secret password", "$argon2id$one", kStart);
  guard.RecordFailure("bob", "a", kStart);
  EXPECT_FALSE(guard.IsCached("bob", "secret password", "$argon2id$one", kStart));
}

TEST(LoginGuardTest, MemoryIsBounded) {
  LoginGuardOptions options;
  options.max_entries = 10;
  options.max_address_failures = 1000;
  LoginGuard guard(options);
  for (int i = 0; i < 1000; ++i) {
    guard.RecordFailure("u" + std::to_string(i), "addr" + std::to_string(i), kStart);
  }
  EXPECT_LE(guard.tracked(), 20u);
  EXPECT_GT(guard.tracked(), 0u);
}

TEST(LoginGuardTest, AddressWithoutPort) {
  EXPECT_EQ(AddressWithoutPort("127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(AddressWithoutPort("[::1]:5000"), "::1");
  EXPECT_EQ(AddressWithoutPort("::1"), "::1");
  EXPECT_EQ(AddressWithoutPort("host"), "host");
}

}  // namespace
}  // namespace pgxn::origin
