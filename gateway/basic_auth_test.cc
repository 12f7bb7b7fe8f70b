#include "gateway/basic_auth.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

std::string Basic(const std::string& scheme, const std::string& decoded) {
  return scheme + " " + absl::Base64Escape(decoded);
}

TEST(ParseBasicAuthTest, ParsesCredentials) {
  const struct {
    std::string header;
    std::string user;
    std::string password;
  } kCases[] = {
      {Basic("Basic", "user:pass"), "user", "pass"},
      {Basic("basic", "user:pass"), "user", "pass"},
      {Basic("BASIC", "user:pass"), "user", "pass"},
      {Basic("Basic", "user:pa:ss:"), "user", "pa:ss:"},
      {Basic("Basic", "user:"), "user", ""},
      {Basic("Basic", "us er:p w"), "us er", "p w"},
      {"  " + Basic("Basic", "u:p") + "  ", "u", "p"},
      {"Basic   dTpw", "u", "p"},
      {"Basic dTpw\t", "u", "p"},
      {"Basic dTpwcQ", "u", "pq"},  // padding left out
  };
  for (const auto& c : kCases) {
    absl::optional<Credentials> credentials = ParseBasicAuth(c.header);
    ASSERT_TRUE(credentials.has_value()) << c.header;
    EXPECT_EQ(credentials->user, c.user) << c.header;
    EXPECT_EQ(credentials->password, c.password) << c.header;
  }
}

TEST(ParseBasicAuthTest, RejectsMalformedHeaders) {
  const std::string kCases[] = {
      "",
      "Basic",
      "Basic ",
      "Bearer dTpw",
      "Basicx dTpw",
      "Digest username=\"u\"",
      Basic("Basic", "nocolon"),
      Basic("Basic", ":password"),
      "Basic !!!!",
      "Basic dTpw extra",
      "dTpw",
  };
  for (const auto& header : kCases) {
    EXPECT_FALSE(ParseBasicAuth(header).has_value()) << header;
  }
}

}  // namespace
}  // namespace pgxn::gateway
