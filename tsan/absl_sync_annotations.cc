// Makes ThreadSanitizer see abseil's synchronisation in a TSan build of
// pgxnd, whose abseil is Debian's shared library, not built with TSan.
//
// Why: absl::Mutex tells TSan about each lock and unlock through
// __tsan_mutex_* calls compiled in only when abseil itself is built with
// -fsanitize=thread. Debian's libabsl_synchronization is not, so TSan sees no
// happens-before edge between a thread that unlocks a mutex and the next
// that locks it, and reports a race on every member an absl::Mutex guards.
//
// How: the top-level CMakeLists.txt, when CMAKE_CXX_FLAGS holds
// -fsanitize=thread, links this file into every executable with GNU ld's
// `--wrap=SYMBOL` for each function below named `__wrap_SYMBOL`: our calls
// to SYMBOL (absl::Mutex::Lock, ...) then land here, and `__real_SYMBOL` is
// abseil's. Each wrapper tells TSan what abseil's own TSan build would
// (absl/synchronization/mutex.cc), through the public annotations of
// <sanitizer/tsan_interface.h>: a lock is pre_lock/post_lock around the real
// call, an unlock pre_unlock/post_unlock, reader locks carry
// __tsan_mutex_read_lock; a CondVar wait or a Mutex::Await releases the
// mutex before and acquires it after; Notify releases and a successful wait
// for the notification acquires. TSan ignores memory accesses between the pre
// and the post calls, so a Condition abseil evaluates for another waiter
// inside Lock or Unlock is not taken for an unsynchronised read (abseil
// evaluates it with the mutex held).
//
// Only calls from our executables are wrapped (--wrap rewrites references at
// static link time): the calls gRPC, RocksDB or abseil make inside their own
// shared libraries stay unseen, and so do those libraries' memory accesses,
// which are not instrumented either. The names are those of the abseil
// installed (Debian 12's 20220623, inline namespace "debian3"); another one
// fails to compile here (the static_assert) rather than silently missing.
//
// Nobody calls this file's functions by name; tsan/absl_sync_annotations_test.cc
// checks that TSan sees each kind of synchronisation. Thread-safe as abseil is.
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstddef>
#include <string_view>

#include "absl/base/config.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

static_assert(std::string_view(ABSL_INTERNAL_TOKEN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME)) ==
                  "debian3",
              "the mangled names below are those of abseil's inline namespace \"debian3\"");

namespace {

using absl::CondVar;
using absl::Condition;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

// The address of Notification's std::atomic<bool> notified_yet_ (its second
// member, after the Mutex): HasBeenNotified() is inline, an acquire load of
// it compiled with TSan, so Notify's release must be on that address for the
// two to pair up.
struct NotificationLayout {
  Mutex mutex;
  std::atomic<bool> notified_yet;
};
static_assert(sizeof(NotificationLayout) == sizeof(Notification));

void* NotifiedFlag(const Notification* notification) {
  return const_cast<char*>(reinterpret_cast<const char*>(notification)) +
         offsetof(NotificationLayout, notified_yet);
}

void Locking(Mutex* mu, unsigned flags) { __tsan_mutex_pre_lock(mu, flags); }
void Locked(Mutex* mu, unsigned flags) { __tsan_mutex_post_lock(mu, flags, 0); }
void Unlocking(Mutex* mu, unsigned flags) { __tsan_mutex_pre_unlock(mu, flags); }
void Unlocked(Mutex* mu, unsigned flags) { __tsan_mutex_post_unlock(mu, flags); }

}  // namespace

// Every name is "__wrap_" + the mangled name of the abseil function in the
// comment above it; the top-level CMakeLists.txt reads them from this file.
extern "C" {

// absl::Mutex::Lock()
void __real__ZN4absl7debian35Mutex4LockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex4LockEv(Mutex* mu) {
  Locking(mu, 0);
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  Locked(mu, 0);
}

// absl::Mutex::Unlock()
void __real__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex6UnlockEv(Mutex* mu) {
  Unlocking(mu, 0);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
  Unlocked(mu, 0);
}

// absl::Mutex::TryLock()
bool __real__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu);
bool __wrap__ZN4absl7debian35Mutex7TryLockEv(Mutex* mu) {
  Locking(mu, __tsan_mutex_try_lock);
  const bool locked = __real__ZN4absl7debian35Mutex7TryLockEv(mu);
  Locked(mu, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed));
  return locked;
}

// absl::Mutex::ReaderLock()
void __real__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(Mutex* mu) {
  Locking(mu, __tsan_mutex_read_lock);
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  Locked(mu, __tsan_mutex_read_lock);
}

// absl::Mutex::ReaderUnlock()
void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu);
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(Mutex* mu) {
  Unlocking(mu, __tsan_mutex_read_lock);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
  Unlocked(mu, __tsan_mutex_read_lock);
}

// absl::Mutex::ReaderTryLock()
bool __real__ZN4absl7debian35Mutex13ReaderTryLockEv(Mutex* mu);
bool __wrap__ZN4absl7debian35Mutex13ReaderTryLockEv(Mutex* mu) {
  const unsigned flags = __tsan_mutex_read_lock | __tsan_mutex_try_lock;
  Locking(mu, flags);
  const bool locked = __real__ZN4absl7debian35Mutex13ReaderTryLockEv(mu);
  Locked(mu, flags | (locked ? 0 : __tsan_mutex_try_lock_failed));
  return locked;
}

// absl::Mutex::LockWhen(Condition const&)
void __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(Mutex* mu, const Condition& cond) {
  Locking(mu, 0);
  __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(mu, cond);
  Locked(mu, 0);
}

// absl::Mutex::ReaderLockWhen(Condition const&)
void __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(Mutex* mu,
                                                                       const Condition& cond);
void __wrap__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(Mutex* mu,
                                                                       const Condition& cond) {
  Locking(mu, __tsan_mutex_read_lock);
  __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(mu, cond);
  Locked(mu, __tsan_mutex_read_lock);
}

// absl::Mutex::LockWhenWithTimeout(Condition const&, Duration): the mutex is
// held on return whatever the result.
bool __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout);
bool __wrap__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  Locking(mu, 0);
  const bool met =
      __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, cond, timeout);
  Locked(mu, 0);
  return met;
}

// absl::Mutex::LockWhenWithDeadline(Condition const&, Time)
bool __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline);
bool __wrap__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  Locking(mu, 0);
  const bool met = __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
      mu, cond, deadline);
  Locked(mu, 0);
  return met;
}

// absl::Mutex::ReaderLockWhenWithTimeout(Condition const&, Duration)
bool __real__ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout);
bool __wrap__ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  Locking(mu, __tsan_mutex_read_lock);
  const bool met =
      __real__ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, cond, timeout);
  Locked(mu, __tsan_mutex_read_lock);
  return met;
}

// absl::Mutex::ReaderLockWhenWithDeadline(Condition const&, Time)
bool __real__ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline);
bool __wrap__ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  Locking(mu, __tsan_mutex_read_lock);
  const bool met =
      __real__ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
          mu, cond, deadline);
  Locked(mu, __tsan_mutex_read_lock);
  return met;
}

// absl::Mutex::Await(Condition const&): the caller holds the mutex (as a
// writer; abseil's reader Await is the same call); while it waits others
// lock it, so TSan must see an unlock before and a lock after.
void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex* mu, const Condition& cond);
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(Mutex* mu, const Condition& cond) {
  Unlocking(mu, 0);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, cond);
  Unlocked(mu, 0);
  Locking(mu, 0);
  Locked(mu, 0);
}

// absl::Mutex::AwaitWithTimeout(Condition const&, Duration)
bool __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout);
bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    Mutex* mu, const Condition& cond, Duration timeout) {
  Unlocking(mu, 0);
  const bool met = __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
      mu, cond, timeout);
  Unlocked(mu, 0);
  Locking(mu, 0);
  Locked(mu, 0);
  return met;
}

// absl::Mutex::AwaitWithDeadline(Condition const&, Time)
bool __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline);
bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    Mutex* mu, const Condition& cond, Time deadline) {
  Unlocking(mu, 0);
  const bool met = __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
      mu, cond, deadline);
  Unlocked(mu, 0);
  Locking(mu, 0);
  Locked(mu, 0);
  return met;
}

// absl::Mutex::~Mutex(), both the complete and the base object destructor:
// the address may hold another mutex later.
void __real__ZN4absl7debian35MutexD1Ev(Mutex* mu);
void __wrap__ZN4absl7debian35MutexD1Ev(Mutex* mu) {
  __tsan_mutex_destroy(mu, 0);
  __real__ZN4absl7debian35MutexD1Ev(mu);
}
void __real__ZN4absl7debian35MutexD2Ev(Mutex* mu);
void __wrap__ZN4absl7debian35MutexD2Ev(Mutex* mu) {
  __tsan_mutex_destroy(mu, 0);
  __real__ZN4absl7debian35MutexD2Ev(mu);
}

// absl::CondVar::Wait(Mutex*): an unlock of the mutex, then a lock of it.
void __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu);
void __wrap__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(CondVar* cv, Mutex* mu) {
  Unlocking(mu, 0);
  __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(cv, mu);
  Unlocked(mu, 0);
  Locking(mu, 0);
  Locked(mu, 0);
}

// absl::CondVar::WaitWithTimeout(Mutex*, Duration)
bool __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout);
bool __wrap__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    CondVar* cv, Mutex* mu, Duration timeout) {
  Unlocking(mu, 0);
  const bool timed_out =
      __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(cv, mu, timeout);
  Unlocked(mu, 0);
  Locking(mu, 0);
  Locked(mu, 0);
  return timed_out;
}

// absl::CondVar::WaitWithDeadline(Mutex*, Time)
bool __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(CondVar* cv,
                                                                               Mutex* mu,
                                                                               Time deadline);
bool __wrap__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(CondVar* cv,
                                                                               Mutex* mu,
                                                                               Time deadline) {
  Unlocking(mu, 0);
  const bool timed_out =
      __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(cv, mu, deadline);
  Unlocked(mu, 0);
  Locking(mu, 0);
  Locked(mu, 0);
  return timed_out;
}

// absl::Notification::Notify()
void __real__ZN4absl7debian312Notification6NotifyEv(Notification* n);
void __wrap__ZN4absl7debian312Notification6NotifyEv(Notification* n) {
  __tsan_release(NotifiedFlag(n));
  __real__ZN4absl7debian312Notification6NotifyEv(n);
}

// absl::Notification::WaitForNotification() const
void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(const Notification* n);
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(const Notification* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  __tsan_acquire(NotifiedFlag(n));
}

// absl::Notification::WaitForNotificationWithTimeout(Duration) const
bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout);
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const Notification* n, Duration timeout) {
  const bool notified =
      __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
          n, timeout);
  if (notified) __tsan_acquire(NotifiedFlag(n));
  return notified;
}

// absl::Notification::WaitForNotificationWithDeadline(Time) const
bool __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const Notification* n, Time deadline);
bool __wrap__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const Notification* n, Time deadline) {
  const bool notified =
      __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
          n, deadline);
  if (notified) __tsan_acquire(NotifiedFlag(n));
  return notified;
}

}  // extern "C"
