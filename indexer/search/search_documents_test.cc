#include "indexer/search/search_documents.h"

#include <memory>
#include <string>
#include <vector>

#include "base/temp_dir.h"
#include "feed/test_events.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

namespace v1 = ::pgxn::feed::v1;
using Json = nlohmann::json;

std::string Meta(const std::string& version, const std::string& abstract) {
  return Json{{"name", "pair"},
              {"version", version},
              {"abstract", abstract},
              {"user", "theory"},
              {"date", "2020-01-0" + version.substr(2, 1) + "T00:00:00Z"},
              {"release_status", "stable"},
              {"tags", {"key value"}},
              {"provides",
               {{"pair", {{"file", "pair.sql"}, {"version", version}, {"abstract", abstract}}}}}}
      .dump();
}

std::string DistFile(const std::vector<std::string>& versions) {
  Json list = Json::array();
  for (const std::string& version : versions) {
    list.push_back(
        {{"version", version}, {"date", "2020-01-0" + version.substr(2, 1) + "T00:00:00Z"}});
  }
  return Json{{"name", "pair"}, {"releases", {{"stable", list}}}}.dump();
}

class SearchDocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = replica::Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PinOriginKey(feed::TestChain::Key().public_key).ok());
    auto index = SearchIndex::OpenInMemory();
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    derived_ = std::make_unique<DerivedDocuments>(store_.get());
    renderer_ = std::make_unique<ReleaseRenderer>([](absl::string_view) { return std::string(); });
    search_ = std::make_unique<SearchDocuments>(store_.get(), index_.get(), derived_.get(),
                                                renderer_.get());
  }

  void Apply(std::vector<v1::Op> ops) {
    auto applied = store_->Apply(chain_.Next(std::move(ops)));
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  // The `key` of each hit for `q` in `in`, in order.
  std::vector<std::string> Hits(SearchIn in, const std::string& q, const std::string& key) {
    EXPECT_TRUE(index_->Commit(1).ok());
    auto result = index_->Search(in, q, 0, 10);
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<std::string> hits;
    if (result.ok()) {
      for (const Json& hit : (*result)["hits"]) hits.push_back(hit.value(key, ""));
    }
    return hits;
  }

  base::TempDir dir_;
  std::unique_ptr<replica::Store> store_;
  std::unique_ptr<SearchIndex> index_;
  std::unique_ptr<DerivedDocuments> derived_;
  std::unique_ptr<ReleaseRenderer> renderer_;
  std::unique_ptr<SearchDocuments> search_;
  feed::TestChain chain_;
};

TEST_F(SearchDocumentsTest, ANotedDistIsIndexedAsItsNewestReleaseOnce) {
  Apply({feed::PutOp("dist/pair/0.1.0/META.json", Meta("0.1.0", "first pair")),
         feed::PutOp("dist/pair/0.2.0/META.json", Meta("0.2.0", "second pair")),
         feed::PutOp("dist/pair.json", DistFile({"0.1.0", "0.2.0"})),
         feed::PutOp("user/theory.json", Json{{"nickname", "theory"}, {"name", "David"}}.dump())});
  search_->NoteDist("pair");
  search_->NoteDist("pair");
  search_->NoteUser("theory");
  search_->IndexNoted({});
  EXPECT_EQ(Hits(SearchIn::kDists, "pair", "version"), std::vector<std::string>{"0.2.0"});
  EXPECT_EQ(Hits(SearchIn::kDists, "second", "version"), std::vector<std::string>{"0.2.0"});
  EXPECT_EQ(Hits(SearchIn::kTags, "key", "tag"), std::vector<std::string>{"key value"});
  EXPECT_EQ(Hits(SearchIn::kUsers, "david", "user"), std::vector<std::string>{"theory"});
}

TEST_F(SearchDocumentsTest, GoneFilesLeaveTheIndex) {
  Apply({feed::PutOp("dist/pair/0.1.0/META.json", Meta("0.1.0", "first pair")),
         feed::PutOp("dist/pair.json", DistFile({"0.1.0"})),
         feed::PutOp("user/theory.json", Json{{"nickname", "theory"}, {"name", "David"}}.dump())});
  search_->NoteDist("pair");
  search_->NoteUser("theory");
  search_->IndexNoted({});
  ASSERT_EQ(Hits(SearchIn::kDists, "pair", "dist").size(), 1u);

  Apply({feed::DeleteOp("dist/pair.json"), feed::DeleteOp("user/theory.json")});
  search_->NoteDist("pair");
  search_->NoteUser("theory");
  search_->IndexNoted({});
  EXPECT_TRUE(Hits(SearchIn::kDists, "pair", "dist").empty());
  EXPECT_TRUE(Hits(SearchIn::kUsers, "david", "user").empty());
}

TEST_F(SearchDocumentsTest, ADistIndexedAsNewestIsNotIndexedAgainUntilForgotten) {
  Apply({feed::PutOp("dist/pair/0.1.0/META.json", Meta("0.1.0", "first pair")),
         feed::PutOp("dist/pair.json", DistFile({"0.1.0"}))});
  // As a rebuild does: the newest release indexed as it is derived, with its
  // docs; the dist's note then adds nothing (its docs would be lost).
  ReleaseFiles files;
  files.docs.push_back({"README.md", "README", "Pair", "", "<p>x</p>", "rendered readme words"});
  search_->IndexNewestRelease("dist/pair/0.1.0/", Json::parse(Meta("0.1.0", "first pair")), files);
  search_->NoteDist("pair");
  search_->IndexNoted({});
  EXPECT_EQ(Hits(SearchIn::kDocs, "rendered", "docpath"), std::vector<std::string>{"README"});
}

}  // namespace
}  // namespace pgxn::indexer
