#include "indexer/derived/version_order.h"

#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

TEST(VersionOrderTest, OrdersNumericallyThenPrereleasesBelowReleases) {
  const struct {
    const char* a;
    const char* b;
  } kBefore[] = {
      {"0.1.0", "0.1.1"},      {"0.9.0", "0.10.0"},
      {"1.0.0-beta", "1.0.0"}, {"1.0.0-alpha", "1.0.0-beta"},
      {"1.2", "1.2.1"},        {"2.0.0", "10.0.0"},
  };
  for (const auto& c : kBefore) {
    EXPECT_TRUE(VersionBefore(c.a, c.b)) << c.a << " < " << c.b;
    EXPECT_FALSE(VersionBefore(c.b, c.a)) << c.b << " !< " << c.a;
  }
  EXPECT_FALSE(VersionBefore("1.0.0", "1.0.0"));
}

}  // namespace
}  // namespace pgxn::indexer
