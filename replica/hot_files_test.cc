#include "replica/hot_files.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace pgxn::replica {
namespace {

std::shared_ptr<const HotFiles::File> Make(std::string content) {
  auto file = std::make_shared<HotFiles::File>();
  file->content = std::move(content);
  file->sha256_hex = "ab";
  file->media_type = "application/json";
  return file;
}

TEST(HotFilesTest, FindsWhatWasInsertedAtTheSameVersionOnly) {
  HotFiles hot(1 << 20);
  hot.Insert("dist/a.json", 3, Make("a"));
  std::shared_ptr<const HotFiles::File> found = hot.Find("dist/a.json", 3);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->content, "a");
  EXPECT_EQ(hot.Find("dist/b.json", 3), nullptr);
  EXPECT_EQ(hot.Find("dist/a.json", 4), nullptr);  // the store changed since
  EXPECT_EQ(hot.Find("dist/a.json", 2), nullptr);
}

TEST(HotFilesTest, ANewerVersionEmptiesTheCacheAndAnOlderOneIsDropped) {
  HotFiles hot(1 << 20);
  hot.Insert("a", 1, Make("old"));
  hot.Insert("b", 2, Make("new"));
  EXPECT_EQ(hot.Find("a", 2), nullptr);
  EXPECT_EQ(hot.bytes(), 4u);  // "new" and its path only
  // A reader that saw version 1 before a write and inserts after a newer
  // reader: its file may be old, and must not be found at version 2.
  hot.Insert("a", 1, Make("old"));
  EXPECT_EQ(hot.Find("a", 2), nullptr);
  EXPECT_EQ(hot.Find("a", 1), nullptr);
}

TEST(HotFilesTest, StaysWithinItsBound) {
  HotFiles hot(100);
  hot.Insert("big", 1, Make(std::string(200, 'x')));  // larger than the cache
  EXPECT_EQ(hot.Find("big", 1), nullptr);
  EXPECT_EQ(hot.bytes(), 0u);
  for (int i = 0; i < 10; ++i) {
    hot.Insert("f" + std::to_string(i), 1, Make(std::string(38, 'y')));
    EXPECT_LE(hot.bytes(), 100u);
    EXPECT_NE(hot.Find("f" + std::to_string(i), 1), nullptr);  // the newest is kept
  }
}

TEST(HotFilesTest, InsertingAPathTwiceCountsItOnce) {
  HotFiles hot(1 << 20);
  hot.Insert("a", 1, Make("xyz"));
  hot.Insert("a", 1, Make("xyz"));
  EXPECT_EQ(hot.bytes(), 4u);
}

}  // namespace
}  // namespace pgxn::replica
