#include "feed/event_json.h"

#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "feed/test_events.h"
#include "feed/test_log.h"
#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

using Json = nlohmann::json;

v1::Event Release(TestChain& chain, const std::string& meta) {
  return chain.Next({PutOp("dist/pair/0.1.7/pair-0.1.7.zip", "zip bytes", "application/zip"),
                     PutOp("dist/pair/0.1.7/META.json", meta),
                     PutOp("dist/pair.json", "{}"), DeleteOp("tag/old.json")},
                    "release", "Pair", "0.1.7");
}

TEST(EventJsonTest, AReleaseNamesItsFilesAbstractAndUrls) {
  TestChain chain;
  MemoryLog log;
  v1::Event event = Release(chain, R"({"name":"pair","abstract":"A key/value \"pair\""})");
  event.set_actor("theory");
  log.Append(event);
  const EventJson described = DescribeEvent(event, log);
  EXPECT_EQ(described.meta_path, "/dist/pair/0.1.7/META.json");
  EXPECT_EQ(described.zip_path, "/dist/pair/0.1.7/pair-0.1.7.zip");
  const Json json = Json::parse(CompleteEventJson(described, "https://mirror.example:8443"));
  EXPECT_EQ(json["seq"], 1);
  EXPECT_EQ(json["kind"], "release");
  EXPECT_EQ(json["dist"], "Pair");
  EXPECT_EQ(json["version"], "0.1.7");
  EXPECT_EQ(json["user"], "theory");
  EXPECT_EQ(json["date"], "2023-11-14T22:13:21Z");
  EXPECT_EQ(json["abstract"], "A key/value \"pair\"");
  ASSERT_EQ(json["files"].size(), 3u);
  EXPECT_EQ(json["files"][0]["path"], "/dist/pair/0.1.7/pair-0.1.7.zip");
  EXPECT_EQ(json["files"][0]["size"], 9);
  EXPECT_EQ(json["files"][0]["sha256"], base::HexEncode(event.ops(0).sha256()));
  EXPECT_EQ(json["removed"], Json::array({"/tag/old.json"}));
  EXPECT_EQ(json["meta_url"], "https://mirror.example:8443/dist/pair/0.1.7/META.json");
  EXPECT_EQ(json["zip_url"], "https://mirror.example:8443/dist/pair/0.1.7/pair-0.1.7.zip");
}

TEST(EventJsonTest, AnUnreadableMetaGivesANullAbstractNotAFailure) {
  TestChain chain;
  MemoryLog log;  // holds no contents: nothing was appended
  for (const std::string& meta : {std::string("not json"), std::string(R"({"abstract": 3})")}) {
    const v1::Event event = Release(chain, meta);
    const Json json = Json::parse(CompleteEventJson(DescribeEvent(event, log), "http://n"));
    EXPECT_TRUE(json["abstract"].is_null()) << meta;
    EXPECT_EQ(json["meta_url"], "http://n/dist/pair/0.1.7/META.json");
  }
}

TEST(EventJsonTest, AnEventWithoutAReleaseHasNullsWhereAReleaseHasValues) {
  TestChain chain;
  MemoryLog log;
  const v1::Event event = chain.Next({PutOp("stats/dist.json", "{}")}, "stats", "", "");
  const Json json = Json::parse(CompleteEventJson(DescribeEvent(event, log), "http://n"));
  EXPECT_EQ(json["kind"], "stats");
  EXPECT_TRUE(json["dist"].is_null());
  EXPECT_TRUE(json["version"].is_null());
  EXPECT_TRUE(json["abstract"].is_null());
  EXPECT_TRUE(json["meta_url"].is_null());
  EXPECT_TRUE(json["zip_url"].is_null());
  EXPECT_EQ(json["files"][0]["path"], "/stats/dist.json");
}

TEST(EventJsonTest, ABaseUrlIsEscapedAsJson) {
  TestChain chain;
  MemoryLog log;
  const v1::Event event = Release(chain, "{}");
  const std::string text = CompleteEventJson(DescribeEvent(event, log), "http://a\"b");
  EXPECT_EQ(Json::parse(text)["zip_url"], "http://a\"b/dist/pair/0.1.7/pair-0.1.7.zip");
}

}  // namespace
}  // namespace pgxn::feed
