#include "origin/catalog/catalog.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "origin/testing/test_postgres.h"
#include "origin/testing/test_releases.h"

namespace pgxn::origin {
namespace {

TEST(CatalogTest, NewestExtensionsAreTheSameWhateverTheWindow) {
  TestPostgres pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  auto conn = pg.Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(AddTestUser(*conn, "bob").ok());
  // 80 releases of 65 extensions: e0..e14 are released twice, 65 releases
  // apart, so the newest 60 releases hold 60 extensions, some of which also
  // have an older release outside them.
  for (int i = 1; i <= 80; ++i) {
    auto event = PublishTestRelease(
        *conn, "bob", TestMeta(absl::StrCat("d", i), "1.0.0", {absl::StrCat("e", i % 65)}));
    ASSERT_TRUE(event.ok()) << i << ": " << event.status();
  }
  absl::StatusOr<std::vector<FileChange>> whole = RenderStatsFiles(*conn, int64_t{1} << 40);
  ASSERT_TRUE(whole.ok()) << whole.status();
  for (int64_t window : {int64_t{1}, int64_t{10}, int64_t{57}, int64_t{60}, int64_t{79}}) {
    absl::StatusOr<std::vector<FileChange>> windowed = RenderStatsFiles(*conn, window);
    ASSERT_TRUE(windowed.ok()) << windowed.status();
    ASSERT_EQ(windowed->size(), whole->size());
    for (size_t i = 0; i < whole->size(); ++i) {
      EXPECT_EQ((*windowed)[i].path, (*whole)[i].path);
      EXPECT_EQ((*windowed)[i].content, (*whole)[i].content)
          << (*whole)[i].path << " with a window of " << window;
    }
  }
  // e0's newest release is d65's.
  for (const FileChange& file : *whole) {
    if (file.path != "stats/extension.json") continue;
    EXPECT_NE(file.content.find("\"d65\""), std::string::npos) << file.content;
  }
}

}  // namespace
}  // namespace pgxn::origin
