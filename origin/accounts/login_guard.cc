#include "origin/accounts/login_guard.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "origin/accounts/rate_limit.h"

namespace pgxn::origin {
namespace {

std::string RandomKey() {
  if (sodium_init() < 0) std::abort();
  std::string key(crypto_generichash_KEYBYTES, '\0');
  randombytes_buf(key.data(), key.size());
  return key;
}

}  // namespace

LoginGuard::LoginGuard(LoginGuardOptions options) : options_(options), key_(RandomKey()) {}

std::string LoginGuard::Digest(absl::string_view nickname, absl::string_view password) const {
  // The nickname is part of the input so equal passwords of two accounts
  // never share a digest; the NUL keeps "ab"+"c" apart from "a"+"bc".
  const std::string input = absl::StrCat(nickname, absl::string_view("\0", 1), password);
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                     reinterpret_cast<const unsigned char*>(key_.data()), key_.size());
  return out;
}

absl::Time LoginGuard::NextAllowed(const Throttle& throttle, int free, absl::Time now) const {
  const int counted = throttle.failures + throttle.in_flight;
  if (counted < free) return absl::InfinitePast();
  // Past the free failures every attempt waits for the one before it to be
  // settled, then for a delay that doubles with each failure.
  const int doublings = std::min(counted - free, 30);
  const absl::Duration delay =
      std::min(options_.first_delay * (int64_t{1} << doublings), options_.max_delay);
  if (throttle.in_flight > 0) return now + delay;
  return throttle.last_failure + delay;
}

std::string LoginGuard::PairKey(absl::string_view account, absl::string_view address) {
  return absl::StrCat(account, absl::string_view("\0", 1), address);
}

bool LoginGuard::HeldUpByInFlight(const Throttles& table, const std::string& key, int free) const {
  auto it = table.find(key);
  if (it == table.end()) return false;
  const Throttle& throttle = it->second;
  return throttle.in_flight > 0 && throttle.failures < free &&
         throttle.failures + throttle.in_flight >= free;
}

bool LoginGuard::Quiet(const Throttle& throttle, absl::Time now) const {
  return throttle.in_flight == 0 && throttle.last_failure + options_.forget_after <= now;
}

LoginGuard::Throttle& LoginGuard::Entry(Throttles& table, const std::string& key, absl::Time now) {
  auto it = table.find(key);
  if (it != table.end()) {
    if (Quiet(it->second, now)) it->second = Throttle();
    return it->second;
  }
  if (table.size() >= options_.max_entries) {
    // Full: forget quiet keys; if none is, the table is under attack from many
    // keys and one that is not in flight goes.
    for (auto entry = table.begin(); entry != table.end();) {
      auto current = entry++;
      if (Quiet(current->second, now)) table.erase(current);
    }
    if (table.size() >= options_.max_entries) {
      auto victim = std::find_if(table.begin(), table.end(),
                                 [](const auto& entry) { return entry.second.in_flight == 0; });
      table.erase(victim != table.end() ? victim : table.begin());
    }
  }
  return table[key];
}

absl::optional<AttackNotice> LoginGuard::NoteAttempt(const std::string& account,
                                                     const std::string& address, absl::Time now) {
  auto it = targets_.find(account);
  if (it == targets_.end() && targets_.size() >= options_.max_entries) {
    for (auto entry = targets_.begin(); entry != targets_.end();) {
      auto current = entry++;
      if (current->second.last + options_.attack_window <= now) targets_.erase(current);
    }
    if (targets_.size() >= options_.max_entries) targets_.erase(targets_.begin());
  }
  Target& target = targets_[account];
  if (target.last + options_.attack_window <= now) target = Target();
  if (target.attempts == 0) target.first = now;
  ++target.attempts;
  target.last = now;
  if (target.addresses.size() < 100) target.addresses.insert(address);
  if (target.under_attack || target.attempts < options_.attack_threshold) return absl::nullopt;
  target.under_attack = true;
  ++attacks_;
  return AttackNotice{account, target.attempts, static_cast<int>(target.addresses.size())};
}

absl::StatusOr<LoginGuard::Attempt> LoginGuard::Begin(absl::string_view nickname,
                                                      absl::string_view address, absl::Time now,
                                                      AttackNotice* attack) {
  Attempt attempt{absl::AsciiStrToLower(nickname), std::string(address)};
  const std::string pair_key = PairKey(attempt.account, address);
  absl::MutexLock lock(&mu_);
  // Held up only by attempts in flight: wait for them to settle. Their
  // outcome decides: failures close the door, successes open it.
  auto settled = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !HeldUpByInFlight(pairs_, pair_key, options_.free_failures) &&
           !HeldUpByInFlight(addresses_, attempt.address, options_.free_address_failures);
  };
  if (!settled()) {
    ++waiting_;
    mu_.AwaitWithTimeout(absl::Condition(&settled), options_.in_flight_wait);
    --waiting_;
  }
  Throttle& pair = Entry(pairs_, pair_key, now);
  Throttle& from = Entry(addresses_, attempt.address, now);
  const absl::Time allowed = std::max(NextAllowed(pair, options_.free_failures, now),
                                      NextAllowed(from, options_.free_address_failures, now));
  if (allowed > now) {
    ++throttled_;
    absl::optional<AttackNotice> notice = NoteAttempt(attempt.account, attempt.address, now);
    if (notice.has_value() && attack != nullptr) *attack = *std::move(notice);
    return TooManyRequests("Too many failed logins", allowed - now);
  }
  ++pair.in_flight;
  ++from.in_flight;
  return attempt;
}

void LoginGuard::Settle(Throttles& table, const std::string& key, bool success,
                        bool forget_on_success, absl::Time now) {
  auto it = table.find(key);
  if (it != table.end() && it->second.in_flight > 0) --it->second.in_flight;
  if (success) {
    if (it == table.end()) return;
    if (forget_on_success) it->second.failures = 0;
    // Attempts still in flight stay counted.
    if (it->second.failures == 0 && it->second.in_flight == 0) table.erase(it);
    return;
  }
  Throttle& throttle = it != table.end() ? it->second : Entry(table, key, now);
  ++throttle.failures;
  throttle.last_failure = now;
}

absl::optional<AttackNotice> LoginGuard::Finish(const Attempt& attempt, bool success,
                                                absl::Time now) {
  const std::string pair_key = PairKey(attempt.account, attempt.address);
  absl::MutexLock lock(&mu_);
  Settle(pairs_, pair_key, success, /*forget_on_success=*/true, now);
  // A success does not clear the address's failures: an attacker could
  // otherwise reset them by logging in to an account of their own.
  Settle(addresses_, attempt.address, success, /*forget_on_success=*/false, now);
  if (success) return absl::nullopt;
  ++failures_;
  verified_.erase(attempt.account);
  return NoteAttempt(attempt.account, attempt.address, now);
}

bool LoginGuard::IsCached(absl::string_view nickname, absl::string_view password,
                          absl::string_view stored_hash, absl::Time now) {
  const std::string digest = Digest(absl::AsciiStrToLower(nickname), password);
  absl::MutexLock lock(&mu_);
  auto it = verified_.find(absl::AsciiStrToLower(nickname));
  if (it == verified_.end()) return false;
  if (it->second.expires <= now || it->second.stored_hash != stored_hash) {
    verified_.erase(it);
    return false;
  }
  return sodium_memcmp(it->second.digest.data(), digest.data(), digest.size()) == 0;
}

void LoginGuard::Remember(absl::string_view nickname, absl::string_view password,
                          absl::string_view stored_hash, absl::Time now) {
  Verified entry{Digest(absl::AsciiStrToLower(nickname), password), std::string(stored_hash),
                 now + options_.cache_ttl};
  absl::MutexLock lock(&mu_);
  if (verified_.size() >= options_.max_entries) verified_.clear();
  verified_[absl::AsciiStrToLower(nickname)] = std::move(entry);
}

LoginGuardCounters LoginGuard::counters(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  LoginGuardCounters counters{failures_, throttled_, attacks_, 0, waiting_};
  for (const auto& [account, target] : targets_) {
    if (target.under_attack && target.last + options_.attack_window > now) {
      ++counters.accounts_under_attack;
    }
  }
  return counters;
}

bool LoginGuard::AdmitCached(absl::string_view nickname, absl::string_view address,
                             absl::Time now) {
  const std::string account = absl::AsciiStrToLower(nickname);
  const std::string pair_key = PairKey(account, address);
  absl::MutexLock lock(&mu_);
  auto within = [&](Throttles& table, const std::string& key, int free) {
    auto it = table.find(key);
    return it == table.end() || Quiet(it->second, now) || it->second.failures < free;
  };
  if (!within(pairs_, pair_key, options_.free_failures) ||
      !within(addresses_, std::string(address), options_.free_address_failures)) {
    return false;
  }
  auto pair = pairs_.find(pair_key);
  if (pair != pairs_.end()) {
    pair->second.failures = 0;
    if (pair->second.in_flight == 0) pairs_.erase(pair);
  }
  return true;
}

size_t LoginGuard::tracked() {
  absl::MutexLock lock(&mu_);
  return pairs_.size() + addresses_.size() + targets_.size();
}

}  // namespace pgxn::origin
