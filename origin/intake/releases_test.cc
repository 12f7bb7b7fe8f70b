#include "origin/intake/releases.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "gtest/gtest.h"
#include "origin/testing/test_postgres.h"

namespace pgxn::origin {
namespace {

TEST(VersionOrderTest, FollowsPgxnRules) {
  const struct {
    std::vector<std::string> existing;
    std::string version;
    std::string error;  // "" when allowed
  } cases[] = {
      {{}, "0.1.0", ""},
      {{"1.0.0"}, "1.0.1", ""},
      {{"1.0.0"}, "2.0.0", ""},
      {{"1.0.0"}, "1.0.0", ""},  // equal: left to the duplicate check
      // docs/pgxn.md §3 step 6's examples.
      {{"1.2.3", "1.4.2"}, "1.2.4", ""},
      {{"1.2.3", "1.4.2"},
       "1.2.2",
       "Distribution \"pair 1.2.2\" version not greater than previous minor release "
       "\"pair 1.2.3\""},
      {{"1.2.3", "1.4.2"},
       "1.3.0",
       "Distribution \"pair 1.3.0\" version not greater than previous major release "
       "\"pair 1.4.2\""},
      {{"1.2.6", "2.0.4"}, "1.3.0", ""},
      {{"1.2.6", "2.0.4"},
       "0.9.0",
       "Distribution \"pair 0.9.0\" version not greater than previous release \"pair 2.0.4\""},
      {{"1.0.0"},
       "1.0.0-beta1",
       "Distribution \"pair 1.0.0-beta1\" version not greater than previous minor release "
       "\"pair 1.0.0\""},
      {{"1.0.0-beta1"}, "1.0.0", ""},
      {{"0.43.2b1"}, "0.43.2", ""},
  };
  for (const auto& c : cases) {
    absl::Status s = CheckVersionOrder("pair", c.version, c.existing);
    if (c.error.empty()) {
      EXPECT_TRUE(s.ok()) << c.version << ": " << s;
    } else {
      EXPECT_TRUE(absl::IsFailedPrecondition(s)) << c.version << ": " << s;
      EXPECT_EQ(s.message(), c.error) << c.version;
    }
  }
}

}  // namespace
}  // namespace pgxn::origin
