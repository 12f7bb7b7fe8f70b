#include "origin/catalog/semver.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

TEST(ParseSemVerTest, AcceptsSemVer2AndLegacyForms) {
  const struct {
    std::string text;
    uint64_t major, minor, patch;
    std::vector<std::string> prerelease;
    std::vector<std::string> build;
    bool legacy;
  } kCases[] = {
      {"0.0.0", 0, 0, 0, {}, {}, false},
      {"1.2.3", 1, 2, 3, {}, {}, false},
      {"10.20.30", 10, 20, 30, {}, {}, false},
      {"1.2.3-beta.1", 1, 2, 3, {"beta", "1"}, {}, false},
      {"1.0.0-alpha-a.b-c-somethinglong", 1, 0, 0, {"alpha-a", "b-c-somethinglong"}, {}, false},
      {"1.0.0-0.3.7", 1, 0, 0, {"0", "3", "7"}, {}, false},
      {"1.0.0-x.7.z.92", 1, 0, 0, {"x", "7", "z", "92"}, {}, false},
      {"1.0.0-0a", 1, 0, 0, {"0a"}, {}, false},
      {"1.0.0+build.5", 1, 0, 0, {}, {"build", "5"}, false},
      {"1.0.0+001", 1, 0, 0, {}, {"001"}, false},
      {"1.0.0-rc.1+exp.sha.5114f85", 1, 0, 0, {"rc", "1"}, {"exp", "sha", "5114f85"}, false},
      {"0.43.2b1", 0, 43, 2, {"b1"}, {}, true},
      {"1.2.3beta1", 1, 2, 3, {"beta1"}, {}, true},
      {"1.2.3rc-2", 1, 2, 3, {"rc-2"}, {}, true},
      {"2.0.0alpha3+b7", 2, 0, 0, {"alpha3"}, {"b7"}, true},
      {"18446744073709551615.0.0", 18446744073709551615ULL, 0, 0, {}, {}, false},
      {"1.0.0-99999999999999999999999", 1, 0, 0, {"99999999999999999999999"}, {}, false},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<SemVer> v = ParseSemVer(c.text);
    ASSERT_TRUE(v.ok()) << c.text << ": " << v.status();
    EXPECT_EQ(v->major, c.major) << c.text;
    EXPECT_EQ(v->minor, c.minor) << c.text;
    EXPECT_EQ(v->patch, c.patch) << c.text;
    EXPECT_EQ(v->prerelease, c.prerelease) << c.text;
    EXPECT_EQ(v->build, c.build) << c.text;
    EXPECT_EQ(v->legacy_prerelease, c.legacy) << c.text;
    EXPECT_EQ(v->ToString(), c.text) << c.text;
  }
}

TEST(ParseSemVerTest, RejectsMalformedVersionsNamingThem) {
  const struct {
    std::string text;
    std::string message;
  } kCases[] = {
      {"", "\"\" is not a valid semantic version: it is empty"},
      {"1",
       "\"1\" is not a valid semantic version: the minor version is missing (expected "
       "MAJOR.MINOR.PATCH)"},
      {"2.5",
       "\"2.5\" is not a valid semantic version: the patch version is missing (expected "
       "MAJOR.MINOR.PATCH)"},
      {"1.2.",
       "\"1.2.\" is not a valid semantic version: the patch version is missing (expected "
       "MAJOR.MINOR.PATCH)"},
      {"1..3",
       "\"1..3\" is not a valid semantic version: the minor version is missing (expected "
       "MAJOR.MINOR.PATCH)"},
      {".1.2",
       "\".1.2\" is not a valid semantic version: the major version is missing (expected "
       "MAJOR.MINOR.PATCH)"},
      {"v1.2.3",
       "\"v1.2.3\" is not a valid semantic version: the major version is missing "
       "(expected MAJOR.MINOR.PATCH)"},
      {"01.2.3",
       "\"01.2.3\" is not a valid semantic version: the major version \"01\" has a "
       "leading zero"},
      {"1.02.3",
       "\"1.02.3\" is not a valid semantic version: the minor version \"02\" has a "
       "leading zero"},
      {"1.2.03",
       "\"1.2.03\" is not a valid semantic version: the patch version \"03\" has a "
       "leading zero"},
      {"18446744073709551616.0.0",
       "\"18446744073709551616.0.0\" is not a valid semantic version: the major version is larger "
       "than 18446744073709551615"},
      {"1.99999999999999999999.0",
       "\"1.99999999999999999999.0\" is not a valid semantic version: the minor version is larger "
       "than 18446744073709551615"},
      {"1.2.3-",
       "\"1.2.3-\" is not a valid semantic version: it has an empty prerelease "
       "identifier"},
      {"1.2.3-a..b",
       "\"1.2.3-a..b\" is not a valid semantic version: it has an empty prerelease "
       "identifier"},
      {"1.2.3-a.",
       "\"1.2.3-a.\" is not a valid semantic version: it has an empty prerelease "
       "identifier"},
      {"1.2.3+", "\"1.2.3+\" is not a valid semantic version: it has an empty build identifier"},
      {"1.2.3+a..b",
       "\"1.2.3+a..b\" is not a valid semantic version: it has an empty build "
       "identifier"},
      {"1.2.3-01",
       "\"1.2.3-01\" is not a valid semantic version: numeric prerelease identifier "
       "\"01\" has a leading zero"},
      {"1.2.3-be_ta",
       "\"1.2.3-be_ta\" is not a valid semantic version: prerelease identifier "
       "\"be_ta\" may only hold ASCII letters, digits and '-'"},
      {"1.2.3+b~1",
       "\"1.2.3+b~1\" is not a valid semantic version: build identifier \"b~1\" may "
       "only hold ASCII letters, digits and '-'"},
      {"1.2.3.4",
       "\"1.2.3.4\" is not a valid semantic version: unexpected \".\" after the patch "
       "version"},
      {"1.2.3_1",
       "\"1.2.3_1\" is not a valid semantic version: unexpected \"_\" after the patch "
       "version"},
      {"1.2.3b.1",
       "\"1.2.3b.1\" is not a valid semantic version: prerelease \"b.1\" may only hold "
       "ASCII letters, digits and '-'"},
      {"1.2.3 ", "\"1.2.3 \" is not a valid semantic version: it contains whitespace"},
      {" 1.2.3", "\" 1.2.3\" is not a valid semantic version: it contains whitespace"},
      {"1.2.3-a b", "\"1.2.3-a b\" is not a valid semantic version: it contains whitespace"},
      {"1.2.3\n", "\"1.2.3\\n\" is not a valid semantic version: it contains whitespace"},
      {"1.2.3-\xC3\xA9",
       "\"1.2.3-\xC3\xA9\" is not a valid semantic version: prerelease "
       "identifier \"\xC3\xA9\" may only hold ASCII letters, digits and '-'"},
      {std::string("1.2.3-a\0", 8),
       "\"1.2.3-a\\u0000\" is not a valid semantic version: "
       "prerelease identifier \"a\\u0000\" may only hold ASCII "
       "letters, digits and '-'"},
      {"1.2.3-\xFF",
       "\"1.2.3-\xEF\xBF\xBD\" is not a valid semantic version: prerelease "
       "identifier \"\xEF\xBF\xBD\" may only hold ASCII letters, digits and '-'"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<SemVer> v = ParseSemVer(c.text);
    ASSERT_FALSE(v.ok()) << absl::CEscape(c.text) << " parsed as " << v->ToString();
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << absl::CEscape(c.text);
    EXPECT_EQ(std::string(v.status().message()), c.message) << absl::CEscape(c.text);
  }
}

TEST(ParseSemVerTest, QuotesLongInputBounded) {
  const std::string text = "1.2.3-" + std::string(10000, 'a') + "_";
  absl::StatusOr<SemVer> v = ParseSemVer(text);
  ASSERT_FALSE(v.ok());
  EXPECT_LT(v.status().message().size(), 300u) << v.status();
}

// Each version is strictly lower than the next (the SemVer 2.0.0 spec's own
// example chain, extended with the legacy form and large numbers).
TEST(CompareTest, OrdersByPrecedence) {
  const std::vector<std::string> kAscending = {
      "0.0.1",
      "0.9.9",
      "0.12.1",
      "0.12.2",
      "1.0.0-0",
      "1.0.0-1",
      "1.0.0-2",
      "1.0.0-10",
      "1.0.0-99999999999999999999",
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.41.99",
      "1.42.0",
      "1.999.999",
      "2.0.0alpha3",
      "2.0.0beta",
      "2.0.0beta1",
      "2.0.0",
      "18446744073709551615.0.0",
  };
  for (size_t i = 0; i + 1 < kAscending.size(); ++i) {
    absl::StatusOr<SemVer> lower = ParseSemVer(kAscending[i]);
    absl::StatusOr<SemVer> higher = ParseSemVer(kAscending[i + 1]);
    ASSERT_TRUE(lower.ok()) << lower.status();
    ASSERT_TRUE(higher.ok()) << higher.status();
    EXPECT_LT(Compare(*lower, *higher), 0) << kAscending[i] << " < " << kAscending[i + 1];
    EXPECT_GT(Compare(*higher, *lower), 0) << kAscending[i + 1] << " > " << kAscending[i];
    EXPECT_TRUE(*lower < *higher) << kAscending[i] << " < " << kAscending[i + 1];
    EXPECT_FALSE(*higher < *lower) << kAscending[i + 1] << " < " << kAscending[i];
    EXPECT_FALSE(*lower == *higher) << kAscending[i] << " == " << kAscending[i + 1];
  }
}

TEST(CompareTest, IgnoresBuildMetadataAndPrereleaseSpelling) {
  const struct {
    std::string a, b;
  } kEquivalent[] = {
      {"1.0.0", "1.0.0"},
      {"1.0.0+a", "1.0.0+b"},
      {"1.0.0", "1.0.0+build.5"},
      {"1.2.3beta1", "1.2.3-beta1"},
      {"1.2.3-rc.1+x", "1.2.3-rc.1"},
  };
  for (const auto& c : kEquivalent) {
    absl::StatusOr<SemVer> a = ParseSemVer(c.a);
    absl::StatusOr<SemVer> b = ParseSemVer(c.b);
    ASSERT_TRUE(a.ok() && b.ok()) << c.a << " / " << c.b;
    EXPECT_EQ(Compare(*a, *b), 0) << c.a << " vs " << c.b;
    EXPECT_TRUE(*a == *b) << c.a << " == " << c.b;
    EXPECT_TRUE((*a <=> *b) == 0) << c.a << " <=> " << c.b;
  }
}

TEST(ParseStrictSemVerTest, RefusesTheSemVer1FormAndAcceptsTheRest) {
  for (const char* text : {"1.2.3", "1.2.3-beta1", "1.0.0-rc.1+build.5", "0.0.0"}) {
    EXPECT_TRUE(ParseStrictSemVer(text).ok()) << text;
  }
  const struct {
    std::string text;
    std::string message;
  } kCases[] = {
      {"1.1.0dev0",
       "\"1.1.0dev0\" is not a valid semantic version: SemVer 2.0.0 puts a prerelease after a "
       "'-' (\"1.1.0-dev0\")"},
      {"0.43.2b1",
       "\"0.43.2b1\" is not a valid semantic version: SemVer 2.0.0 puts a prerelease after a "
       "'-' (\"0.43.2-b1\")"},
      {"1.0",
       "\"1.0\" is not a valid semantic version: the patch version is missing (expected "
       "MAJOR.MINOR.PATCH)"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<SemVer> v = ParseStrictSemVer(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.status().message(), c.message);
    // What is already published in the SemVer 1.0 form still parses.
    if (c.text != "1.0") EXPECT_TRUE(ParseSemVer(c.text).ok()) << c.text;
  }
}

TEST(CheckVersionRangeTest, AcceptsMetaSpecRanges) {
  const std::string kValid[] = {
      "0",
      "1.2.0",
      "0.0.0",
      "1.2.0-beta.1",
      "==0.0.4",
      "== 0.0.4",
      "!=1.0.0",
      "< 2.0.0",
      "<=1.1.2+meta",
      "> 1.0.0",
      ">=1.8.0",
      ">= 2.0.0, 1.5.6",
      ">= 1.2.0, != 1.5.0, < 2.0.0",
      ">=1.2.0,!=1.5.0,<2.0.0",
      "  >=   1.2.0  ,   <2.0.0  ",
      "\t>= 1.2.0,\t< 2.0.0",
      "0, >= 1.0.0",
  };
  for (const std::string& range : kValid) {
    absl::Status s = CheckVersionRange(range);
    EXPECT_TRUE(s.ok()) << range << ": " << s;
    EXPECT_TRUE(IsValidVersionRange(range)) << range;
  }
}

TEST(CheckVersionRangeTest, RejectsBadRangesNamingTheTerm) {
  const struct {
    std::string range;
    std::string message;
  } kCases[] = {
      {"", "\"\" is not a valid version range: it is empty"},
      {"   ", "\"   \" is not a valid version range: it is empty"},
      {"1.0",
       "\"1.0\" is not a valid version range: \"1.0\" is not a valid semantic version: the "
       "patch version is missing (expected MAJOR.MINOR.PATCH)"},
      {"1.2b1",
       "\"1.2b1\" is not a valid version range: \"1.2b1\" is not a valid semantic "
       "version: the patch version is missing (expected MAJOR.MINOR.PATCH)"},
      {"= 1.0.0",
       "\"= 1.0.0\" is not a valid version range: \"=\" is not a valid operator (use "
       "<, <=, >, >=, == or !=)"},
      {"=> 1.0.0",
       "\"=> 1.0.0\" is not a valid version range: \"=>\" is not a valid operator "
       "(use <, <=, >, >=, == or !=)"},
      {"*** 1.0.0",
       "\"*** 1.0.0\" is not a valid version range: \"***\" is not a valid operator "
       "(use <, <=, >, >=, == or !=)"},
      {"~1.0.0",
       "\"~1.0.0\" is not a valid version range: \"~\" is not a valid operator (use <, "
       "<=, >, >=, == or !=)"},
      {",1.0.0", "\",1.0.0\" is not a valid version range: it has an empty term"},
      {"1.0.0,", "\"1.0.0,\" is not a valid version range: it has an empty term"},
      {">= 1.0.0,, < 2.0.0",
       "\">= 1.0.0,, < 2.0.0\" is not a valid version range: it has an "
       "empty term"},
      {">=",
       "\">=\" is not a valid version range: \"\" is not a valid semantic version: it is "
       "empty"},
      {">= 0",
       "\">= 0\" is not a valid version range: \"0\" is not a valid semantic version: the "
       "minor version is missing (expected MAJOR.MINOR.PATCH)"},
      {"1.0.0 2.0.0",
       "\"1.0.0 2.0.0\" is not a valid version range: \"1.0.0 2.0.0\" is not a "
       "valid semantic version: it contains whitespace"},
      {"00",
       "\"00\" is not a valid version range: \"00\" is not a valid semantic version: the "
       "major version \"00\" has a leading zero"},
      {"1.2.3beta1",
       "\"1.2.3beta1\" is not a valid version range: \"1.2.3beta1\" is not a valid semantic "
       "version: SemVer 2.0.0 puts a prerelease after a '-' (\"1.2.3-beta1\")"},
  };
  for (const auto& c : kCases) {
    absl::Status s = CheckVersionRange(c.range);
    ASSERT_FALSE(s.ok()) << c.range;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.range;
    EXPECT_EQ(std::string(s.message()), c.message) << c.range;
    EXPECT_FALSE(IsValidVersionRange(c.range)) << c.range;
  }
}

}  // namespace
}  // namespace pgxn::origin
