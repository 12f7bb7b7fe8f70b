#include "origin/publishing/settings.h"

#include "gtest/gtest.h"
#include "origin/testing/test_postgres.h"

namespace pgxn::origin {
namespace {

TEST(SettingsTest, ALaterPutReplacesTheValue) {
  TestPostgres pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  std::unique_ptr<PgConnection> conn = pg.Connect();
  ASSERT_NE(conn, nullptr);
  EXPECT_TRUE(absl::IsNotFound(GetSetting(*conn, Setting::kPublicUrl).status()));
  ASSERT_TRUE(PutSetting(*conn, Setting::kPublicUrl, "https://a.example/").ok());
  ASSERT_TRUE(PutSetting(*conn, Setting::kPublicUrl, "https://b.example/").ok());
  EXPECT_EQ(*GetSetting(*conn, Setting::kPublicUrl), "https://b.example/");
}

TEST(SettingsTest, EachSettingHasItsOwnName) {
  EXPECT_EQ(SettingName(Setting::kPublicUrl), "public_url");
  EXPECT_EQ(SettingName(Setting::kOriginPublicKey), "origin_public_key");
}

}  // namespace
}  // namespace pgxn::origin
