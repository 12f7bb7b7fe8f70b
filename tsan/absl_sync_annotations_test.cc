// Each kind of abseil synchronisation our code uses orders a plain (not
// atomic) member between two threads. In an ordinary build these only check
// the values; in a ThreadSanitizer build (ops/test --sanitize=thread) they
// are what shows that absl_sync_annotations.cc works: without it TSan sees
// none of these orderings through Debian's uninstrumented abseil, reports a
// data race on `value` in each, and the test binary fails.
#include <thread>

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace pgxn::tsan {
namespace {

constexpr int kRounds = 1000;

TEST(AbslSyncAnnotationsTest, MutexLockOrdersWrites) {
  absl::Mutex mu;
  int value = 0;
  auto add = [&] {
    for (int i = 0; i < kRounds; ++i) {
      absl::MutexLock lock(&mu);
      ++value;
    }
  };
  std::thread other(add);
  add();
  other.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(value, 2 * kRounds);
}

TEST(AbslSyncAnnotationsTest, TryLockOrdersWrites) {
  absl::Mutex mu;
  int value = 0;
  auto add = [&] {
    for (int done = 0; done < kRounds;) {
      if (!mu.TryLock()) continue;
      ++value;
      ++done;
      mu.Unlock();
    }
  };
  std::thread other(add);
  add();
  other.join();
  EXPECT_EQ(value, 2 * kRounds);
}

TEST(AbslSyncAnnotationsTest, ReaderLockSeesWriterWrites) {
  absl::Mutex mu;
  int value = 0;
  std::thread writer([&] {
    for (int i = 1; i <= kRounds; ++i) {
      absl::WriterMutexLock lock(&mu);
      value = i;
    }
  });
  int last = 0;
  while (last < kRounds) {
    absl::ReaderMutexLock lock(&mu);
    EXPECT_GE(value, last);
    last = value;
  }
  writer.join();
  EXPECT_EQ(last, kRounds);
}

TEST(AbslSyncAnnotationsTest, CondVarWaitSeesSignalledState) {
  absl::Mutex mu;
  absl::CondVar changed;
  int value = 0;
  std::thread producer([&] {
    for (int i = 1; i <= kRounds; ++i) {
      absl::MutexLock lock(&mu);
      value = i;
      changed.Signal();
    }
  });
  {
    absl::MutexLock lock(&mu);
    while (value < kRounds / 2) changed.Wait(&mu);
    while (value < kRounds) changed.WaitWithTimeout(&mu, absl::Seconds(60));
  }
  producer.join();
  EXPECT_EQ(value, kRounds);
}

TEST(AbslSyncAnnotationsTest, ConditionsOrderWrites) {
  absl::Mutex mu;
  int value = 0;
  bool ready = false;
  std::thread other([&] {
    {
      absl::MutexLock lock(&mu);
      value = 1;
      ready = true;
    }
    absl::MutexLock lock(&mu, absl::Condition(+[](int* v) { return *v == 2; }, &value));
    value = 3;
  });
  mu.LockWhen(absl::Condition(&ready));
  EXPECT_EQ(value, 1);
  value = 2;
  mu.Await(absl::Condition(+[](int* v) { return *v == 3; }, &value));
  EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(+[](int* v) { return *v == 3; }, &value),
                                  absl::Seconds(60)));
  value = 4;
  mu.Unlock();
  other.join();
  EXPECT_TRUE(mu.LockWhenWithTimeout(absl::Condition(+[](int* v) { return *v == 4; }, &value),
                                     absl::Seconds(60)));
  mu.Unlock();
}

TEST(AbslSyncAnnotationsTest, NotificationOrdersWrites) {
  int value = 0;
  absl::Notification written;
  std::thread writer([&] {
    value = 1;
    written.Notify();
  });
  written.WaitForNotification();
  EXPECT_EQ(value, 1);
  writer.join();

  int polled = 0;
  absl::Notification polled_written;
  std::thread poll_writer([&] {
    polled = 1;
    polled_written.Notify();
  });
  while (!polled_written.HasBeenNotified()) std::this_thread::yield();
  EXPECT_EQ(polled, 1);
  poll_writer.join();

  int timed = 0;
  absl::Notification timed_written;
  std::thread timed_writer([&] {
    timed = 1;
    timed_written.Notify();
  });
  ASSERT_TRUE(timed_written.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_EQ(timed, 1);
  timed_writer.join();
}

}  // namespace
}  // namespace pgxn::tsan
