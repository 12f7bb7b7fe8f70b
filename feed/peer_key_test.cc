#include "feed/peer_key.h"

#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

TEST(PeerKeyTest, AClientCountsOnceWhateverItsPortsAndItsSlash64) {
  EXPECT_EQ(PeerKey("ipv4:192.0.2.7:5678"), "ipv4:192.0.2.7");
  EXPECT_EQ(PeerKey("ipv4:192.0.2.7:1"), PeerKey("ipv4:192.0.2.7:2"));
  EXPECT_EQ(PeerKey("ipv6:[2001:db8:1:2::9]:5678"), "ipv6:2001:db8:1:2::/64");
  EXPECT_EQ(PeerKey("ipv6:%5B2001:db8:1:2::9%5D:5678"), "ipv6:2001:db8:1:2::/64");
  EXPECT_EQ(PeerKey("ipv6:%5b2001:db8:1:2:aaaa::1%5d:1"), "ipv6:2001:db8:1:2::/64");
  EXPECT_NE(PeerKey("ipv6:[2001:db8:1:2::9]:1"), PeerKey("ipv6:[2001:db8:1:3::9]:1"));
  EXPECT_EQ(PeerKey("ipv6:[::ffff:192.0.2.7]:5678"), "ipv4:192.0.2.7");
  EXPECT_EQ(PeerKey("ipv6:[::1"), "ipv6:[::1");
  EXPECT_EQ(PeerKey("unix:/run/pgxn.sock"), "unix:/run/pgxn.sock");
  EXPECT_EQ(PeerKey("unknown"), "unknown");
}

}  // namespace
}  // namespace pgxn::feed
