#include "indexer/search/search_handler.h"

#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

class SearchHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SearchIndex>> index = SearchIndex::OpenInMemory();
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    DistDoc pair;
    pair.dist = "pair";
    pair.version = "0.1.2";
    pair.abstract = "A key/value pair data type";
    pair.tags = {"key value", "ordered pair"};
    pair.user = "theory";
    pair.user_name = "David E. Wheeler";
    DistDoc semver;
    semver.dist = "semver";
    semver.version = "0.2.0";
    semver.abstract = "A semantic version data type";
    semver.user = "theory";
    ExtensionDoc pair_ext;
    pair_ext.extension = "pair";
    pair_ext.dist = "pair";
    pair_ext.version = "0.1.2";
    pair_ext.abstract = "A key/value pair data type";
    for (absl::Status s : {index_->Put(pair), index_->Put(semver), index_->Put(pair_ext),
                           index_->Put(TagDoc{"ordered pair"}), index_->Commit(1)}) {
      ASSERT_TRUE(s.ok()) << s;
    }
  }

  gateway::Response Get(std::string path, std::string query, std::string method = "GET") {
    gateway::Request request;
    request.method = std::move(method);
    request.target = query.empty() ? path : absl::StrCat(path, "?", query);
    request.path = std::move(path);
    request.query = std::move(query);
    return HandleSearch(request, *index_);
  }

  std::unique_ptr<SearchIndex> index_;
};

TEST_F(SearchHandlerTest, UnknownPathsAreNotFound) {
  for (const char* path : {"/search", "/search/", "/search/foo", "/search/foo/", "/search/tag/foo",
                           "/search/tag/foo/", "/search/docs/x", "/search/docs//", "/search/Docs/",
                           "/search/doc/", "/search/all/x", "/searchdocs/", "/dist/pair.json"}) {
    const gateway::Response response = Get(path, "q=pair");
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body, "not found") << path;
    EXPECT_EQ(response.Header("Content-Type"), "text/plain; charset=utf-8") << path;
  }
}

TEST_F(SearchHandlerTest, BadParametersAreBadRequests) {
  struct Case {
    const char* query;
    const char* body;
  };
  const Case cases[] = {
      {"", "Bad request: Invalid or missing \"q\" query param."},
      {"o=1", "Bad request: Invalid or missing \"q\" query param."},
      {"q=", "Bad request: Invalid or missing \"q\" query param."},
      {"q", "Bad request: Invalid or missing \"q\" query param."},
      {"q=*", "Bad request: Invalid or missing \"q\" query param."},
      {"q=?", "Bad request: Invalid or missing \"q\" query param."},
      {"q=%2A", "Bad request: Invalid or missing \"q\" query param."},
      {"q=%3f", "Bad request: Invalid or missing \"q\" query param."},
      {"q=pair&q=", "Bad request: Invalid or missing \"q\" query param."},
      {"Q=pair", "Bad request: Invalid or missing \"q\" query param."},
      {"q=pair&o=foo", "Bad request: invalid \"o\" query param."},
      {"q=pair&o=-1", "Bad request: invalid \"o\" query param."},
      {"q=pair&o=1.5", "Bad request: invalid \"o\" query param."},
      {"q=pair&o=+1", "Bad request: invalid \"o\" query param."},
      {"q=pair&o=%201", "Bad request: invalid \"o\" query param."},
      {"q=pair&o=99999999999999999999999", "Bad request: invalid \"o\" query param."},
      {"q=pair&l=foo", "Bad request: invalid \"l\" query param."},
      {"q=pair&l=0x10", "Bad request: invalid \"l\" query param."},
      {"q=pair&l=1e3", "Bad request: invalid \"l\" query param."},
      {"q=pair&o=1&l=x", "Bad request: invalid \"l\" query param."},
      {"q=pa%00ir", "Bad request: invalid \"q\" query param: query contains a NUL byte."},
      {"q=%FF", "Bad request: invalid \"q\" query param: query is not valid UTF-8."},
  };
  for (const char* path : {"/search/dists/", "/search/all/"}) {
    for (const Case& c : cases) {
      const gateway::Response response = Get(path, c.query);
      EXPECT_EQ(response.status, 400) << path << "?" << c.query;
      EXPECT_EQ(response.body, c.body) << path << "?" << c.query;
      EXPECT_EQ(response.Header("Content-Type"), "text/plain; charset=utf-8")
          << path << "?" << c.query;
    }
  }
}

TEST_F(SearchHandlerTest, UndecodableQueryStringIsABadRequest) {
  // The wording is gateway::ParseQuery's; this handler only prefixes it.
  for (const char* query : {"q=100%", "q=%zz", "q=pair&l=%4"}) {
    const gateway::Response response = Get("/search/dists/", query);
    EXPECT_EQ(response.status, 400) << query;
    EXPECT_TRUE(absl::StartsWith(response.body, "Bad request: Invalid percent-escape"))
        << query << ": " << response.body;
  }
}

TEST_F(SearchHandlerTest, HugeQueryIsABadRequest) {
  const gateway::Response response =
      Get("/search/docs/", absl::StrCat("q=", std::string(100 * 1024, 'a')));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body,
            "Bad request: invalid \"q\" query param: query is 102400 bytes, longer than 4096.");
}

TEST_F(SearchHandlerTest, AnswersWithPgxnJson) {
  struct Case {
    const char* path;
    const char* query;
    std::string echoed_query;
    uint64_t offset;
    uint64_t limit;
    std::set<std::string> dists;
  };
  const Case cases[] = {
      {"/search/dists/", "q=pair", "pair", 0, 50, {"pair"}},
      {"/search/dists", "q=pair", "pair", 0, 50, {"pair"}},  // trailing slash optional
      {"/search/dists/", "q=data+type", "data type", 0, 50, {"pair", "semver"}},
      {"/search/dists/", "q=data%20type&o=1&l=1", "data type", 1, 1, {"pair", "semver"}},
      {"/search/dists/", "q=%22key+value%22", "\"key value\"", 0, 50, {"pair"}},
      {"/search/dists/", "q=tags%3A%22ordered+pair%22", "tags:\"ordered pair\"", 0, 50, {"pair"}},
      {"/search/dists/", "q=pair&l=0", "pair", 0, 50, {"pair"}},
      {"/search/dists/", "q=pair&l=1024", "pair", 0, 50, {"pair"}},
      {"/search/dists/", "q=pair&l=1023", "pair", 0, 1023, {"pair"}},
      {"/search/dists/", "q=pair&l=&o=", "pair", 0, 50, {"pair"}},
      {"/search/dists/", "q=pair&o=5", "pair", 5, 50, {}},
      {"/search/dists/", "q=pair&q=semver", "semver", 0, 50, {"semver"}},  // last wins
      {"/search/dists/", "q=AND+AND+(", "AND AND (", 0, 50, {}},
      {"/search/docs/", "q=pair", "pair", 0, 50, {}},
      {"/search/users/", "q=pair", "pair", 0, 50, {}},
  };
  for (const Case& c : cases) {
    const gateway::Response response = Get(c.path, c.query);
    ASSERT_EQ(response.status, 200) << c.path << "?" << c.query << ": " << response.body;
    EXPECT_EQ(response.Header("Content-Type"), "application/json") << c.path << "?" << c.query;
    const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << c.path << "?" << c.query << ": " << response.body;
    EXPECT_EQ(body.at("query"), c.echoed_query) << c.path << "?" << c.query;
    EXPECT_EQ(body.at("offset"), c.offset) << c.path << "?" << c.query;
    EXPECT_EQ(body.at("limit"), c.limit) << c.path << "?" << c.query;
    std::set<std::string> dists;
    for (const nlohmann::json& hit : body.at("hits")) dists.insert(hit.at("dist"));
    if (c.offset == 0 && c.limit >= 50) {
      EXPECT_EQ(dists, c.dists) << c.path << "?" << c.query;
      EXPECT_EQ(body.at("count"), c.dists.size()) << c.path << "?" << c.query;
    } else {
      EXPECT_LE(dists.size(), c.limit) << c.path << "?" << c.query;
      for (const std::string& dist : dists) {
        EXPECT_EQ(c.dists.count(dist), 1u) << c.path << "?" << c.query << ": " << dist;
      }
    }
  }
}

TEST_F(SearchHandlerTest, SearchAllTagsEachHitWithItsIndex) {
  const gateway::Response response = Get("/search/all/", "q=pair");
  ASSERT_EQ(response.status, 200) << response.body;
  const nlohmann::json body = nlohmann::json::parse(response.body);
  std::set<std::string> ins;
  for (const nlohmann::json& hit : body.at("hits")) ins.insert(hit.at("in"));
  EXPECT_EQ(ins, (std::set<std::string>{"dists", "extensions", "tags"}));
  EXPECT_EQ(body.at("count"), 3);
  EXPECT_EQ(body.at("query"), "pair");
}

TEST_F(SearchHandlerTest, HeadIsAnsweredAsGetAndOtherMethodsAreRefused) {
  const gateway::Response head = Get("/search/dists/", "q=pair", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, Get("/search/dists/", "q=pair").body);
  for (const char* method : {"POST", "PUT", "DELETE", "get"}) {
    const gateway::Response response = Get("/search/dists/", "q=pair", method);
    EXPECT_EQ(response.status, 405) << method;
    EXPECT_EQ(response.Header("Allow"), "GET, HEAD") << method;
  }
}

}  // namespace
}  // namespace pgxn::indexer
