#include "indexer/docs/tree_layout.h"

#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

TEST(TreeLayoutTest, ReleasePaths) {
  EXPECT_TRUE(IsReleaseMeta("dist/pair/0.1.0/META.json"));
  EXPECT_FALSE(IsReleaseMeta("dist/pair.json"));
  EXPECT_FALSE(IsReleaseMeta("dist/pair/0.1.0/doc/META.json"));
  EXPECT_EQ(ReleaseDirOf("dist/pair/0.1.0/META.json"), "dist/pair/0.1.0/");
  EXPECT_EQ(ReleaseDir("Pair", "0.1.0-Beta"), "dist/pair/0.1.0-beta/");
  EXPECT_EQ(ZipPath("dist/pair/0.1.0/", nlohmann::json{{"name", "Pair"}, {"version", "0.1.0"}}),
            "dist/pair/0.1.0/pair-0.1.0.zip");
}

TEST(TreeLayoutTest, TopFileNames) {
  EXPECT_EQ(NameIn("user/theory.json", "user"), "theory");
  EXPECT_EQ(NameIn("user/theory.json", "tag"), "");
  EXPECT_EQ(NameIn("user/theory.txt", "user"), "");
  EXPECT_EQ(NameIn("dist/pair/0.1.0/META.json", "dist"), "");
}

TEST(TreeLayoutTest, JsonStrings) {
  const nlohmann::json doc = {{"a", "x"}, {"n", 1}};
  EXPECT_EQ(JsonString(doc, "a"), "x");
  EXPECT_EQ(JsonString(doc, "n"), "");
  EXPECT_EQ(JsonString(doc, "missing"), "");
  EXPECT_EQ(JsonString(nlohmann::json::array(), "a"), "");
}

}  // namespace
}  // namespace pgxn::indexer
