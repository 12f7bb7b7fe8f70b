#include "origin/catalog/tree_render.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

using Json = nlohmann::json;

Json FixtureAt(const std::string& path) {
  std::ifstream in(std::string(PGXN_FIXTURES) + "/" + path);
  std::stringstream text;
  text << in.rdbuf();
  Json parsed = Json::parse(text.str(), nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << path;
  return parsed;
}

Json Fixture(const std::string& path) { return FixtureAt("root-mirror/" + path); }

// The keys of a JSON object, sorted.
std::vector<std::string> Keys(const Json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
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

TEST(TreeRenderTest, ReleaseMetaMatchesPgxn) {
  // The Manager's file for pair 0.1.0, turned back into what the author wrote.
  const Json published = Fixture("dist/pair/0.1.0/META.json");
  nlohmann::ordered_json author = nlohmann::ordered_json::parse(published.dump());
  for (const char* key : {"user", "date", "sha1"}) author.erase(key);
  author["meta-spec"] = {{"version", "1.0.0"}};
  author["generated_by"] = "hand";
  Json rendered = Json::parse(
      RenderReleaseMeta(author, published["user"].get<std::string>(), Micros(published["date"]),
                        published["sha1"].get<std::string>(), "s256", "s512"));
  EXPECT_EQ(rendered["sha256"], "s256");
  EXPECT_EQ(rendered["sha512"], "s512");
  rendered.erase("sha256");
  rendered.erase("sha512");
  EXPECT_EQ(rendered, published);
}

TEST(TreeRenderTest, StatsHaveThePgxnShapes) {
  ReleaseRow row = Release("pair", "0.1.0", "2010-10-19T03:59:54Z");
  const Json dist = Json::parse(RenderDistStats(1, 1, {row}));
  const Json dist_fixture = FixtureAt("api-root/stats/dist.json");
  EXPECT_EQ(Keys(dist["recent"][0]), Keys(dist_fixture["recent"][0]));
  EXPECT_EQ(dist["count"], 1);
  EXPECT_EQ(dist["releases"], 1);

  const Json tag = Json::parse(RenderTagStats(1, {TagCount{"pair", 3}}));
  const Json tag_fixture = FixtureAt("api-root/stats/tag.json");
  EXPECT_EQ(Keys(tag), Keys(tag_fixture));
  EXPECT_EQ(Keys(tag["popular"][0]), Keys(tag_fixture["popular"][0]));

  const Json summary = Json::parse(RenderSummaryStats(Summary{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Keys(summary), Keys(FixtureAt("api-root/stats/summary.json")));
  EXPECT_EQ(summary["mirrors"], 6);

  ProvidedRow provided{"pair", "0.1.0", "A pair", row};
  const Json extension = Json::parse(RenderExtensionStats(1, {provided}));
  EXPECT_EQ(Keys(extension["recent"][0]),
            (std::vector<std::string>{"abstract", "date", "dist", "ext_version", "extension",
                                      "user", "user_name", "version"}));
  const Json user = Json::parse(RenderUserStats(1, {ProlificRow{"theory", "David", 3, 7}}));
  EXPECT_EQ(Keys(user["prolific"][0]),
            (std::vector<std::string>{"dists", "name", "nickname", "releases"}));
}

TEST(TreeRenderTest, MirrorsJsonMatchesPgxn) {
  const Json fixture = Fixture("meta/mirrors.json");
  std::vector<MirrorRow> rows;
  for (const Json& m : fixture) {
    // The registry stores real addresses; the file writes them domain|user.
    const std::string email = m["email"];
    const size_t bar = email.find('|');
    rows.push_back(MirrorRow{m["uri"], m["frequency"], m["location"], m["organization"],
                             m["timezone"], email.substr(bar + 1) + "@" + email.substr(0, bar),
                             m["bandwidth"], m["src"], m["rsync"].get<std::string>(),
                             m["notes"].get<std::string>()});
  }
  EXPECT_EQ(Json::parse(RenderMirrorsJson(rows)), fixture);
}

}  // namespace
}  // namespace pgxn::origin
