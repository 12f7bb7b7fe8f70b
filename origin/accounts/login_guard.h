// Protects password checks on the origin: slows down repeated failures
// without ever locking an account, notices accounts under attack, and
// remembers recent successes.
//
// Throttling, per (account, client address) and per client address: the
// first `free_failures` (resp. `free_address_failures`) failures cost nothing;
// after that each further attempt must wait `first_delay`, doubling with every
// failure up to `max_delay`, after the last failure (HTTP 429 with the wait).
// A key's failures are forgotten once it has been quiet for `forget_after`,
// or, for a (account, address) pair, at the pair's first success. Nothing is
// counted per account alone: failures from other addresses never delay the
// owner, so nobody can keep an author from logging in by guessing wrong
// (PGXN's and this origin's former per-account lockout allowed that). A
// client address is the caller's key for it (base::ClientKey: an IPv6
// client by its /64).
//
// Attempts are reserved before the expensive hash (Begin) and settled after
// it (Finish): an attempt in flight counts as a failure until it is settled,
// so N concurrent wrong guesses cannot get past the free failures, and past
// them only one attempt at a time is let through per key. An attempt held up
// only by others in flight (not by failures) waits up to `in_flight_wait`
// for them to settle rather than being refused, so a CI job's parallel
// uploads with the right password all go through; and a password the cache
// has just matched is admitted without a reservation (AdmitCached) while the
// client is within its free failures.
//
// Attack detection: failed and refused attempts on one account, from every
// address, since it was last quiet for `attack_window`; when they reach
// `attack_threshold` the account is under attack until it is quiet again. Begin
// and Finish report the moment it starts (once per attack), so the caller can
// log it and mail the owner; counters for /metrics are kept here.
//
// Cache: Argon2id costs tens of milliseconds by design; a CI job that uploads
// many releases would pay it each time (and an upload is verified twice: in
// the HTTP server's screen before the body, then in the handler). A verified
// (nickname, password) pair is remembered for `cache_ttl` as a keyed digest
// (key random per process) together with the stored hash it matched, so a
// changed password or status invalidates it at once.
//
// Thread-safe. Time is passed in, so tests control it. Memory is bounded:
// each table holds at most `max_entries` keys.
#ifndef PGXN_ORIGIN_ACCOUNTS_LOGIN_GUARD_H_
#define PGXN_ORIGIN_ACCOUNTS_LOGIN_GUARD_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace pgxn::origin {

struct LoginGuardOptions {
  int free_failures = 5;           // per (account, address)
  int free_address_failures = 20;  // per address, over every account
  absl::Duration first_delay = absl::Seconds(30);
  absl::Duration max_delay = absl::Minutes(15);
  absl::Duration forget_after = absl::Hours(1);
  absl::Duration in_flight_wait = absl::Seconds(2);
  int attack_threshold = 10;
  absl::Duration attack_window = absl::Hours(1);
  absl::Duration cache_ttl = absl::Minutes(10);
  size_t max_entries = 100'000;
};

// What /metrics shows of the guard.
struct LoginGuardCounters {
  uint64_t failures = 0;               // wrong passwords, unknown or inactive accounts
  uint64_t throttled = 0;              // attempts refused with 429
  uint64_t attacks = 0;                // accounts that came under attack
  uint64_t accounts_under_attack = 0;  // now
  uint64_t waiting = 0;                // attempts waiting now for others in flight
};

// An account that has just come under attack (reported once per attack).
struct AttackNotice {
  std::string nickname;  // lower case
  int attempts = 0;      // failed and refused, since the account was last quiet
  int addresses = 0;     // distinct client addresses among them (counted up to 100)
};

class LoginGuard {
 public:
  explicit LoginGuard(LoginGuardOptions options = LoginGuardOptions());

  // A reserved attempt; settle it with Finish exactly once.
  struct Attempt {
    std::string account;  // lower case
    std::string address;
  };

  // Reserves an attempt for `nickname` from `address` (base::ClientKey).
  // ResourceExhausted ("Too many failed logins; try again in N seconds"),
  // with the wait also in RetryAfterSeconds(status), when the pair or the
  // address must wait. `attack` is set when this refusal makes the account
  // one under attack.
  absl::StatusOr<Attempt> Begin(absl::string_view nickname, absl::string_view address,
                                absl::Time now, AttackNotice* attack = nullptr);
  // Settles `attempt`: a success clears the pair's failures; a failure counts
  // for the pair, the address and the account. Returns the notice when this
  // failure makes the account one under attack.
  absl::optional<AttackNotice> Finish(const Attempt& attempt, bool success, absl::Time now);
  // For a password IsCached has just matched: true, and the pair's failures
  // cleared as by a success, unless the pair or the address is past its free
  // failures. When false, the attempt must go through Begin like any other,
  // so a delayed client cannot use the cache to test guesses.
  bool AdmitCached(absl::string_view nickname, absl::string_view address, absl::Time now);

  // Whether this password was verified against `stored_hash` within the TTL.
  bool IsCached(absl::string_view nickname, absl::string_view password,
                absl::string_view stored_hash, absl::Time now);
  void Remember(absl::string_view nickname, absl::string_view password,
                absl::string_view stored_hash, absl::Time now);

  LoginGuardCounters counters(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);

  // How many pairs, addresses and accounts the guard tracks (to check the
  // memory bound).
  size_t tracked() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Throttle {
    int failures = 0;
    int in_flight = 0;
    absl::Time last_failure = absl::InfinitePast();
  };
  struct Target {
    int attempts = 0;
    absl::Time first = absl::InfinitePast();
    absl::Time last = absl::InfinitePast();
    absl::flat_hash_set<std::string> addresses;
    bool under_attack = false;
  };
  using Throttles = absl::flat_hash_map<std::string, Throttle>;

  std::string Digest(absl::string_view nickname, absl::string_view password) const;
  // The time from which `throttle` lets one more attempt through.
  absl::Time NextAllowed(const Throttle& throttle, int free, absl::Time now) const;
  Throttle& Entry(Throttles& table, const std::string& key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends an attempt reserved in `table` under `key`: counts a failure, or on
  // a success clears the failures if `forget_on_success`.
  void Settle(Throttles& table, const std::string& key, bool success, bool forget_on_success,
              absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a failed or refused attempt on the account; the notice when it
  // starts an attack.
  absl::optional<AttackNotice> NoteAttempt(const std::string& account, const std::string& address,
                                           absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Quiet(const Throttle& throttle, absl::Time now) const;
  // Whether only attempts in flight, not failures, keep `key` of `table` from
  // a new attempt.
  bool HeldUpByInFlight(const Throttles& table, const std::string& key, int free) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::string PairKey(absl::string_view account, absl::string_view address);

  const LoginGuardOptions options_;
  const std::string key_;  // random per process
  mutable absl::Mutex mu_;
  Throttles pairs_ ABSL_GUARDED_BY(mu_);      // account + NUL + address
  Throttles addresses_ ABSL_GUARDED_BY(mu_);  // address
  absl::flat_hash_map<std::string, Target> targets_ ABSL_GUARDED_BY(mu_);  // account
  struct Verified {
    std::string digest;       // keyed digest of the password
    std::string stored_hash;  // the Argon2id string it matched
    absl::Time expires;
  };
  absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(mu_);
  uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t throttled_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t attacks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_LOGIN_GUARD_H_
