#include "origin/accounts/login_guard.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace pgxn::origin {
namespace {

std::string RandomKey() {
  if (sodium_init() < 0) std::abort();
  std::string key(crypto_generichash_KEYBYTES, '\0');
  randombytes_buf(key.data(), key.size());
  return key;
}

}  // namespace

std::string AddressWithoutPort(absl::string_view remote_address) {
  if (!remote_address.empty() && remote_address.front() == '[') {
    size_t close = remote_address.find(']');
    if (close != absl::string_view::npos) return std::string(remote_address.substr(1, close - 1));
  }
  size_t colon = remote_address.rfind(':');
  if (colon != absl::string_view::npos && remote_address.find(':') == colon) {
    return std::string(remote_address.substr(0, colon));
  }
  return std::string(remote_address);
}

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

bool LoginGuard::Blocked(absl::flat_hash_map<std::string, std::deque<absl::Time>>& failures,
                         const std::string& key, int max, absl::Time now, absl::Time* retry_at) {
  auto it = failures.find(key);
  if (it == failures.end()) return false;
  std::deque<absl::Time>& times = it->second;
  while (!times.empty() && times.front() + options_.window <= now) times.pop_front();
  if (times.empty()) {
    failures.erase(it);
    return false;
  }
  if (static_cast<int>(times.size()) < max) return false;
  *retry_at = times.front() + options_.window;
  return true;
}

void LoginGuard::Add(absl::flat_hash_map<std::string, std::deque<absl::Time>>& failures,
                     const std::string& key, int max, absl::Time now) {
  if (failures.size() >= options_.max_entries && !failures.contains(key)) {
    // Full: forget entries whose failures have all aged out; if none has, the
    // table is under attack from many keys and the oldest entry goes.
    for (auto it = failures.begin(); it != failures.end();) {
      auto current = it++;
      if (current->second.empty() || current->second.back() + options_.window <= now) {
        failures.erase(current);
      }
    }
    if (failures.size() >= options_.max_entries) failures.erase(failures.begin());
  }
  std::deque<absl::Time>& times = failures[key];
  times.push_back(now);
  while (static_cast<int>(times.size()) > max) times.pop_front();
}

absl::Status LoginGuard::Check(absl::string_view nickname, absl::string_view address,
                               absl::Time now) {
  absl::MutexLock lock(&mu_);
  absl::Time retry_at;
  const std::string account = absl::AsciiStrToLower(nickname);
  if (Blocked(account_failures_, account, options_.max_account_failures, now, &retry_at) ||
      Blocked(address_failures_, std::string(address), options_.max_address_failures, now,
              &retry_at)) {
    const int64_t seconds = std::max<int64_t>(1, absl::ToInt64Seconds(retry_at - now) + 1);
    return absl::ResourceExhaustedError(
        absl::StrCat("Too many failed logins; try again in ", seconds, " seconds"));
  }
  return absl::OkStatus();
}

void LoginGuard::RecordFailure(absl::string_view nickname, absl::string_view address,
                               absl::Time now) {
  absl::MutexLock lock(&mu_);
  Add(account_failures_, absl::AsciiStrToLower(nickname), options_.max_account_failures, now);
  Add(address_failures_, std::string(address), options_.max_address_failures, now);
  verified_.erase(absl::AsciiStrToLower(nickname));
}

void LoginGuard::RecordSuccess(absl::string_view nickname) {
  absl::MutexLock lock(&mu_);
  account_failures_.erase(absl::AsciiStrToLower(nickname));
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

size_t LoginGuard::tracked() {
  absl::MutexLock lock(&mu_);
  return account_failures_.size() + address_failures_.size();
}

}  // namespace pgxn::origin
