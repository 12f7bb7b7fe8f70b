#include "feed/tree_digest.h"

#include "base/digest.h"
#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

TEST(TreeDigestTest, OrderOfAdditionDoesNotMatter) {
  TreeDigest a, b;
  a.Add("x.json", base::Sha256("1"), "application/json");
  a.Add("y.json", base::Sha256("2"), "application/json");
  b.Add("y.json", base::Sha256("2"), "application/json");
  b.Add("x.json", base::Sha256("1"), "application/json");
  EXPECT_EQ(a.Digest(), b.Digest());
  EXPECT_EQ(a.Digest().size(), 32u);
}

TEST(TreeDigestTest, ReplacingAFileIsRemoveThenAdd) {
  TreeDigest incremental;
  incremental.Add("x.json", base::Sha256("old"), "application/json");
  incremental.Add("y.json", base::Sha256("2"), "application/json");
  incremental.Remove("x.json", base::Sha256("old"), "application/json");
  incremental.Add("x.json", base::Sha256("new"), "application/json");
  TreeDigest fresh;
  fresh.Add("y.json", base::Sha256("2"), "application/json");
  fresh.Add("x.json", base::Sha256("new"), "application/json");
  EXPECT_EQ(incremental.Digest(), fresh.Digest());
  EXPECT_TRUE(incremental == fresh);
}

TEST(TreeDigestTest, EveryFieldCounts) {
  TreeDigest base;
  base.Add("x.json", base::Sha256("1"), "application/json");
  const struct {
    std::string path, content, media_type;
  } others[] = {{"y.json", "1", "application/json"},
                {"x.json", "2", "application/json"},
                {"x.json", "1", "text/plain"}};
  for (const auto& other : others) {
    TreeDigest d;
    d.Add(other.path, base::Sha256(other.content), other.media_type);
    EXPECT_NE(d.Digest(), base.Digest()) << other.path << " " << other.media_type;
  }
  EXPECT_NE(TreeDigest().Digest(), base.Digest());
  TreeDigest emptied = base;
  emptied.Remove("x.json", base::Sha256("1"), "application/json");
  EXPECT_EQ(emptied.Digest(), TreeDigest().Digest());
}

TEST(TreeDigestTest, StateRoundTrips) {
  TreeDigest d;
  d.Add("a", base::Sha256("a"), "text/plain");
  absl::StatusOr<TreeDigest> back = TreeDigest::FromState(d.State());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Digest(), d.Digest());
  EXPECT_FALSE(TreeDigest::FromState("short").ok());
}

}  // namespace
}  // namespace pgxn::feed
