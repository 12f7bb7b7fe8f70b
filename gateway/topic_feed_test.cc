#include "gateway/topic_feed.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/digest.h"
#include "gateway/atom_feed.h"
#include "gateway/recent_feed.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pgxn::gateway {
namespace {

size_t Count(absl::string_view text, absl::string_view what) {
  return std::vector<absl::string_view>(absl::StrSplit(text, what)).size() - 1;
}

class Tree : public TreeReader {
 public:
  absl::StatusOr<TreeFile> ReadFile(absl::string_view path) const override {
    if (broken) return absl::UnavailableError("store is closed");
    auto it = files.find(std::string(path));
    if (it == files.end()) return absl::NotFoundError("no such file");
    return it->second;
  }
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view, absl::string_view)>&) const override {
    return absl::OkStatus();
  }
  void Put(const std::string& path, std::string content, std::string sha = "s1",
           int64_t time = 1300000000) {
    TreeFile file;
    file.content = std::move(content);
    file.sha256_hex = std::move(sha);
    file.media_type = "application/json";
    file.modified_unix_seconds = time;
    files[path] = std::move(file);
  }
  void PutMeta(const std::string& dist, const std::string& version, const std::string& user,
               const std::string& abstract) {
    Put(absl::StrCat("dist/", dist, "/", version, "/META.json"),
        nlohmann::json{{"name", dist}, {"version", version}, {"user", user},
                       {"abstract", abstract}}
            .dump());
  }

  std::map<std::string, TreeFile> files;
  bool broken = false;
};

Request Get(std::string path, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request request;
  request.method = "GET";
  request.path = std::move(path);
  request.target = request.path;
  request.headers = std::move(headers);
  return request;
}

// Two dists, pgTAP in two statuses, by two users, one tag with a space.
Tree Sample() {
  Tree tree;
  tree.Put("dist/pgtap.json", R"({"name": "pgTAP", "releases": {
      "stable": [{"version": "0.25.0", "date": "2011-02-02T03:25:17Z"},
                 {"version": "0.24.0", "date": "2010-05-24T23:01:25Z"}],
      "testing": [{"version": "0.26.0-Beta", "date": "2011-06-01T10:00:00Z"}]}})",
           "d1");
  tree.Put("user/theory.json", R"({"nickname": "theory", "name": "David E. Wheeler",
      "releases": {"pgTAP": {"stable": [{"version": "0.25.0", "date": "2011-02-02T03:25:17Z"}]},
                   "pair": {"stable": [{"version": "0.1.0", "date": "2010-10-19T03:59:54Z"}]}}})",
           "u1");
  tree.Put("tag/key value.json", R"({"tag": "Key Value", "releases": {
      "pair": {"stable": [{"version": "0.1.0", "date": "2010-10-19T03:59:54Z"}]},
      "pgTAP": {"testing": [{"version": "0.26.0-Beta", "date": "2011-06-01T10:00:00Z"}]}}})",
           "t1");
  tree.PutMeta("pgtap", "0.25.0", "theory", "Unit testing for PostgreSQL");
  tree.PutMeta("pgtap", "0.24.0", "theory", "Unit testing for PostgreSQL");
  tree.PutMeta("pgtap", "0.26.0-beta", "alice", "Unit testing <b>for</b> PostgreSQL");
  tree.PutMeta("pair", "0.1.0", "theory", "A key/value pair data type");
  return tree;
}

TEST(TopicFeedTest, ADistsFeedListsEveryStatusNewestFirst) {
  const Tree tree = Sample();
  Response response = ServeTopicFeed(Get("/feeds/dist/pgtap.atom"), tree);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("Content-Type"), "application/atom+xml");
  const std::string& feed = response.body;
  EXPECT_EQ(Count(feed, "<entry>"), 3u) << feed;
  // Links resolve against the node's root: two directories up.
  for (absl::string_view part : {
           "xml:base=\"../../\"",
           "<id>tag:pgxn.org,2010:feeds/dist/pgtap</id>",
           "<title>PGXN: releases of pgTAP</title>",
           "<link rel=\"self\" href=\"feeds/dist/pgtap.atom\"/>",
           "<link rel=\"alternate\" type=\"application/json\" href=\"dist/pgtap.json\"/>",
           "  <updated>2011-06-01T10:00:00Z</updated>\n",
           // The same entry id as in the recent feed and on every node.
           "<id>tag:pgxn.org,2010:dist/pgtap/0.26.0-beta/</id>",
           "<author><name>alice</name><uri>user/alice.json</uri></author>",
           "<summary>Unit testing &lt;b&gt;for&lt;/b&gt; PostgreSQL</summary>",
           // The uploader's name from their user file, as in the recent feed.
           "<author><name>David E. Wheeler</name><uri>user/theory.json</uri></author>",
       }) {
    EXPECT_TRUE(absl::StrContains(feed, part)) << part << "\n" << feed;
  }
  EXPECT_LT(feed.find("pgTAP 0.26.0-Beta"), feed.find("pgTAP 0.25.0"));
  EXPECT_LT(feed.find("pgTAP 0.25.0"), feed.find("pgTAP 0.24.0"));

  // An entry renders as it does in the recent feed.
  const std::string recent = RenderRecentFeed(
      R"({"recent": [{"dist": "pgTAP", "version": "0.24.0", "date": "2010-05-24T23:01:25Z",
          "user": "theory", "user_name": "David E. Wheeler",
          "abstract": "Unit testing for PostgreSQL"}]})",
      "2020-01-01T00:00:00Z");
  const size_t at = recent.find("  <entry>");
  const std::string entry = recent.substr(at, recent.find("</entry>") + 9 - at);
  EXPECT_TRUE(absl::StrContains(feed, entry)) << entry << "\n" << feed;
}

TEST(TopicFeedTest, AUsersFeedShowsTheirNameAndATagMayHaveASpace) {
  const Tree tree = Sample();
  Response user = ServeTopicFeed(Get("/feeds/user/Theory.atom"), tree);
  ASSERT_EQ(user.status, 200) << user.body;
  EXPECT_EQ(Count(user.body, "<entry>"), 2u) << user.body;
  EXPECT_TRUE(absl::StrContains(user.body, "<title>PGXN: releases by David E. Wheeler (theory)"))
      << user.body;
  EXPECT_TRUE(absl::StrContains(
      user.body, "<author><name>David E. Wheeler</name><uri>user/theory.json</uri></author>"))
      << user.body;
  EXPECT_TRUE(absl::StrContains(user.body, "<summary>A key/value pair data type</summary>"));
  EXPECT_LT(user.body.find("pgTAP 0.25.0"), user.body.find("pair 0.1.0"));

  // The request path arrives decoded: /feeds/tag/key%20value.atom.
  Response tag = ServeTopicFeed(Get("/feeds/tag/key value.atom"), tree);
  ASSERT_EQ(tag.status, 200) << tag.body;
  EXPECT_EQ(Count(tag.body, "<entry>"), 2u) << tag.body;
  EXPECT_TRUE(absl::StrContains(tag.body, "<title>PGXN: releases tagged &quot;Key Value&quot;"))
      << tag.body;
  EXPECT_TRUE(absl::StrContains(tag.body, "<link rel=\"self\" href=\"feeds/tag/key%20value.atom\"/>"))
      << tag.body;
  EXPECT_TRUE(absl::StrContains(tag.body, "<author><name>alice</name>")) << tag.body;
}

TEST(TopicFeedTest, IsServedWithValidatorsOfWhatItIsMadeOf) {
  Tree tree = Sample();
  Response response = ServeTopicFeed(Get("/feeds/dist/pgtap.atom"), tree);
  const std::string etag = absl::StrCat("\"", base::Sha256Hex(response.body), "-topic1\"");
  EXPECT_EQ(response.Header("ETag"), etag);
  EXPECT_EQ(response.Header("Last-Modified"), "Sun, 13 Mar 2011 07:06:40 GMT");
  EXPECT_EQ(ServeTopicFeed(Get("/feeds/dist/pgtap.atom", {{"if-none-match", etag}}), tree).status,
            304);
  // An author's new name changes the feed, its tag and its time.
  tree.Put("user/theory.json", R"({"nickname": "theory", "name": "D. E. Wheeler"})", "u2",
           1400000000);
  Response renamed = ServeTopicFeed(Get("/feeds/dist/pgtap.atom", {{"if-none-match", etag}}), tree);
  EXPECT_EQ(renamed.status, 200);
  EXPECT_TRUE(absl::StrContains(renamed.body, "<name>D. E. Wheeler</name>")) << renamed.body;
  EXPECT_EQ(renamed.Header("Last-Modified"), "Tue, 13 May 2014 16:53:20 GMT");
  Request head = Get("/feeds/dist/pgtap.atom");
  head.method = "HEAD";
  EXPECT_EQ(ServeTopicFeed(head, tree).status, 200);
  tree.broken = true;
  EXPECT_GE(ServeTopicFeed(Get("/feeds/dist/pgtap.atom"), tree).status, 500);
}

TEST(TopicFeedTest, WhatNamesNoTopicIsNotFound) {
  const Tree tree = Sample();
  for (const char* path :
       {"/feeds/dist/nothing.atom", "/feeds/dist/pgtap", "/feeds/dist/pgtap.json",
        "/feeds/dist/.atom", "/feeds/dist/...atom", "/feeds/dist/a/b.atom", "/feeds/dist/",
        "/feeds/extension/pgtap.atom", "/feeds/", "/feeds/user/theory.atom/",
        "/feeds/tag/../dist/pgtap.atom"}) {
    Response response = ServeTopicFeed(Get(path), tree);
    EXPECT_EQ(response.status, 404) << path << "\n" << response.body;
  }
}

TEST(TopicFeedTest, KeepsTheNewestAndSkipsWhatCannotBeAnEntry) {
  nlohmann::json stable = nlohmann::json::array();
  for (int i = 0; i < 70; ++i) {
    stable.push_back({{"version", absl::StrCat("1.", i)},
                      {"date", absl::StrCat("2011-01-01T00:", 10 + i / 60 * 10 + i % 60 / 10,
                                            ":0", i % 10, "Z")}});
  }
  stable.push_back({{"version", "../x"}, {"date", "2030-01-01T00:00:00Z"}});
  stable.push_back({{"version", 5}});
  stable.push_back("junk");
  const std::string json = nlohmann::json{{"name", "d"}, {"releases", {{"stable", stable}}}}.dump();
  const std::string feed = RenderTopicFeed(
      FeedTopic::kDist, "d", json, [](absl::string_view) { return ""; },
      "2020-01-01T00:00:00Z");
  EXPECT_EQ(Count(feed, "<entry>"), kMaxFeedEntries) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "<title>d 1.69</title>")) << feed;
  EXPECT_FALSE(absl::StrContains(feed, "<title>d 1.13</title>")) << feed;
  EXPECT_FALSE(absl::StrContains(feed, "../x")) << feed;
  // Without a META.json, an entry has no summary and an unknown author.
  EXPECT_TRUE(absl::StrContains(feed, "<author><name>unknown</name></author>")) << feed;
  for (const char* junk : {"", "not json", "[]", R"({"releases": 5})", R"({"releases": []})"}) {
    const std::string empty = RenderTopicFeed(
        FeedTopic::kTag, "t", junk, [](absl::string_view) { return ""; },
        "2020-01-01T00:00:00Z");
    EXPECT_EQ(Count(empty, "<entry>"), 0u) << junk;
    EXPECT_TRUE(absl::StrContains(empty, "<updated>2020-01-01T00:00:00Z</updated>")) << junk;
  }
}

}  // namespace
}  // namespace pgxn::gateway
