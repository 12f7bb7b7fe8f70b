#include "gateway/http.h"

#include <string>

#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

TEST(RequestTest, HeaderIsCaseInsensitiveAndFirstWins) {
  Request request;
  request.headers = {{"accept", "text/plain"}, {"x-a", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.Header("Accept"), "text/plain");
  EXPECT_EQ(request.Header("X-A"), "1");
  EXPECT_EQ(request.Header("missing"), "");
}

TEST(RequestTest, RemoteIpDropsThePortAndBrackets) {
  Request request;
  request.remote_address = "192.0.2.7:5000";
  EXPECT_EQ(request.RemoteIp(), "192.0.2.7");
  request.remote_address = "[2001:db8::1]:5000";
  EXPECT_EQ(request.RemoteIp(), "2001:db8::1");
  request.remote_address = "unknown";
  EXPECT_EQ(request.RemoteIp(), "unknown");
}

TEST(ResponseTest, SetHeaderReplacesCaseInsensitively) {
  Response response = TextResponse(404, "Not found: /x\n");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.Header("content-type"), "text/plain; charset=utf-8");
  response.SetHeader("CONTENT-TYPE", "application/json");
  response.SetHeader("ETag", "\"abc\"");
  EXPECT_EQ(response.headers.size(), 2u);
  EXPECT_EQ(response.Header("Content-Type"), "application/json");
  EXPECT_EQ(JsonResponse(200, "{}").Header("Content-Type"), "application/json");
}

TEST(HttpDateTest, FormatsImfFixdate) {
  const struct {
    int64_t unix_seconds;
    std::string text;
  } kCases[] = {
      {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
      {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
      {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
      {4102444799, "Thu, 31 Dec 2099 23:59:59 GMT"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(FormatHttpDate(absl::FromUnixSeconds(c.unix_seconds)), c.text) << c.unix_seconds;
    absl::optional<absl::Time> parsed = ParseHttpDate(c.text);
    ASSERT_TRUE(parsed.has_value()) << c.text;
    EXPECT_EQ(absl::ToUnixSeconds(*parsed), c.unix_seconds) << c.text;
  }
  EXPECT_EQ(FormatHttpDate(absl::FromUnixMillis(784111777999)), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDateTest, ParsesTheObsoleteForms) {
  const struct {
    std::string text;
    int64_t unix_seconds;
  } kCases[] = {
      {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},  {"Sun Nov  6 08:49:37 1994", 784111777},
      {"Sun Nov 06 08:49:37 1994", 784111777},        {"Thursday, 01-Jan-70 00:00:00 GMT", 0},
      {"Tuesday, 29-Feb-00 00:00:00 GMT", 951782400},
  };
  for (const auto& c : kCases) {
    absl::optional<absl::Time> parsed = ParseHttpDate(c.text);
    ASSERT_TRUE(parsed.has_value()) << c.text;
    EXPECT_EQ(absl::ToUnixSeconds(*parsed), c.unix_seconds) << c.text;
  }
}

TEST(HttpDateTest, RejectsMalformedDates) {
  const std::string kCases[] = {
      "",
      "yesterday",
      "Sun, 06 Nov 1994 08:49:37 UTC",
      "Sun, 06 Nov 1994 08:49:37",
      "Sun 06 Nov 1994 08:49:37 GMT",
      "Xyz, 06 Nov 1994 08:49:37 GMT",
      "Sun, 6 Nov 1994 08:49:37 GMT",
      "Sun, 06 Foo 1994 08:49:37 GMT",
      "Sun, 06 Nov 94 08:49:37 GMT",
      "Sun, 31 Feb 1994 08:49:37 GMT",
      "Sun, 00 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 24:00:00 GMT",
      "Sun, 06 Nov 1994 08:60:00 GMT",
      "Sun, 06 Nov 1994 08:49:61 GMT",
      "Sun, 06 Nov 1994 8:49:37 GMT",
      "Sun, 06 Nov 1994 08:49 GMT",
      "Sun, 06 Nov +994 08:49:37 GMT",
      "Sunday, 06-Nov-1994 08:49:37 GMT",
      "Sun, 06-Nov-94 08:49:37 GMT",
      "Sun Nov 6 08:49:37 94",
      "Sun Nov 123 08:49:37 1994",
  };
  for (const std::string& text : kCases) {
    EXPECT_FALSE(ParseHttpDate(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace pgxn::gateway
