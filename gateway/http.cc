#include "gateway/http.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pgxn::gateway {
namespace {

absl::string_view FindHeader(const std::vector<std::pair<std::string, std::string>>& headers,
                             absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

constexpr absl::string_view kShortDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr absl::string_view kLongDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                           "Friday", "Saturday", "Sunday"};
constexpr absl::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

template <size_t N>
bool IsOneOf(absl::string_view word, const absl::string_view (&words)[N]) {
  for (absl::string_view candidate : words) {
    if (word == candidate) return true;
  }
  return false;
}

// 1..12 for "Jan".."Dec", 0 otherwise.
int MonthNumber(absl::string_view word) {
  for (int i = 0; i < 12; ++i) {
    if (word == kMonths[i]) return i + 1;
  }
  return 0;
}

// Parses exactly `digits` decimal digits (1 or 2 for `digits` == -2).
bool ParseDigits(absl::string_view text, int digits, int64_t& out) {
  const bool flexible = digits == -2;
  if (flexible ? (text.empty() || text.size() > 2) : text.size() != static_cast<size_t>(digits)) {
    return false;
  }
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return absl::SimpleAtoi(text, &out);
}

// "HH:MM:SS".
bool ParseClock(absl::string_view text, int64_t& hour, int64_t& minute, int64_t& second) {
  std::vector<absl::string_view> fields = absl::StrSplit(text, ':');
  return fields.size() == 3 && ParseDigits(fields[0], 2, hour) && hour < 24 &&
         ParseDigits(fields[1], 2, minute) && minute < 60 && ParseDigits(fields[2], 2, second) &&
         second < 60;
}

absl::optional<absl::Time> MakeTime(int64_t year, int64_t month, int64_t day, int64_t hour,
                                    int64_t minute, int64_t second) {
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  // CivilSecond normalises 31 Feb into March; an HTTP date must not.
  if (civil.year() != year || civil.month() != month || civil.day() != day) return absl::nullopt;
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

}  // namespace

RequestBody::RequestBody(std::string bytes) {
  if (bytes.empty()) return;
  auto owned = std::make_shared<const std::string>(std::move(bytes));
  bytes_ = *owned;
  owner_ = std::move(owned);
}

RequestBody RequestBody::Shared(absl::string_view bytes, std::shared_ptr<const void> owner) {
  RequestBody body;
  body.bytes_ = bytes;
  body.owner_ = std::move(owner);
  return body;
}

std::string FormatHttpDate(absl::Time time) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond civil = absl::ToCivilSecond(time, utc);
  const int weekday = static_cast<int>(absl::GetWeekday(civil));  // Monday is 0
  return absl::StrFormat("%s, %02d %s %04d %02d:%02d:%02d GMT", kShortDays[weekday], civil.day(),
                         kMonths[civil.month() - 1], civil.year(), civil.hour(), civil.minute(),
                         civil.second());
}

absl::optional<absl::Time> ParseHttpDate(absl::string_view text) {
  std::vector<absl::string_view> words = absl::StrSplit(text, ' ', absl::SkipEmpty());
  int64_t year, month, day, hour, minute, second;
  if (words.size() == 6 && absl::ConsumeSuffix(&words[0], ",")) {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    if (!IsOneOf(words[0], kShortDays) || !ParseDigits(words[1], 2, day) ||
        (month = MonthNumber(words[2])) == 0 || !ParseDigits(words[3], 4, year) ||
        !ParseClock(words[4], hour, minute, second) || words[5] != "GMT") {
      return absl::nullopt;
    }
  } else if (words.size() == 4 && absl::ConsumeSuffix(&words[0], ",")) {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    std::vector<absl::string_view> date = absl::StrSplit(words[1], '-');
    if (!IsOneOf(words[0], kLongDays) || date.size() != 3 || !ParseDigits(date[0], 2, day) ||
        (month = MonthNumber(date[1])) == 0 || !ParseDigits(date[2], 2, year) ||
        !ParseClock(words[2], hour, minute, second) || words[3] != "GMT") {
      return absl::nullopt;
    }
    year += year < 70 ? 2000 : 1900;
  } else if (words.size() == 5) {
    // asctime: Sun Nov  6 08:49:37 1994
    if (!IsOneOf(words[0], kShortDays) || (month = MonthNumber(words[1])) == 0 ||
        !ParseDigits(words[2], -2, day) || !ParseClock(words[3], hour, minute, second) ||
        !ParseDigits(words[4], 4, year)) {
      return absl::nullopt;
    }
  } else {
    return absl::nullopt;
  }
  return MakeTime(year, month, day, hour, minute, second);
}

absl::string_view Request::RemoteIp() const {
  absl::string_view remote = remote_address;
  if (!remote.empty() && remote.front() == '[') {
    const size_t close = remote.find(']');
    if (close != absl::string_view::npos) return remote.substr(1, close - 1);
  }
  const size_t colon = remote.rfind(':');
  return colon == absl::string_view::npos ? remote : remote.substr(0, colon);
}

absl::string_view Request::Header(absl::string_view name) const {
  return FindHeader(headers, name);
}

void Response::SetHeader(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

absl::string_view Response::Header(absl::string_view name) const {
  return FindHeader(headers, name);
}

Response TextResponse(int status, std::string text) {
  Response response;
  response.status = status;
  response.SetHeader("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(text);
  return response;
}

Response JsonResponse(int status, std::string json) {
  Response response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body = std::move(json);
  return response;
}

}  // namespace pgxn::gateway
