#include "gateway/recent_feed.h"

#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pgxn::gateway {
namespace {

constexpr char kFallback[] = "2020-01-02T03:04:05Z";

size_t Count(absl::string_view text, absl::string_view what) {
  return std::vector<absl::string_view>(absl::StrSplit(text, what)).size() - 1;
}

TEST(RecentFeedTest, RendersEachRecentReleaseAsAnEntry) {
  const std::string feed = RenderRecentFeed(R"({"count": 2, "recent": [
      {"dist": "pgTAP", "version": "0.25.0-Beta", "abstract": "Unit testing for PostgreSQL",
       "date": "2011-03-16T10:57:47Z", "user": "Theory", "user_name": "David E. Wheeler"},
      {"dist": "pair", "version": "0.1.0", "date": "2010-10-29T22:46:45Z", "user": "alice"}]})",
                                            kFallback);
  EXPECT_TRUE(absl::StartsWith(feed, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed "));
  // Links resolve against the node's root, the feed URL's parent.
  EXPECT_TRUE(absl::StrContains(feed, "xml:base=\"../\"")) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "<link rel=\"self\" href=\"feeds/recent.atom\"/>")) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "<id>tag:pgxn.org,2010:feeds/recent</id>")) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "<title>PGXN: recent releases</title>")) << feed;
  EXPECT_TRUE(absl::EndsWith(feed, "</feed>\n"));
  EXPECT_EQ(Count(feed, "<entry>"), 2u);
  EXPECT_EQ(Count(feed, "</entry>"), 2u);
  // The feed is as new as its newest entry.
  EXPECT_TRUE(absl::StrContains(feed, "  <updated>2011-03-16T10:57:47Z</updated>\n")) << feed;
  for (absl::string_view part : {
           "<id>tag:pgxn.org,2010:dist/pgtap/0.25.0-beta/</id>",
           "<title>pgTAP 0.25.0-Beta</title>",
           "href=\"dist/pgtap/0.25.0-beta/META.json\"",
           "<author><name>David E. Wheeler</name><uri>user/theory.json</uri></author>",
           "<summary>Unit testing for PostgreSQL</summary>",
           // No user_name: the nickname; no abstract: no summary.
           "<author><name>alice</name><uri>user/alice.json</uri></author>\n  </entry>",
           "<updated>2010-10-29T22:46:45Z</updated>",
       }) {
    EXPECT_TRUE(absl::StrContains(feed, part)) << part << "\n" << feed;
  }
  // Newest first, as stats/dist.json lists them.
  EXPECT_LT(feed.find("pgTAP"), feed.find("pair 0.1.0"));
}

TEST(RecentFeedTest, EscapesMarkupAndDropsWhatXmlCannotCarry) {
  const std::string feed = RenderRecentFeed(
      R"({"recent": [{"dist": "x<y", "version": "1.0", "date": "2011-03-16T10:57:47Z",
          "abstract": "<script>alert('&')</script> \"q\" \u0001\u001f\ufffe\uffff\t ok",
          "user": "a\"b"}]})",
      kFallback);
  EXPECT_TRUE(absl::StrContains(
      feed,
      "<summary>&lt;script&gt;alert(&apos;&amp;&apos;)&lt;/script&gt; &quot;q&quot; \t "
      "ok</summary>"))
      << feed;
  EXPECT_TRUE(absl::StrContains(feed, "<title>x&lt;y 1.0</title>")) << feed;
  // Names in links and ids are percent-encoded, so no markup reaches them.
  EXPECT_TRUE(absl::StrContains(feed, "href=\"dist/x%3Cy/1.0/META.json\"")) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "<uri>user/a%22b.json</uri>")) << feed;
  EXPECT_FALSE(absl::StrContains(feed, "<script")) << feed;
  EXPECT_FALSE(absl::StrContains(feed, "\x01")) << feed;
  EXPECT_FALSE(absl::StrContains(feed, "\xEF\xBF\xBE")) << feed;
  EXPECT_FALSE(absl::StrContains(feed, "\xEF\xBF\xBF")) << feed;
}

TEST(RecentFeedTest, AnythingButAStatsDocumentGivesAFeedWithoutEntries) {
  for (const char* stats : {"", "not json", "[]", R"({"recent": 5})", R"({"count": 0})",
                            R"({"recent": [1, "x", null, {"dist": ""}, {"dist": "x"},
                                           {"version": "1.0"}, {"dist": 5, "version": "1"}]})"}) {
    const std::string feed = RenderRecentFeed(stats, kFallback);
    EXPECT_EQ(Count(feed, "<entry>"), 0u) << stats << "\n" << feed;
    EXPECT_TRUE(absl::StrContains(feed, "  <updated>2020-01-02T03:04:05Z</updated>\n")) << stats;
    EXPECT_TRUE(absl::EndsWith(feed, "</feed>\n")) << stats;
  }
  // A date that is not exactly PGXN's form is not copied into the feed.
  for (const char* date : {"yesterday</updated>", "infinite-future", "infinite-past",
                           " 2011-03-16T10:57:47Z", "2011-3-6T1:5:7Z", "2011-13-40T10:57:47Z",
                           "2011-03-16t10:57:47Z", "+2011-03-16T10:57:47Z", ""}) {
    nlohmann::json stats = {{"recent", {{{"dist", "x"}, {"version", "1"}, {"date", date}}}}};
    const std::string feed = RenderRecentFeed(stats.dump(), kFallback);
    EXPECT_EQ(Count(feed, "<entry>"), 1u) << feed;
    EXPECT_EQ(Count(feed, "<updated>2020-01-02T03:04:05Z</updated>"), 2u) << date << "\n" << feed;
  }
}

TEST(RecentFeedTest, NamesBecomeOneEncodedSegmentOrTheEntryIsSkipped) {
  const std::string feed = RenderRecentFeed(R"({"recent": [
      {"dist": "a b#?", "version": "1.0", "user": "x/y"},
      {"dist": "..", "version": "1.0"}, {"dist": "a/b", "version": "1.0"},
      {"dist": "ok", "version": "."}, {"dist": "ok", "version": "../1"}]})",
                                            kFallback);
  EXPECT_EQ(Count(feed, "<entry>"), 1u) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "<id>tag:pgxn.org,2010:dist/a%20b%23%3F/1.0/</id>")) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "href=\"dist/a%20b%23%3F/1.0/META.json\"")) << feed;
  EXPECT_FALSE(absl::StrContains(feed, "<uri>")) << "a user name with a slash has no link";
}

TEST(RecentFeedTest, HoldsAtMostAsManyEntriesAsPgxnsStats) {
  nlohmann::json recent = nlohmann::json::array();
  for (int i = 0; i < 70; ++i) {
    recent.push_back({{"dist", absl::StrCat("d", i)}, {"version", "1.0"}});
  }
  const std::string feed = RenderRecentFeed(nlohmann::json{{"recent", recent}}.dump(), kFallback);
  EXPECT_EQ(Count(feed, "<entry>"), kMaxFeedEntries);
  EXPECT_TRUE(absl::StrContains(feed, "<title>d55 1.0</title>"));
  EXPECT_FALSE(absl::StrContains(feed, "<title>d56 1.0</title>"));
}

class StatsTree : public TreeReader {
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

  std::map<std::string, TreeFile> files;
  bool broken = false;
};

Request Get(std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request request;
  request.method = "GET";
  request.path = kRecentFeedPath;
  request.target = request.path;
  request.headers = std::move(headers);
  return request;
}

TEST(RecentFeedTest, IsServedWithTheStatsFilesValidators) {
  StatsTree tree;
  tree.files["stats/dist.json"] = TreeFile{
      R"({"recent": [{"dist": "pair", "version": "0.1.0", "date": "2010-10-29T22:46:45Z"}]})",
      "ab12", "application/json", 784111777};
  Response response = ServeRecentFeed(Get(), tree);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("Content-Type"), "application/atom+xml");
  EXPECT_EQ(response.Header("ETag"), "\"ab12-784111777-atom1\"");
  EXPECT_EQ(response.Header("Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_TRUE(absl::StrContains(response.body, "<title>pair 0.1.0</title>")) << response.body;

  EXPECT_EQ(ServeRecentFeed(Get({{"if-none-match", "\"ab12-784111777-atom1\""}}), tree).status,
            304);
  EXPECT_EQ(ServeRecentFeed(Get({{"if-none-match", "\"ab12\""}}), tree).status, 200);
  EXPECT_EQ(
      ServeRecentFeed(Get({{"if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"}}), tree).status,
      304);
  Request head = Get();
  head.method = "HEAD";
  EXPECT_EQ(ServeRecentFeed(head, tree).status, 200);
  // The same stats at another time: another tag (the time may show in the body).
  tree.files["stats/dist.json"].modified_unix_seconds += 1;
  EXPECT_EQ(ServeRecentFeed(Get({{"if-none-match", "\"ab12-784111777-atom1\""}}), tree).status,
            200);
  // A stats file without a hash: no entity tag, rather than a shared one.
  tree.files["stats/dist.json"].sha256_hex = "";
  EXPECT_EQ(ServeRecentFeed(Get(), tree).Header("ETag"), "");
  Request post = Get();
  post.method = "POST";
  EXPECT_EQ(ServeRecentFeed(post, tree).status, 405);
}

TEST(RecentFeedTest, ANetworkWithoutStatsHasAnEmptyFeedAndAStoreErrorIsAnError) {
  StatsTree tree;
  Response empty = ServeRecentFeed(Get(), tree);
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(Count(empty.body, "<entry>"), 0u);
  EXPECT_EQ(empty.Header("ETag"), "\"empty-atom1\"");
  tree.broken = true;
  EXPECT_GE(ServeRecentFeed(Get(), tree).status, 500);
}

}  // namespace
}  // namespace pgxn::gateway
