#include "base/fd_limit.h"

#include <sys/resource.h>

#include "gtest/gtest.h"

namespace pgxn::base {
namespace {

TEST(FdLimitTest, RaisesTheSoftLimitToTheHardOne) {
  absl::StatusOr<FdLimit> limit = RaiseOpenFileLimit();
  ASSERT_TRUE(limit.ok()) << limit.status();
  EXPECT_EQ(limit->soft, limit->hard);
  EXPECT_GE(limit->soft, limit->before);
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  if (now.rlim_cur != RLIM_INFINITY) EXPECT_EQ(now.rlim_cur, limit->soft);
}

TEST(FdLimitTest, DefaultConnectionsLeaveTheReserveAndShareTheRest) {
  struct Case {
    uint64_t soft;
    int listeners;
    size_t expected;
  } cases[] = {
      {1024, 1, 512},        {1024, 2, 256},   {20000, 2, 9744}, {256, 1, 64},
      {1 << 20, 1, 65536},   {600, 0, 88},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DefaultMaxConnections(c.soft, c.listeners), c.expected)
        << c.soft << " descriptors, " << c.listeners << " listeners";
  }
}

}  // namespace
}  // namespace pgxn::base
