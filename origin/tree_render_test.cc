#include "origin/tree_render.h"

#include <fstream>
#include <sstream>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

using Json = nlohmann::json;

Json Fixture(const std::string& path) {
  std::ifstream in(std::string(PGXN_FIXTURES) + "/root-mirror/" + path);
  std::stringstream text;
  text << in.rdbuf();
  Json parsed = Json::parse(text.str(), nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << path;
  return parsed;
}

int64_t Micros(const std::string& date) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", date, &time, &error)) << error;
  return absl::ToUnixMicros(time);
}

ReleaseRow Release(std::string dist, std::string version, std::string date,
                   std::string status = "stable") {
  ReleaseRow row;
  row.dist = std::move(dist);
  row.version = std::move(version);
  row.status = std::move(status);
  row.released_at_us = Micros(date);
  row.user = "theory";
  row.user_name = "David E. Wheeler";
  row.abstract = "abstract";
  return row;
}

TEST(TreeRenderTest, DistJsonMatchesPgxn) {
  EXPECT_EQ(Json::parse(RenderDistJson({Release("pgTAP", "0.25.0", "2011-02-02T03:25:17Z")})),
            Fixture("dist/pgTAP.json"));
  EXPECT_EQ(Json::parse(RenderDistJson({Release("pair", "0.1.0", "2010-10-19T03:59:54Z")})),
            Fixture("dist/pair.json"));
}

TEST(TreeRenderTest, DistJsonGroupsByStatusNewestVersionFirst) {
  Json doc = Json::parse(RenderDistJson({
      Release("Pair", "0.1.0", "2010-01-01T00:00:00Z"),
      Release("pair", "0.2.0-beta1", "2010-03-01T00:00:00Z", "testing"),
      Release("pair", "0.10.0", "2010-02-01T00:00:00Z"),
      Release("pair", "0.9.0", "2010-04-01T00:00:00Z"),
  }));
  EXPECT_EQ(doc["name"], "pair") << "spelled as in the newest release";
  ASSERT_EQ(doc["releases"]["stable"].size(), 3u);
  EXPECT_EQ(doc["releases"]["stable"][0]["version"], "0.10.0");
  EXPECT_EQ(doc["releases"]["stable"][1]["version"], "0.9.0");
  EXPECT_EQ(doc["releases"]["stable"][2]["version"], "0.1.0");
  EXPECT_EQ(doc["releases"]["testing"][0]["version"], "0.2.0-beta1");
  EXPECT_FALSE(doc["releases"].contains("unstable"));
}

TEST(TreeRenderTest, ExtensionJsonMatchesPgxn) {
  ProvidedRow row;
  row.extension = "pgtap";
  row.ext_version = "0.25.0";
  row.release = Release("pgTAP", "0.25.0", "2011-02-02T03:25:17Z");
  row.release.sha1 = "f7216d04ec2ca980a2491d8cbf6bed71c970dda9";
  EXPECT_EQ(Json::parse(RenderExtensionJson({row})), Fixture("extension/pgtap.json"));
}

TEST(TreeRenderTest, ExtensionJsonAcrossDistsAndStatuses) {
  ProvidedRow old_stable{"pair", "0.1.0", "", Release("pair", "0.1.0", "2010-01-01T00:00:00Z")};
  ProvidedRow testing{"pair", "0.2.0", "",
                      Release("pair", "0.2.0-rc1", "2010-02-01T00:00:00Z", "testing")};
  ProvidedRow other_dist{"pair", "0.2.0", "", Release("pairs", "1.0.0", "2010-03-01T00:00:00Z")};
  Json doc = Json::parse(RenderExtensionJson({old_stable, testing, other_dist}));
  EXPECT_EQ(doc["latest"], "stable");
  EXPECT_EQ(doc["stable"]["dist"], "pairs");
  EXPECT_EQ(doc["testing"]["version"], "0.2.0-rc1");
  ASSERT_EQ(doc["versions"]["0.2.0"].size(), 2u);
  EXPECT_EQ(doc["versions"]["0.2.0"][0], (Json{{"dist", "pairs"}, {"version", "1.0.0"}}));
  EXPECT_EQ(doc["versions"]["0.2.0"][1],
            (Json{{"dist", "pair"}, {"version", "0.2.0-rc1"}, {"status", "testing"}}));
  EXPECT_EQ(doc["versions"]["0.1.0"].size(), 1u);
}

TEST(TreeRenderTest, UserJsonMatchesPgxn) {
  UserRow fred{"fred", "Fred Flintstone", "fred@flintstone.com", "http://fred.flintstone.com/",
               "fred"};
  EXPECT_EQ(Json::parse(RenderUserJson(fred, {})), Fixture("user/fred.json"));
  UserRow theory{"theory", "David E. Wheeler", "david@justatheory.com", "http://justatheory.com/",
                 ""};
  EXPECT_EQ(
      Json::parse(RenderUserJson(theory, {Release("pair", "0.1.0", "2010-10-19T03:59:54Z"),
                                          Release("pgTAP", "0.25.0", "2011-02-02T03:25:17Z"),
                                          Release("semver", "0.2.0", "2011-02-05T19:31:38Z")})),
      Fixture("user/theory.json"));
}

TEST(TreeRenderTest, TagJsonMatchesPgxn) {
  EXPECT_EQ(
      Json::parse(RenderTagJson("key value", {Release("pair", "0.1.0", "2010-10-19T03:59:54Z"),
                                              Release("pair", "0.1.1", "2010-10-29T22:44:42Z")})),
      Fixture("tag/key value.json"));
}

TEST(TreeRenderTest, ReleaseMetaDropsCustomKeysAndAddsProvenance) {
  nlohmann::ordered_json author = nlohmann::ordered_json::parse(R"({
    "name": "pair", "version": "0.1.0", "abstract": "A pair", "x_internal": 1,
    "generated_by": "hand", "meta-spec": {"version": "1.0.0"},
    "provides": {"pair": {"file": "pair.sql", "version": "0.1.0", "X_note": "drop me"}},
    "resources": {"x_ci": "yes", "homepage": "https://example.com/"}
  })");
  Json meta = Json::parse(
      RenderReleaseMeta(author, "theory", Micros("2010-10-19T03:59:54Z"), "aaaa", "bbbb", "cccc"));
  EXPECT_FALSE(meta.contains("x_internal"));
  EXPECT_FALSE(meta.contains("generated_by"));
  EXPECT_FALSE(meta.contains("meta-spec"));
  EXPECT_FALSE(meta["provides"]["pair"].contains("X_note"));
  EXPECT_FALSE(meta["resources"].contains("x_ci"));
  EXPECT_EQ(meta["resources"]["homepage"], "https://example.com/");
  EXPECT_EQ(meta["user"], "theory");
  EXPECT_EQ(meta["date"], "2010-10-19T03:59:54Z");
  EXPECT_EQ(meta["sha1"], "aaaa");
  EXPECT_EQ(meta["sha256"], "bbbb");
  EXPECT_EQ(meta["sha512"], "cccc");
  EXPECT_EQ(meta["release_status"], "stable");
}

TEST(TreeRenderTest, MirrorsJsonWritesEmailsAsPgxnDoes) {
  MirrorRow mirror{"http://pgxn.example.org/",
                   "hourly",
                   "Basel",
                   "Example",
                   "CEST",
                   "web_pgxn@example.org",
                   "1Gbps",
                   "rsync://master.pgxn.org/pgxn/",
                   std::string(""),
                   absl::nullopt};
  Json doc = Json::parse(RenderMirrorsJson({mirror}));
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["email"], "example.org|web_pgxn");
  EXPECT_EQ(doc[0]["rsync"], "");
  EXPECT_FALSE(doc[0].contains("notes"));
  EXPECT_EQ(Json::parse(RenderMirrorsJson({})), Json::array());
}

TEST(TreeRenderTest, IndexJsonHasTheRootMirrorTemplates) {
  EXPECT_EQ(Json::parse(RenderIndexJson()), Fixture("index.json"));
}

TEST(TreeRenderTest, PathsAreLowerCase) {
  EXPECT_EQ(DistJsonPath("pgTAP"), "dist/pgtap.json");
  EXPECT_EQ(ReleaseDirPath("pgTAP", "0.25.0B1"), "dist/pgtap/0.25.0b1");
  EXPECT_EQ(TagJsonPath("Key Value"), "tag/key value.json");
  EXPECT_EQ(ExtensionJsonPath("PGTap"), "extension/pgtap.json");
  EXPECT_EQ(UserJsonPath("theory"), "user/theory.json");
}

}  // namespace
}  // namespace pgxn::origin
