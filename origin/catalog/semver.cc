#include "origin/catalog/semver.h"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/quote.h"

namespace pgxn::origin {
namespace {

std::string Quote(absl::string_view text) { return base::QuoteUntrusted(text, 80); }

absl::Status NotAVersion(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(Quote(text), " is not a valid semantic version: ", why));
}

bool IsDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsIdentifierChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-';
}

// Consumes the leading run of digits of *rest as one of the three numbers.
absl::Status ParseNumber(absl::string_view text, absl::string_view what, absl::string_view* rest,
                         uint64_t* out) {
  size_t n = 0;
  while (n < rest->size() && absl::ascii_isdigit(static_cast<unsigned char>((*rest)[n]))) ++n;
  if (n == 0) {
    return NotAVersion(
        text, absl::StrCat("the ", what, " version is missing (expected MAJOR.MINOR.PATCH)"));
  }
  const absl::string_view digits = rest->substr(0, n);
  if (n > 1 && digits[0] == '0') {
    return NotAVersion(
        text, absl::StrCat("the ", what, " version ", Quote(digits), " has a leading zero"));
  }
  uint64_t value = 0;
  for (char c : digits) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      return NotAVersion(text, absl::StrCat("the ", what, " version is larger than ",
                                            std::numeric_limits<uint64_t>::max()));
    }
    value = value * 10 + d;
  }
  *out = value;
  rest->remove_prefix(n);
  return absl::OkStatus();
}

absl::Status ParseIdentifiers(absl::string_view text, absl::string_view what,
                              absl::string_view list, bool numeric_without_leading_zero,
                              std::vector<std::string>* out) {
  for (absl::string_view id : absl::StrSplit(list, '.')) {
    if (id.empty()) return NotAVersion(text, absl::StrCat("it has an empty ", what, " identifier"));
    for (char c : id) {
      if (!IsIdentifierChar(c)) {
        return NotAVersion(text, absl::StrCat(what, " identifier ", Quote(id),
                                              " may only hold ASCII letters, digits and '-'"));
      }
    }
    if (numeric_without_leading_zero && id.size() > 1 && id[0] == '0' && IsDigits(id)) {
      return NotAVersion(
          text, absl::StrCat("numeric ", what, " identifier ", Quote(id), " has a leading zero"));
    }
    out->emplace_back(id);
  }
  return absl::OkStatus();
}

// Numeric identifiers have no leading zeros, so the longer one is larger.
int CompareNumeric(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int CompareIdentifier(absl::string_view a, absl::string_view b) {
  const bool a_numeric = IsDigits(a);
  const bool b_numeric = IsDigits(b);
  if (a_numeric && b_numeric) return CompareNumeric(a, b);
  if (a_numeric != b_numeric) return a_numeric ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int CompareNumber(uint64_t a, uint64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

}  // namespace

std::string SemVer::ToString() const {
  std::string out = absl::StrCat(major, ".", minor, ".", patch);
  if (!prerelease.empty()) {
    absl::StrAppend(&out, legacy_prerelease ? "" : "-", absl::StrJoin(prerelease, "."));
  }
  if (!build.empty()) absl::StrAppend(&out, "+", absl::StrJoin(build, "."));
  return out;
}

absl::StatusOr<SemVer> ParseSemVer(absl::string_view text) {
  if (text.empty()) return NotAVersion(text, "it is empty");
  for (char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return NotAVersion(text, "it contains whitespace");
    }
  }
  SemVer v;
  absl::string_view rest = text;
  if (absl::Status s = ParseNumber(text, "major", &rest, &v.major); !s.ok()) return s;
  if (!absl::ConsumePrefix(&rest, ".")) {
    return NotAVersion(text, "the minor version is missing (expected MAJOR.MINOR.PATCH)");
  }
  if (absl::Status s = ParseNumber(text, "minor", &rest, &v.minor); !s.ok()) return s;
  if (!absl::ConsumePrefix(&rest, ".")) {
    return NotAVersion(text, "the patch version is missing (expected MAJOR.MINOR.PATCH)");
  }
  if (absl::Status s = ParseNumber(text, "patch", &rest, &v.patch); !s.ok()) return s;

  absl::string_view build;
  bool has_build = false;
  if (const size_t plus = rest.find('+'); plus != absl::string_view::npos) {
    build = rest.substr(plus + 1);
    rest = rest.substr(0, plus);
    has_build = true;
  }
  if (absl::ConsumePrefix(&rest, "-")) {
    if (absl::Status s = ParseIdentifiers(text, "prerelease", rest, true, &v.prerelease); !s.ok()) {
      return s;
    }
  } else if (!rest.empty()) {
    // SemVer 1.0: an arbitrary [0-9A-Za-z-] string starting with a letter,
    // appended right after the patch number.
    if (!absl::ascii_isalpha(static_cast<unsigned char>(rest[0]))) {
      return NotAVersion(
          text, absl::StrCat("unexpected ", Quote(rest.substr(0, 1)), " after the patch version"));
    }
    for (char c : rest) {
      if (!IsIdentifierChar(c)) {
        return NotAVersion(text, absl::StrCat("prerelease ", Quote(rest),
                                              " may only hold ASCII letters, digits and '-'"));
      }
    }
    v.prerelease.emplace_back(rest);
    v.legacy_prerelease = true;
  }
  if (has_build) {
    if (absl::Status s = ParseIdentifiers(text, "build", build, false, &v.build); !s.ok()) return s;
  }
  return v;
}

absl::StatusOr<SemVer> ParseStrictSemVer(absl::string_view text) {
  absl::StatusOr<SemVer> v = ParseSemVer(text);
  if (!v.ok() || !v->legacy_prerelease) return v;
  SemVer strict = *v;
  strict.legacy_prerelease = false;
  return NotAVersion(text, absl::StrCat("SemVer 2.0.0 puts a prerelease after a '-' (",
                                        Quote(strict.ToString()), ")"));
}

int Compare(const SemVer& a, const SemVer& b) {
  if (int c = CompareNumber(a.major, b.major); c != 0) return c;
  if (int c = CompareNumber(a.minor, b.minor); c != 0) return c;
  if (int c = CompareNumber(a.patch, b.patch); c != 0) return c;
  if (a.prerelease.empty() || b.prerelease.empty()) {
    if (a.prerelease.empty() == b.prerelease.empty()) return 0;
    return a.prerelease.empty() ? 1 : -1;
  }
  const size_t n = std::min(a.prerelease.size(), b.prerelease.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = CompareIdentifier(a.prerelease[i], b.prerelease[i]); c != 0) return c;
  }
  return CompareNumber(a.prerelease.size(), b.prerelease.size());
}

absl::Status CheckVersionRange(absl::string_view range, bool strict) {
  auto bad = [&](absl::string_view why) {
    std::string quoted_range = Quote(range);
    return absl::InvalidArgumentError(
        absl::StrCat(quoted_range, " is not a valid version range: ", why));
  };
  if (absl::StripAsciiWhitespace(range).empty()) return bad("it is empty");
  for (absl::string_view term : absl::StrSplit(range, ',')) {
    term = absl::StripAsciiWhitespace(term);
    if (term.empty()) return bad("it has an empty term");
    if (term == "0") continue;
    // The operator is whatever precedes the version number, so that "=" or
    // "=>" is reported as a bad operator rather than as a bad version.
    size_t op_len = 0;
    while (op_len < term.size() && !absl::ascii_isdigit(static_cast<unsigned char>(term[op_len])) &&
           !absl::ascii_isspace(static_cast<unsigned char>(term[op_len]))) {
      ++op_len;
    }
    const absl::string_view op = term.substr(0, op_len);
    if (!op.empty() && op != "<" && op != "<=" && op != ">" && op != ">=" && op != "==" &&
        op != "!=") {
      return bad(absl::StrCat(Quote(op), " is not a valid operator (use <, <=, >, >=, == or !=)"));
    }
    const absl::string_view version = absl::StripLeadingAsciiWhitespace(term.substr(op_len));
    if (absl::StatusOr<SemVer> v = strict ? ParseStrictSemVer(version) : ParseSemVer(version);
        !v.ok()) {
      return bad(v.status().message());
    }
  }
  return absl::OkStatus();
}

}  // namespace pgxn::origin
