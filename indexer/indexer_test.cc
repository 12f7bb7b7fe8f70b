#include "indexer/indexer.h"

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/temp_dir.h"
#include "node/test_events.h"

namespace pgxn::indexer {
namespace {

using Json = nlohmann::json;

std::string Meta(const std::string& version, const std::string& date, const std::string& abstract) {
  return Json{{"name", "pair"},
              {"version", version},
              {"abstract", abstract},
              {"user", "theory"},
              {"date", date},
              {"release_status", "stable"},
              {"provides",
               {{"pair", {{"file", "pair.sql"}, {"version", version}, {"abstract", abstract}}}}}}
      .dump();
}

std::string DistJson(const std::vector<std::pair<std::string, std::string>>& releases) {
  Json list = Json::array();
  for (const auto& [version, date] : releases) {
    list.push_back(Json{{"version", version}, {"date", date}});
  }
  return Json{{"name", "pair"}, {"releases", {{"stable", list}}}}.dump();
}

std::string ExtensionJson(const std::string& version) {
  return Json{{"extension", "pair"},
              {"latest", "stable"},
              {"stable", {{"dist", "pair"}, {"version", version}, {"sha1", "x"}}},
              {"versions", {{version, {{{"dist", "pair"}, {"version", version}}}}}}}
      .dump();
}

class IndexerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = node::Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PinOriginKey(node::TestChain::Key().public_key).ok());
    auto indexer = Indexer::Open(store_.get(), dir_.path() + "/index");
    ASSERT_TRUE(indexer.ok()) << indexer.status();
    indexer_ = *std::move(indexer);
  }

  void Apply(std::vector<v1::Op> ops, const std::string& kind, const std::string& version) {
    v1::Event event = chain_.Next(std::move(ops), kind, "pair", version);
    auto applied = store_->Apply(event);
    ASSERT_TRUE(applied.ok()) << applied.status();
    indexer_->OnApplied(event, /*caught_up=*/true);
    ASSERT_EQ(indexer_->index().AppliedSeq(), event.seq());
  }

  // The first hit's `key` for `q` in `in`, or "" without hits.
  std::string First(SearchIn in, const std::string& q, const std::string& key) {
    auto result = indexer_->index().Search(in, q, 0, 10);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok() || (*result)["hits"].empty()) return "";
    return (*result)["hits"][0].value(key, "");
  }

  node::TempDir dir_;
  std::unique_ptr<node::Store> store_;
  std::unique_ptr<Indexer> indexer_;
  node::TestChain chain_;
};

TEST_F(IndexerTest, RemovingTheLatestReleaseReindexesTheOneBefore) {
  Apply({node::PutOp("dist/pair/1.0.0/META.json", Meta("1.0.0", "2020-01-01T00:00:00Z", "first")),
         node::PutOp("dist/pair/1.0.0/README.txt", "alpha readme", "text/plain; charset=utf-8"),
         node::PutOp("dist/pair.json", DistJson({{"1.0.0", "2020-01-01T00:00:00Z"}})),
         node::PutOp("extension/pair.json", ExtensionJson("1.0.0"))},
        "release", "1.0.0");
  Apply({node::PutOp("dist/pair/1.1.0/META.json", Meta("1.1.0", "2020-02-01T00:00:00Z", "second")),
         node::PutOp("dist/pair/1.1.0/README.txt", "beta readme", "text/plain; charset=utf-8"),
         node::PutOp("dist/pair.json", DistJson({{"1.1.0", "2020-02-01T00:00:00Z"},
                                                 {"1.0.0", "2020-01-01T00:00:00Z"}})),
         node::PutOp("extension/pair.json", ExtensionJson("1.1.0"))},
        "release", "1.1.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "1.1.0");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "version"), "1.1.0");
  EXPECT_EQ(First(SearchIn::kDocs, "beta", "version"), "1.1.0");

  // What the origin publishes when an admin removes 1.1.0: its files go, the
  // dist and extension files are rewritten.
  Apply({node::DeleteOp("dist/pair/1.1.0/pair-1.1.0.zip"),
         node::DeleteOp("dist/pair/1.1.0/META.json"), node::DeleteOp("dist/pair/1.1.0/README.txt"),
         node::PutOp("dist/pair.json", DistJson({{"1.0.0", "2020-01-01T00:00:00Z"}})),
         node::PutOp("extension/pair.json", ExtensionJson("1.0.0"))},
        "delete", "1.1.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "1.0.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "abstract"), "first");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "version"), "1.0.0");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "abstract"), "first");
  EXPECT_EQ(First(SearchIn::kDocs, "beta", "version"), "");
  EXPECT_EQ(First(SearchIn::kDocs, "alpha", "version"), "1.0.0");

  // Removing the last release removes the dist and extension files, and
  // with them every document.
  Apply({node::DeleteOp("dist/pair/1.0.0/META.json"), node::DeleteOp("dist/pair/1.0.0/README.txt"),
         node::DeleteOp("dist/pair.json"), node::DeleteOp("extension/pair.json")},
        "delete", "1.0.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "version"), "");
  EXPECT_EQ(First(SearchIn::kDocs, "alpha", "version"), "");
}

TEST_F(IndexerTest, ReleasesOfTheSameSecondAreOrderedByVersion) {
  const std::string date = "2020-01-01T00:00:00Z";
  Apply({node::PutOp("dist/pair/1.0.0/META.json", Meta("1.0.0", date, "one")),
         node::PutOp("dist/pair/1.10.0/META.json", Meta("1.10.0", date, "ten")),
         node::PutOp("dist/pair/1.9.0/META.json", Meta("1.9.0", date, "nine")),
         node::PutOp("dist/pair/2.0.0/META.json", Meta("2.0.0", date, "two"))},
        "release", "2.0.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "2.0.0");
  Apply({node::DeleteOp("dist/pair/2.0.0/META.json"),
         node::PutOp("dist/pair.json",
                     DistJson({{"1.0.0", date}, {"1.10.0", date}, {"1.9.0", date}}))},
        "delete", "2.0.0");
  // Numerically, not as text.
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "1.10.0");
}

}  // namespace
}  // namespace pgxn::indexer
