#include "origin/accounts/login_guard.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "origin/accounts/rate_limit.h"

namespace pgxn::origin {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// One attempt, settled at once.
absl::Status Try(LoginGuard& guard, absl::string_view nick, absl::string_view address, bool success,
                 absl::Time now) {
  absl::StatusOr<LoginGuard::Attempt> attempt = guard.Begin(nick, address, now);
  if (!attempt.ok()) return attempt.status();
  guard.Finish(*attempt, success, now);
  return absl::OkStatus();
}

TEST(LoginGuardTest, FailuresFromOneAddressWaitLongerAndLonger) {
  LoginGuardOptions options;
  options.free_failures = 3;
  options.first_delay = absl::Seconds(30);
  options.max_delay = absl::Minutes(2);
  LoginGuard guard(options);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Try(guard, "bob", "10.0.0.1", false, kStart).ok()) << i;
  }
  absl::Status blocked = Try(guard, "Bob", "10.0.0.1", false, kStart + absl::Seconds(5));
  EXPECT_TRUE(absl::IsResourceExhausted(blocked)) << blocked;
  EXPECT_EQ(blocked.message(), "Too many failed logins; try again in 25 seconds");
  EXPECT_EQ(RetryAfterSeconds(blocked), 25);
  // The delays double (30 s, 60 s, 120 s) and stop at max_delay.
  absl::Time now = kStart + absl::Seconds(30);
  for (absl::Duration delay : {absl::Seconds(60), absl::Seconds(120), absl::Seconds(120)}) {
    ASSERT_TRUE(Try(guard, "bob", "10.0.0.1", false, now).ok()) << now;
    EXPECT_FALSE(Try(guard, "bob", "10.0.0.1", false, now + delay - absl::Seconds(1)).ok())
        << delay;
    now += delay;
  }
  // A success from there clears the pair.
  EXPECT_TRUE(Try(guard, "bob", "10.0.0.1", true, now).ok());
  EXPECT_TRUE(Try(guard, "bob", "10.0.0.1", false, now).ok());
}

TEST(LoginGuardTest, FailuresElsewhereNeverDelayTheOwner) {
  LoginGuardOptions options;
  options.free_failures = 5;
  LoginGuard guard(options);
  for (int i = 0; i < 50; ++i) {
    (void)Try(guard, "bob", absl::StrCat("10.0.0.", i % 5), false, kStart + absl::Seconds(i));
  }
  EXPECT_FALSE(Try(guard, "bob", "10.0.0.1", false, kStart + absl::Seconds(50)).ok());
  EXPECT_TRUE(Try(guard, "bob", "192.0.2.7", true, kStart + absl::Seconds(50)).ok());
}

TEST(LoginGuardTest, AnAddressTryingManyAccountsIsDelayed) {
  LoginGuardOptions options;
  options.free_failures = 100;
  options.free_address_failures = 4;
  LoginGuard guard(options);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(Try(guard, absl::StrCat("user", i), "10.0.0.1", false, kStart).ok());
  }
  EXPECT_TRUE(absl::IsResourceExhausted(Try(guard, "fresh", "10.0.0.1", true, kStart)));
  EXPECT_TRUE(Try(guard, "fresh", "10.0.0.2", true, kStart).ok());
}

TEST(LoginGuardTest, ConcurrentAttemptsCannotPassTheFreeFailures) {
  LoginGuardOptions options;
  options.free_failures = 5;
  options.in_flight_wait = absl::ZeroDuration();
  LoginGuard guard(options);
  // Twenty guesses arrive before any is settled: five are let through.
  std::vector<LoginGuard::Attempt> granted;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<LoginGuard::Attempt> attempt = guard.Begin("bob", "10.0.0.1", kStart);
    if (attempt.ok()) granted.push_back(*attempt);
  }
  EXPECT_EQ(granted.size(), 5u);
  for (const auto& attempt : granted) guard.Finish(attempt, false, kStart);
  // Past the delay, one at a time: a second attempt while one is in flight waits.
  const absl::Time later = kStart + absl::Hours(1) - absl::Seconds(1);
  absl::StatusOr<LoginGuard::Attempt> one = guard.Begin("bob", "10.0.0.1", later);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_FALSE(guard.Begin("bob", "10.0.0.1", later).ok());
  guard.Finish(*one, true, later);
  EXPECT_TRUE(guard.Begin("bob", "10.0.0.1", later).ok());
}

TEST(LoginGuardTest, ConcurrentThreadsCannotPassTheFreeFailures) {
  LoginGuardOptions options;
  options.free_failures = 5;
  LoginGuard guard(options);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  absl::Notification go;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      go.WaitForNotification();
      for (int j = 0; j < 10; ++j) {
        absl::StatusOr<LoginGuard::Attempt> attempt = guard.Begin("bob", "10.0.0.1", kStart);
        if (!attempt.ok()) continue;
        ++granted;
        guard.Finish(*attempt, false, kStart);
      }
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(granted.load(), 5);
}

TEST(LoginGuardTest, AnAttemptHeldUpOnlyByOthersInFlightWaitsForThem) {
  LoginGuardOptions options;
  options.free_failures = 5;
  options.in_flight_wait = absl::Minutes(5);  // a liveness bound only
  LoginGuard guard(options);
  // A CI job's parallel uploads: five in flight, a sixth arrives.
  std::vector<LoginGuard::Attempt> running;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<LoginGuard::Attempt> attempt = guard.Begin("bob", "10.0.0.1", kStart);
    ASSERT_TRUE(attempt.ok()) << attempt.status();
    running.push_back(*attempt);
  }
  absl::Status sixth;
  std::thread late([&] {
    absl::StatusOr<LoginGuard::Attempt> attempt = guard.Begin("bob", "10.0.0.1", kStart);
    sixth = attempt.status();
    if (attempt.ok()) guard.Finish(*attempt, true, kStart);
  });
  while (guard.counters(kStart).waiting == 0) std::this_thread::yield();
  // The right password settles the first: the sixth goes through, not 429.
  guard.Finish(running[0], true, kStart);
  late.join();
  EXPECT_TRUE(sixth.ok()) << sixth;
  for (size_t i = 1; i < running.size(); ++i) guard.Finish(running[i], true, kStart);
  EXPECT_EQ(guard.counters(kStart).throttled, 0u);
}

TEST(LoginGuardTest, ACachedPasswordIsAdmittedOnlyWithinTheFreeFailures) {
  LoginGuardOptions options;
  options.free_failures = 2;
  LoginGuard guard(options);
  EXPECT_TRUE(guard.AdmitCached("bob", "10.0.0.1", kStart));
  ASSERT_TRUE(Try(guard, "bob", "10.0.0.1", false, kStart).ok());
  // One typo: still admitted, and the typo is forgotten.
  EXPECT_TRUE(guard.AdmitCached("Bob", "10.0.0.1", kStart));
  ASSERT_TRUE(Try(guard, "bob", "10.0.0.1", false, kStart).ok());
  ASSERT_TRUE(Try(guard, "bob", "10.0.0.1", false, kStart).ok());
  // Past the free failures the cache opens nothing: the guesser would
  // otherwise learn at full speed which guess is the cached password.
  EXPECT_FALSE(guard.AdmitCached("bob", "10.0.0.1", kStart));
  EXPECT_TRUE(guard.AdmitCached("bob", "10.0.0.2", kStart));
}

TEST(LoginGuardTest, ReportsAnAttackOnceAndCountsIt) {
  LoginGuardOptions options;
  options.free_failures = 2;
  options.attack_threshold = 6;
  options.attack_window = absl::Hours(1);
  LoginGuard guard(options);
  std::vector<AttackNotice> notices;
  for (int i = 0; i < 20; ++i) {
    const absl::Time now = kStart + absl::Seconds(i);
    AttackNotice notice;
    absl::StatusOr<LoginGuard::Attempt> attempt =
        guard.Begin("Bob", absl::StrCat("10.0.0.", i % 2), now, &notice);
    if (!attempt.ok()) {
      if (!notice.nickname.empty()) notices.push_back(notice);
      continue;
    }
    if (auto started = guard.Finish(*attempt, false, now)) notices.push_back(*started);
  }
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].nickname, "bob");
  EXPECT_EQ(notices[0].attempts, 6);
  EXPECT_EQ(notices[0].addresses, 2);
  LoginGuardCounters counters = guard.counters(kStart + absl::Minutes(1));
  EXPECT_EQ(counters.failures, 4u);
  EXPECT_EQ(counters.throttled, 16u);
  EXPECT_EQ(counters.attacks, 1u);
  EXPECT_EQ(counters.accounts_under_attack, 1u);
  // Quiet for the window: over, and a new one is reported again.
  EXPECT_EQ(guard.counters(kStart + absl::Hours(2)).accounts_under_attack, 0u);
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
  ASSERT_TRUE(Try(guard, "bob", "a", false, kStart).ok());
  EXPECT_FALSE(guard.IsCached("bob", "secret password", "$argon2id$one", kStart));
}

TEST(LoginGuardTest, MemoryIsBounded) {
  LoginGuardOptions options;
  options.max_entries = 10;
  LoginGuard guard(options);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(
        Try(guard, "u" + std::to_string(i), "addr" + std::to_string(i), false, kStart).ok());
  }
  EXPECT_LE(guard.tracked(), 30u);
  EXPECT_GT(guard.tracked(), 0u);
}

}  // namespace
}  // namespace pgxn::origin
