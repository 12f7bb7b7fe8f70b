#include "gateway/path.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

TEST(DecodeRequestPathTest, DecodesValidPathsOnce) {
  const struct {
    std::string raw;
    std::string decoded;
  } kCases[] = {
      {"/", "/"},
      {"/index.json", "/index.json"},
      {"/tag/key%20value.json", "/tag/key value.json"},
      {"/dist/pair/0.1.7/pair-0.1.7.zip", "/dist/pair/0.1.7/pair-0.1.7.zip"},
      {"/a%2Fb", "/a/b"},
      {"/%25", "/%"},
      {"/%2525", "/%25"},  // decoded once only
      {"/a+b", "/a+b"},    // '+' is literal in a path
      {"/%c3%a9t%C3%A9", "/\xC3\xA9t\xC3\xA9"},
      {"//double", "//double"},
      {"/dir/", "/dir/"},
      {"/.hidden/..dots/x.", "/.hidden/..dots/x."},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::string> decoded = DecodeRequestPath(c.raw);
    ASSERT_TRUE(decoded.ok()) << c.raw << ": " << decoded.status();
    EXPECT_EQ(*decoded, c.decoded) << c.raw;
  }
}

TEST(DecodeRequestPathTest, RejectsBadPathsNamingTheProblem) {
  const struct {
    std::string raw;
    std::string message;
  } kCases[] = {
      {"", "Request path must start with '/': \"\""},
      {"index.json", "Request path must start with '/': \"index.json\""},
      {"*", "Request path must start with '/': \"*\""},
      {"/a%zzb", "Invalid percent-escape \"%zz\" in request path \"/a%zzb\""},
      {"/a%2", "Invalid percent-escape \"%2\" in request path \"/a%2\""},
      {"/a%", "Invalid percent-escape \"%\" in request path \"/a%\""},
      {"/a%00b", "Request path must not contain a NUL byte: \"/a%00b\""},
      {std::string("/a\0b", 4), "Request path must not contain a NUL byte: \"/a\\000b\""},
      {"/a\\b", "Request path must not contain a backslash: \"/a\\\\b\""},
      {"/a%5Cb", "Request path must not contain a backslash: \"/a%5Cb\""},
      {"/..", "Request path must not contain a \"..\" segment: \"/..\""},
      {"/dist/../etc", "Request path must not contain a \"..\" segment: \"/dist/../etc\""},
      {"/dist/%2e%2e/etc", "Request path must not contain a \"..\" segment: \"/dist/%2e%2e/etc\""},
      {"/dist%2F..%2Fetc", "Request path must not contain a \"..\" segment: \"/dist%2F..%2Fetc\""},
      {"/./a", "Request path must not contain a \".\" segment: \"/./a\""},
      {"/a/.", "Request path must not contain a \".\" segment: \"/a/.\""},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::string> decoded = DecodeRequestPath(c.raw);
    ASSERT_FALSE(decoded.ok()) << absl::CEscape(c.raw) << " decoded to " << *decoded;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << absl::CEscape(c.raw);
    EXPECT_EQ(decoded.status().message(), c.message) << absl::CEscape(c.raw);
  }
}

TEST(ParseQueryTest, ParsesPairs) {
  const struct {
    std::string query;
    QueryParams params;
  } kCases[] = {
      {"", {}},
      {"q=pair", {{"q", "pair"}}},
      {"q=key+value&o=10&l=5", {{"q", "key value"}, {"o", "10"}, {"l", "5"}}},
      {"q=a%2Bb%26c%3Dd", {{"q", "a+b&c=d"}}},
      {"flag", {{"flag", ""}}},
      {"flag=", {{"flag", ""}}},
      {"=v", {{"", "v"}}},
      {"a=1&&b=2&", {{"a", "1"}, {"b", "2"}}},
      {"a=1&a=2", {{"a", "1"}, {"a", "2"}}},
      {"a=x=y", {{"a", "x=y"}}},
      {"k%20ey=%00", {{"k ey", std::string("\0", 1)}}},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<QueryParams> params = ParseQuery(c.query);
    ASSERT_TRUE(params.ok()) << c.query << ": " << params.status();
    EXPECT_EQ(*params, c.params) << c.query;
  }
}

TEST(ParseQueryTest, RejectsInvalidEscapes) {
  const struct {
    std::string query;
    std::string message;
  } kCases[] = {
      {"q=%", "Invalid percent-escape \"%\" in query \"q=%\""},
      {"q=%g1", "Invalid percent-escape \"%g1\" in query \"q=%g1\""},
      {"%zz=1", "Invalid percent-escape \"%zz\" in query \"%zz=1\""},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<QueryParams> params = ParseQuery(c.query);
    ASSERT_FALSE(params.ok()) << c.query;
    EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument) << c.query;
    EXPECT_EQ(params.status().message(), c.message) << c.query;
  }
}

TEST(ParseFormUrlEncodedTest, SharesTheQueryGrammar) {
  absl::StatusOr<QueryParams> params = ParseFormUrlEncoded("submit=Release+It%21&x");
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(*params, (QueryParams{{"submit", "Release It!"}, {"x", ""}}));
}

TEST(FindParamTest, FindsTheFirstValue) {
  const QueryParams params = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  ASSERT_NE(FindParam(params, "a"), nullptr);
  EXPECT_EQ(*FindParam(params, "a"), "1");
  ASSERT_NE(FindParam(params, "b"), nullptr);
  EXPECT_EQ(*FindParam(params, "b"), "2");
  EXPECT_EQ(FindParam(params, "c"), nullptr);
}

TEST(PercentEncodePathTest, KeepsSlashesAndUnreserved) {
  const struct {
    std::string path;
    std::string encoded;
  } kCases[] = {
      {"", ""},
      {"/dist/pair-0.1.7_a~b.zip", "/dist/pair-0.1.7_a~b.zip"},
      {"/tag/key value.json", "/tag/key%20value.json"},
      {"/a?b#c%d+e", "/a%3Fb%23c%25d%2Be"},
      {"/\xC3\xA9", "/%C3%A9"},
      {std::string("/\0", 2), "/%00"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(PercentEncodePath(c.path), c.encoded) << absl::CEscape(c.path);
    absl::StatusOr<std::string> round_trip = DecodeRequestPath(c.encoded);
    if (round_trip.ok()) {
      EXPECT_EQ(*round_trip, c.path) << c.encoded;
    }
  }
}

}  // namespace
}  // namespace pgxn::gateway
