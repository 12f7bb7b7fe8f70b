// Semantic versions as PGXN uses them: parsing, printing and precedence for
// distribution and extension versions (SemVer 2.0.0, plus the SemVer 1.0 form
// "1.2.3beta1" that early PGXN releases carry), and the syntax of Meta Spec
// prerequisite version ranges. Called by the META validator, by release intake
// (version order checks) and by tree rendering (sorting releases).
//
// Pure functions and plain values: safe to use from any thread.
#ifndef PGXN_ORIGIN_CATALOG_SEMVER_H_
#define PGXN_ORIGIN_CATALOG_SEMVER_H_

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::origin {

struct SemVer {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  // The dot-separated identifiers after '-' ("beta.1" -> {"beta", "1"}), or the
  // single suffix of the SemVer 1.0 form ("1.2.3beta1" -> {"beta1"}).
  std::vector<std::string> prerelease;
  // The dot-separated identifiers after '+'. They never affect precedence.
  std::vector<std::string> build;
  // True when the prerelease was appended without a '-' (SemVer 1.0 form), so
  // that ToString() gives back the spelling that was parsed.
  bool legacy_prerelease = false;

  // The canonical text; ToString(ParseSemVer(s)) == s for every s it accepts.
  std::string ToString() const;
};

// Parses "MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]" (SemVer 2.0.0) or the SemVer
// 1.0 form "MAJOR.MINOR.PATCHsuffix", where the suffix starts with an ASCII
// letter and holds only [0-9A-Za-z-]. Returns InvalidArgument naming the text
// and the rule it breaks: a missing or empty part, a leading zero in a number
// (numeric prerelease identifiers included), a number above 2^64-1, a character
// outside [0-9A-Za-z-] in an identifier, or any whitespace.
absl::StatusOr<SemVer> ParseSemVer(absl::string_view text);

// ParseSemVer for what new uploads may carry: strict SemVer 2.0.0, as PGXN's
// validator has required since 2013. The SemVer 1.0 form ("1.1.0dev0",
// "0.43.2b1") is refused (InvalidArgument naming the 2.0.0 spelling); versions
// already published in that form still parse with ParseSemVer.
absl::StatusOr<SemVer> ParseStrictSemVer(absl::string_view text);

// SemVer 2.0.0 precedence: major, minor and patch numerically; a version with a
// prerelease is lower than the same version without one; prerelease identifiers
// compare left to right, numeric ones numerically and below alphanumeric ones,
// alphanumeric ones in ASCII order, and a shorter list that is a prefix of a
// longer one is lower. Build metadata and the spelling of the prerelease are
// ignored, so "1.0.0+a" and "1.0.0+b" are equivalent but not identical (hence
// a weak ordering). Returns <0, 0 or >0.
int Compare(const SemVer& a, const SemVer& b);

inline std::weak_ordering operator<=>(const SemVer& a, const SemVer& b) {
  const int c = Compare(a, b);
  return c < 0 ? std::weak_ordering::less
               : (c > 0 ? std::weak_ordering::greater : std::weak_ordering::equivalent);
}
// Equal precedence, consistent with <=> (build metadata ignored).
inline bool operator==(const SemVer& a, const SemVer& b) { return Compare(a, b) == 0; }

// Checks a Meta Spec prerequisite version range: "0" (any version), a bare
// version (at least that version), or comma-separated terms "OP VERSION" with
// OP one of < <= > >= == != (or none), whitespace allowed around operators and
// commas: ">= 1.2.0, != 1.5.0, < 2.0.0". Returns InvalidArgument naming the
// range and the offending term. Versions in it are strict SemVer 2.0.0
// (ParseStrictSemVer), or with `strict` false, ParseSemVer's.
absl::Status CheckVersionRange(absl::string_view range, bool strict = true);

inline bool IsValidVersionRange(absl::string_view range) { return CheckVersionRange(range).ok(); }

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_CATALOG_SEMVER_H_
