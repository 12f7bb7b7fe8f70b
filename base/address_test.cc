#include "base/address.h"

#include "gtest/gtest.h"

namespace pgxn::base {
namespace {

TEST(AddressTest, ParsesHostPort) {
  const struct {
    std::string input;
    bool ok;
    std::string host;
    uint16_t port;
  } cases[] = {
      {"127.0.0.1:8080", true, "127.0.0.1", 8080},
      {"localhost:0", true, "localhost", 0},
      {"[::1]:9000", true, "::1", 9000},
      {"0.0.0.0:65535", true, "0.0.0.0", 65535},
      {"localhost", false, "", 0},
      {":80", false, "", 0},
      {"host:", false, "", 0},
      {"host:65536", false, "", 0},
      {"host:-1", false, "", 0},
      {"host:http", false, "", 0},
      {"::1:80", false, "", 0},
      {"[::1]80", false, "", 0},
  };
  for (const auto& c : cases) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(c.input);
    ASSERT_EQ(parsed.ok(), c.ok) << c.input << ": " << parsed.status();
    if (!c.ok) {
      EXPECT_NE(parsed.status().message().find(c.input), absl::string_view::npos) << c.input;
      continue;
    }
    EXPECT_EQ(parsed->host, c.host) << c.input;
    EXPECT_EQ(parsed->port, c.port) << c.input;
  }
}

TEST(ClientKeyTest, IPv6AddressesCountByTheirSlash64) {
  EXPECT_EQ(ClientKey("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(ClientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("2001:db8:1:2::1"), ClientKey("2001:db8:1:2:ffff::9"));
  EXPECT_NE(ClientKey("2001:db8:1:2::1"), ClientKey("2001:db8:1:3::1"));
  EXPECT_EQ(ClientKey("::1"), "::/64");
  EXPECT_EQ(ClientKey("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(ClientKey("unknown"), "unknown");
  EXPECT_EQ(ClientKey("2001:db8::zz"), "2001:db8::zz");
  EXPECT_EQ(ClientKey(""), "");
}

}  // namespace
}  // namespace pgxn::base
