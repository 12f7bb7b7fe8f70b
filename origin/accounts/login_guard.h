// Protects password checks on the origin: slows down repeated failures and
// remembers recent successes.
//
// Throttling: after `max_account_failures` failed logins for one account, or
// `max_address_failures` from one client address, within `window`, further
// attempts are refused (HTTP 429) until the oldest failure leaves the window,
// so guessing a password costs hours, not seconds, and a wrong guess never
// reaches the expensive hash. A success clears the account's failures.
//
// Cache: Argon2id costs tens of milliseconds by design; a CI job that uploads
// many releases would pay it each time. A verified (nickname, password) pair
// is remembered for `cache_ttl` as a keyed SHA-256 (key random per process)
// together with the stored hash it matched, so a changed password or status
// invalidates it at once.
//
// Thread-safe. Time is passed in, so tests control it. Memory is bounded:
// at most `max_entries` accounts and addresses are tracked each.
#ifndef PGXN_ORIGIN_ACCOUNTS_LOGIN_GUARD_H_
#define PGXN_ORIGIN_ACCOUNTS_LOGIN_GUARD_H_

#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pgxn::origin {

struct LoginGuardOptions {
  int max_account_failures = 5;
  int max_address_failures = 20;
  absl::Duration window = absl::Minutes(15);
  absl::Duration cache_ttl = absl::Minutes(10);
  size_t max_entries = 100'000;
};

class LoginGuard {
 public:
  explicit LoginGuard(LoginGuardOptions options = LoginGuardOptions());

  // ResourceExhausted, saying when to retry, if the account or the address
  // has failed too often within the window.
  absl::Status Check(absl::string_view nickname, absl::string_view address, absl::Time now);
  void RecordFailure(absl::string_view nickname, absl::string_view address, absl::Time now);
  void RecordSuccess(absl::string_view nickname);

  // Whether this password was verified against `stored_hash` within the TTL.
  bool IsCached(absl::string_view nickname, absl::string_view password,
                absl::string_view stored_hash, absl::Time now);
  void Remember(absl::string_view nickname, absl::string_view password,
                absl::string_view stored_hash, absl::Time now);

  // How many accounts and addresses have failures on record (to check the
  // memory bound).
  size_t tracked() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Verified {
    std::string digest;       // keyed SHA-256 of the password
    std::string stored_hash;  // the Argon2id string it matched
    absl::Time expires;
  };
  std::string Digest(absl::string_view nickname, absl::string_view password) const;
  // Drops failures older than the window; true if `key` has reached `max`.
  bool Blocked(absl::flat_hash_map<std::string, std::deque<absl::Time>>& failures,
               const std::string& key, int max, absl::Time now, absl::Time* retry_at)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Add(absl::flat_hash_map<std::string, std::deque<absl::Time>>& failures,
           const std::string& key, int max, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LoginGuardOptions options_;
  const std::string key_;  // random per process
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::deque<absl::Time>> account_failures_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::deque<absl::Time>> address_failures_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(mu_);
};

// The client address without its port: "127.0.0.1:5000" → "127.0.0.1",
// "[::1]:5000" → "::1".
std::string AddressWithoutPort(absl::string_view remote_address);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_LOGIN_GUARD_H_
