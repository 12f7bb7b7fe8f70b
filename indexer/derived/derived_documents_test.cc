#include "indexer/derived/derived_documents.h"

#include <memory>
#include <string>
#include <vector>

#include "base/temp_dir.h"
#include "feed/test_events.h"
#include "gtest/gtest.h"
#include "indexer/derived/api_tree.h"

namespace pgxn::indexer {
namespace {

namespace v1 = ::pgxn::feed::v1;
using Json = nlohmann::json;

constexpr char kDir[] = "dist/pair/0.1.0/";

std::string Meta() {
  return Json{{"name", "pair"},
              {"version", "0.1.0"},
              {"abstract", "A pair"},
              {"user", "theory"},
              {"date", "2020-01-01T00:00:00Z"},
              {"release_status", "stable"},
              {"provides", {{"pair", {{"file", "pair.sql"}, {"version", "0.1.0"}}}}}}
      .dump();
}

std::string DistFile() {
  return Json{
      {"name", "pair"},
      {"releases", {{"stable", {{{"version", "0.1.0"}, {"date", "2020-01-01T00:00:00Z"}}}}}}}
      .dump();
}

std::string UserFile() {
  return Json{{"nickname", "theory"},
              {"name", "David E. Wheeler"},
              {"releases", {{"pair", {{"stable", {{{"version", "0.1.0"}}}}}}}}}
      .dump();
}

ReleaseFiles Docs(const std::vector<std::string>& docpaths) {
  ReleaseFiles files;
  for (const std::string& docpath : docpaths) {
    files.docs.push_back({docpath + ".md", docpath, docpath, "", "<div>" + docpath + "</div>", ""});
  }
  return files;
}

class DerivedDocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = replica::Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PinOriginKey(feed::TestChain::Key().public_key).ok());
    Apply({feed::PutOp("dist/pair/0.1.0/META.json", Meta()),
           feed::PutOp("dist/pair.json", DistFile()), feed::PutOp("user/theory.json", UserFile())});
    derived_ = std::make_unique<DerivedDocuments>(store_.get());
  }

  uint64_t Apply(std::vector<v1::Op> ops) {
    v1::Event event = chain_.Next(std::move(ops));
    auto applied = store_->Apply(event);
    EXPECT_TRUE(applied.ok()) << applied.status();
    return event.seq();
  }

  // The committed document at `path`, parsed; discarded if none.
  Json Committed(const std::string& path) {
    absl::StatusOr<std::string> value = store_->GetDerived(path);
    if (!value.ok()) return Json(Json::value_t::discarded);
    return Json::parse(DerivedContent(*value), nullptr, false);
  }

  // Derives the release and the top files of SetUp's event, and commits.
  void DeriveAll(const ReleaseFiles& files) {
    derived_->PutRelease(kDir, Json::parse(Meta()), files);
    derived_->NoteTopFile("dist/pair.json", 1);
    derived_->NoteTopFile("user/theory.json", 1);
    derived_->DeriveTopFiles();
    ASSERT_TRUE(derived_->Commit(1).ok());
  }

  base::TempDir dir_;
  std::unique_ptr<replica::Store> store_;
  feed::TestChain chain_;
  std::unique_ptr<DerivedDocuments> derived_;
};

TEST_F(DerivedDocumentsTest, AReleaseAndTheTopFilesAreDerivedAndCommittedWithTheirSeq) {
  DeriveAll(Docs({"README", "doc/pair"}));
  EXPECT_EQ(store_->DerivedSeq(), 1u);
  const Json meta = Committed("dist/pair/0.1.0/META.json");
  ASSERT_TRUE(meta.is_object());
  EXPECT_EQ(meta["docs"].size(), 2u);
  EXPECT_TRUE(store_->GetDerived("dist/pair/0.1.0/doc/pair.html").ok());
  EXPECT_EQ(Committed("dist/pair.json")["abstract"], "A pair");
  // The user file shows each dist's abstract; the user list has the user.
  EXPECT_EQ(Committed("user/theory.json")["releases"]["pair"]["abstract"], "A pair");
  EXPECT_EQ(Committed("users/t.json"),
            Json::parse(R"([{"user": "theory", "name": "David E. Wheeler"}])"));
}

TEST_F(DerivedDocumentsTest, ReadSeesTheBufferAndDropForgetsIt) {
  derived_->PutRelease(kDir, Json::parse(Meta()), Docs({"README"}));
  EXPECT_TRUE(derived_->Read("dist/pair/0.1.0/META.json").is_object());
  EXPECT_GT(derived_->pending_bytes(), 0u);
  derived_->Drop();
  EXPECT_EQ(derived_->pending_bytes(), 0u);
  EXPECT_TRUE(derived_->Read("dist/pair/0.1.0/META.json").is_discarded());
  EXPECT_TRUE(derived_->Commit(1).ok());
  EXPECT_TRUE(Committed("dist/pair/0.1.0/META.json").is_discarded());
}

TEST_F(DerivedDocumentsTest, ARenderingWithFewerDocsDeletesTheOthersPages) {
  DeriveAll(Docs({"README", "doc/pair"}));
  derived_->PutRelease(kDir, Json::parse(Meta()), Docs({"README"}));
  ASSERT_TRUE(derived_->Commit(2).ok());
  EXPECT_TRUE(store_->GetDerived("dist/pair/0.1.0/README.html").ok());
  EXPECT_TRUE(absl::IsNotFound(store_->GetDerived("dist/pair/0.1.0/doc/pair.html").status()));

  derived_->DeleteRelease(kDir);
  ASSERT_TRUE(derived_->Commit(3).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->GetDerived("dist/pair/0.1.0/README.html").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->GetDerived("dist/pair/0.1.0/META.json").status()));
}

TEST_F(DerivedDocumentsTest, AGoneTopFileIsDeletedAndLeavesTheUserList) {
  DeriveAll(Docs({"README"}));
  Apply({feed::DeleteOp("user/theory.json")});
  derived_->NoteTopFile("user/theory.json", 2);
  derived_->DeriveTopFiles();
  ASSERT_TRUE(derived_->Commit(2).ok());
  EXPECT_TRUE(Committed("user/theory.json").is_discarded());
  EXPECT_EQ(Committed("users/t.json"), Json::array());
}

TEST_F(DerivedDocumentsTest, StartingOverIgnoresAndThenEmptiesWhatWasCommitted) {
  DeriveAll(Docs({"README", "doc/pair"}));
  derived_->StartOver();
  EXPECT_TRUE(derived_->Read("dist/pair/0.1.0/META.json").is_discarded());
  derived_->PutRelease(kDir, Json::parse(Meta()), Docs({"README"}));
  ASSERT_TRUE(derived_->Commit(0).ok());
  EXPECT_TRUE(store_->GetDerived("dist/pair/0.1.0/README.html").ok());
  EXPECT_TRUE(absl::IsNotFound(store_->GetDerived("dist/pair.json").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->GetDerived("users/t.json").status()));
  EXPECT_EQ(store_->DerivedSeq(), 0u);
}

}  // namespace
}  // namespace pgxn::indexer
