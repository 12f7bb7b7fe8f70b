#include "indexer/indexer.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "feed/test_events.h"
#include "gtest/gtest.h"
#include "indexer/derived/api_tree.h"
#include "indexer/docs/source_index.h"
#include "indexer/source_handler.h"

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
    auto store = replica::Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PinOriginKey(feed::TestChain::Key().public_key).ok());
    auto indexer = Indexer::Open(store_.get(), dir_.path() + "/index");
    ASSERT_TRUE(indexer.ok()) << indexer.status();
    indexer_ = *std::move(indexer);
  }

  void Apply(std::vector<v1::Op> ops, const std::string& kind, const std::string& version) {
    v1::Event event = chain_.Next(std::move(ops), kind, "pair", version);
    auto applied = store_->Apply(event);
    ASSERT_TRUE(applied.ok()) << applied.status();
    indexer_->OnApplied(event, /*caught_up=*/true);
    indexer_->WaitIdle();
    ASSERT_EQ(indexer_->index().AppliedSeq(), event.seq());
  }

  // The first hit's `key` for `q` in `in`, or "" without hits.
  std::string First(SearchIn in, const std::string& q, const std::string& key) {
    auto result = indexer_->index().Search(in, q, 0, 10);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok() || (*result)["hits"].empty()) return "";
    return (*result)["hits"][0].value(key, "");
  }

  base::TempDir dir_;
  std::unique_ptr<replica::Store> store_;
  std::unique_ptr<Indexer> indexer_;
  feed::TestChain chain_;
};

TEST_F(IndexerTest, ReleasesWhoseMetaDoesNotParseDoNotStallTheIndexing) {
  // More unreadable releases than a renderer runs ahead of the indexing
  // thread (ReleaseRenderer::kMaxWaiting): each of its renderings must still be
  // taken in order, or indexing would wait forever for room it never gets.
  std::vector<v1::Op> ops;
  for (int i = 0; i < 300; ++i) {
    const std::string name = absl::StrCat("bad", i);
    ops.push_back(feed::PutOp(absl::StrCat("dist/", name, "/1.0.0/META.json"), "{not json"));
    ops.push_back(feed::PutOp(
        absl::StrCat("dist/", name, ".json"),
        Json{{"name", name},
             {"releases", {{"stable", {{{"version", "1.0.0"}, {"date", "2020-01-01T00:00:00Z"}}}}}}}
            .dump()));
  }
  ops.push_back(
      feed::PutOp("dist/pair/1.0.0/META.json", Meta("1.0.0", "2020-01-01T00:00:00Z", "first")));
  ops.push_back(feed::PutOp("dist/pair.json", DistJson({{"1.0.0", "2020-01-01T00:00:00Z"}})));
  Apply(std::move(ops), "release", "1.0.0");  // a commit renders the 301 newest ahead
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "1.0.0");
  EXPECT_EQ(First(SearchIn::kDists, "bad7", "version"), "");

  indexer_->OnReset();  // a rebuild renders every release ahead
  EXPECT_EQ(indexer_->index().AppliedSeq(), 1u);
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "1.0.0");
}

TEST_F(IndexerTest, RemovingTheLatestReleaseReindexesTheOneBefore) {
  Apply({feed::PutOp("dist/pair/1.0.0/META.json", Meta("1.0.0", "2020-01-01T00:00:00Z", "first")),
         feed::PutOp("dist/pair/1.0.0/README.txt", "alpha readme", "text/plain; charset=utf-8"),
         feed::PutOp("dist/pair.json", DistJson({{"1.0.0", "2020-01-01T00:00:00Z"}})),
         feed::PutOp("extension/pair.json", ExtensionJson("1.0.0"))},
        "release", "1.0.0");
  Apply({feed::PutOp("dist/pair/1.1.0/META.json", Meta("1.1.0", "2020-02-01T00:00:00Z", "second")),
         feed::PutOp("dist/pair/1.1.0/README.txt", "beta readme", "text/plain; charset=utf-8"),
         feed::PutOp("dist/pair.json", DistJson({{"1.1.0", "2020-02-01T00:00:00Z"},
                                                 {"1.0.0", "2020-01-01T00:00:00Z"}})),
         feed::PutOp("extension/pair.json", ExtensionJson("1.1.0"))},
        "release", "1.1.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "1.1.0");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "version"), "1.1.0");
  EXPECT_EQ(First(SearchIn::kDocs, "beta", "version"), "1.1.0");

  // What the origin publishes when an admin removes 1.1.0: its files go, the
  // dist and extension files are rewritten.
  Apply({feed::DeleteOp("dist/pair/1.1.0/pair-1.1.0.zip"),
         feed::DeleteOp("dist/pair/1.1.0/META.json"), feed::DeleteOp("dist/pair/1.1.0/README.txt"),
         feed::PutOp("dist/pair.json", DistJson({{"1.0.0", "2020-01-01T00:00:00Z"}})),
         feed::PutOp("extension/pair.json", ExtensionJson("1.0.0"))},
        "delete", "1.1.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "1.0.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "abstract"), "first");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "version"), "1.0.0");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "abstract"), "first");
  EXPECT_EQ(First(SearchIn::kDocs, "beta", "version"), "");
  EXPECT_EQ(First(SearchIn::kDocs, "alpha", "version"), "1.0.0");

  // Removing the last release removes the dist and extension files, and
  // with them every document.
  Apply({feed::DeleteOp("dist/pair/1.0.0/META.json"), feed::DeleteOp("dist/pair/1.0.0/README.txt"),
         feed::DeleteOp("dist/pair.json"), feed::DeleteOp("extension/pair.json")},
        "delete", "1.0.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "version"), "");
  EXPECT_EQ(First(SearchIn::kDocs, "alpha", "version"), "");
}

TEST_F(IndexerTest, ReleasesOfTheSameSecondAreOrderedByVersion) {
  const std::string date = "2020-01-01T00:00:00Z";
  Apply({feed::PutOp("dist/pair/1.0.0/META.json", Meta("1.0.0", date, "one")),
         feed::PutOp("dist/pair/1.10.0/META.json", Meta("1.10.0", date, "ten")),
         feed::PutOp("dist/pair/1.9.0/META.json", Meta("1.9.0", date, "nine")),
         feed::PutOp("dist/pair/2.0.0/META.json", Meta("2.0.0", date, "two")),
         feed::PutOp(
             "dist/pair.json",
             DistJson({{"1.0.0", date}, {"2.0.0", date}, {"1.10.0", date}, {"1.9.0", date}}))},
        "release", "2.0.0");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "2.0.0");
  Apply({feed::DeleteOp("dist/pair/2.0.0/META.json"),
         feed::PutOp("dist/pair.json",
                     DistJson({{"1.0.0", date}, {"1.10.0", date}, {"1.9.0", date}}))},
        "delete", "2.0.0");
  // Numerically, not as text.
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "1.10.0");
}

namespace api {

std::string Zip(const std::string& version, const std::string& readme,
                const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  std::vector<archive::ArchiveEntry> entries;
  std::vector<std::pair<std::string, std::string>> files = {
      {"README.md", readme},
      {"Changes", "changes\n"},
      {"doc/pair.md", "# pair\n\nThe pair type. See [the README](../README.md).\n"},
      {"sql/pair.sql", "CREATE TYPE pair;\n"}};
  files.insert(files.end(), extra.begin(), extra.end());
  for (const auto& [path, data] : files) {
    archive::ArchiveEntry entry;
    entry.path = absl::StrCat("pair-", version, "/", path);
    entry.data = data;
    entry.mode = 0644;
    entries.push_back(entry);
  }
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  EXPECT_TRUE(zip.ok()) << zip.status();
  return zip.ok() ? *zip : "";
}

std::string MetaWithDocfile(const std::string& version, const std::string& date) {
  Json meta = Json::parse(Meta(version, date, "A key/value pair data type"));
  meta["provides"]["pair"]["docfile"] = "doc/pair.md";
  meta["tags"] = {"Key Value"};
  return meta.dump();
}

std::string UserJson(const std::vector<std::string>& versions) {
  Json list = Json::array();
  for (const std::string& version : versions) list.push_back({{"version", version}, {"date", "d"}});
  return Json{{"nickname", "theory"},
              {"name", "David E. Wheeler"},
              {"releases", {{"pair", {{"stable", list}}}}}}
      .dump();
}

std::vector<v1::Op> ReleaseOps(const std::string& version, const std::string& date,
                               const std::string& readme,
                               const std::vector<std::pair<std::string, std::string>>& dist,
                               const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  const std::string dir = absl::StrCat("dist/pair/", version, "/");
  std::vector<std::string> versions;
  for (const auto& [v, d] : dist) versions.push_back(v);
  return {feed::PutOp(dir + "META.json", MetaWithDocfile(version, date)),
          feed::PutOp(absl::StrCat(dir, "pair-", version, ".zip"), Zip(version, readme, extra),
                      "application/zip"),
          feed::PutOp("dist/pair.json", DistJson(dist)),
          feed::PutOp("extension/pair.json", ExtensionJson(version)),
          feed::PutOp("user/theory.json", UserJson(versions)),
          feed::PutOp("tag/key value.json",
                      Json{{"tag", "Key Value"},
                           {"releases", {{"pair", {{"stable", {{{"version", version}}}}}}}}}
                          .dump())};
}

}  // namespace api

class IndexerApiTest : public IndexerTest {
 protected:
  // The file the indexer serves at `path`, parsed if JSON; "" if absent.
  std::string Serve(const std::string& path) {
    auto file = indexer_->HttpTree()->ReadFile(path);
    if (absl::IsNotFound(file.status())) return "";
    EXPECT_TRUE(file.ok()) << path << ": " << file.status();
    return file.ok() ? file->content : "";
  }
  Json ServeJson(const std::string& path) {
    return Json::parse(Serve(path), nullptr, /*allow_exceptions=*/false);
  }

  void PublishTwo() {
    Apply(api::ReleaseOps("1.0.0", "2020-01-01T00:00:00Z", "# pair 1.0.0\n\nalpha\n",
                          {{"1.0.0", "2020-01-01T00:00:00Z"}}),
          "release", "1.0.0");
    Apply(api::ReleaseOps("1.1.0", "2020-02-01T00:00:00Z", "# pair 1.1.0\n\nbeta\n",
                          {{"1.1.0", "2020-02-01T00:00:00Z"}, {"1.0.0", "2020-01-01T00:00:00Z"}}),
          "release", "1.1.0");
  }

  // Every API path the tests look at, with what the indexer serves there.
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> out;
    for (const char* path :
         {"dist/pair.json", "dist/pair/1.0.0/META.json", "dist/pair/1.1.0/META.json",
          "dist/pair/1.0.0/doc/pair.html", "dist/pair/1.1.0/doc/pair.html",
          "dist/pair/1.1.0/README.html", "extension/pair.json", "user/theory.json", "users/t.json",
          "tag/key value.json"}) {
      out[path] = Serve(path);
    }
    return out;
  }
};

TEST_F(IndexerApiTest, ServesEnrichedJsonAndRenderedDocs) {
  PublishTwo();
  const Json dist = ServeJson("dist/pair.json");
  ASSERT_TRUE(dist.is_object()) << Serve("dist/pair.json");
  EXPECT_EQ(dist["version"], "1.1.0");
  EXPECT_EQ(dist["docs"]["doc/pair"]["title"], "pair");
  EXPECT_EQ(dist["docs"]["README"]["title"], "pair 1.1.0");
  EXPECT_EQ(dist["provides"]["pair"]["docpath"], "doc/pair");
  EXPECT_EQ(dist["special_files"], Json::parse(R"(["Changes", "README.md"])"));
  EXPECT_EQ(dist["releases"]["stable"].size(), 2u);
  // Every release's META shows the dist's current releases.
  const Json old_meta = ServeJson("dist/pair/1.0.0/META.json");
  EXPECT_EQ(old_meta["version"], "1.0.0");
  EXPECT_EQ(old_meta["releases"], dist["releases"]);
  EXPECT_EQ(old_meta["docs"]["README"]["title"], "pair 1.0.0");

  const std::string html = Serve("dist/pair/1.1.0/doc/pair.html");
  EXPECT_NE(html.find("<div id=\"pgxndoc\">"), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"../README.html\""), std::string::npos) << html;
  EXPECT_NE(Serve("dist/pair/1.0.0/README.html").find("alpha"), std::string::npos);

  const Json extension = ServeJson("extension/pair.json");
  EXPECT_EQ(extension["stable"]["abstract"], "A key/value pair data type");
  EXPECT_EQ(extension["stable"]["docpath"], "doc/pair");
  EXPECT_EQ(extension["versions"]["1.1.0"][0]["date"], "2020-02-01T00:00:00Z");
  EXPECT_EQ(ServeJson("user/theory.json")["releases"]["pair"]["abstract"],
            "A key/value pair data type");
  EXPECT_EQ(ServeJson("tag/key value.json")["releases"]["pair"]["abstract"],
            "A key/value pair data type");
  EXPECT_EQ(ServeJson("users/t.json"),
            Json::parse(R"([{"user": "theory", "name": "David E. Wheeler"}])"));
  // Files the indexer does not derive are the tree's.
  EXPECT_EQ(Serve("dist/pair/1.0.0/pair-1.0.0.zip"), api::Zip("1.0.0", "# pair 1.0.0\n\nalpha\n"));

  // The docs are searchable, as of the latest release.
  EXPECT_EQ(First(SearchIn::kDocs, "beta", "docpath"), "README");
  EXPECT_EQ(First(SearchIn::kDocs, "alpha", "docpath"), "");
  EXPECT_EQ(First(SearchIn::kExtensions, "pair", "docpath"), "doc/pair");
}

// A converter that hangs is cut off at its limit: its doc is shown as text,
// and the releases after it are indexed as ever.
TEST_F(IndexerApiTest, AHangingConverterLeavesItsDocAsTextAndIndexingGoesOn) {
  indexer_.reset();
  IndexerOptions options;
  // Long enough for the other converter to answer on a loaded machine.
  options.converters.limits.timeout = absl::Seconds(5);
  options.converters.commands[Markup::kRst] = {"/bin/sh", "-c", "sleep 1000"};
  options.converters.commands[Markup::kAsciiDoc] = {"/bin/sh", "-c", "echo '<h1>Converted</h1>'"};
  auto indexer = Indexer::Open(store_.get(), dir_.path() + "/index", std::move(options));
  ASSERT_TRUE(indexer.ok()) << indexer.status();
  indexer_ = *std::move(indexer);
  Apply(api::ReleaseOps(
            "1.0.0", "2020-01-01T00:00:00Z", "# pair\n", {{"1.0.0", "2020-01-01T00:00:00Z"}},
            {{"doc/guide.rst", "Guide\n=====\n\n<b>text</b>\n"}, {"doc/howto.adoc", "= Howto\n"}}),
        "release", "1.0.0");
  EXPECT_NE(Serve("dist/pair/1.0.0/doc/guide.html").find("<pre>Guide\n=====\n\n&lt;b&gt;"),
            std::string::npos)
      << Serve("dist/pair/1.0.0/doc/guide.html");
  EXPECT_NE(Serve("dist/pair/1.0.0/doc/howto.html").find(">Converted</h1>"), std::string::npos)
      << Serve("dist/pair/1.0.0/doc/howto.html");
  Apply(api::ReleaseOps("1.1.0", "2020-02-01T00:00:00Z", "# pair 1.1.0\n\nbeta\n",
                        {{"1.1.0", "2020-02-01T00:00:00Z"}, {"1.0.0", "2020-01-01T00:00:00Z"}}),
        "release", "1.1.0");
  EXPECT_EQ(First(SearchIn::kDocs, "beta", "docpath"), "README");
  const Json status = Json::parse(indexer_->StatusJson());
  EXPECT_EQ(status["converters"]["failures"], 1) << status.dump();
  EXPECT_EQ(status["converters"]["rst"]["command"], "/bin/sh") << status.dump();
}

TEST_F(IndexerApiTest, RemovedReleaseTakesItsPagesAlong) {
  PublishTwo();
  ASSERT_NE(Serve("dist/pair/1.1.0/doc/pair.html"), "");
  Apply({feed::DeleteOp("dist/pair/1.1.0/pair-1.1.0.zip"),
         feed::DeleteOp("dist/pair/1.1.0/META.json"),
         feed::PutOp("dist/pair.json", DistJson({{"1.0.0", "2020-01-01T00:00:00Z"}})),
         feed::PutOp("extension/pair.json", ExtensionJson("1.0.0")),
         feed::PutOp("user/theory.json", api::UserJson({"1.0.0"}))},
        "delete", "1.1.0");
  EXPECT_EQ(Serve("dist/pair/1.1.0/doc/pair.html"), "");
  EXPECT_EQ(Serve("dist/pair/1.1.0/README.html"), "");
  EXPECT_EQ(Serve("dist/pair/1.1.0/META.json"), "");
  EXPECT_EQ(ServeJson("dist/pair.json")["version"], "1.0.0");
  EXPECT_NE(Serve("dist/pair/1.0.0/doc/pair.html"), "");
  EXPECT_EQ(First(SearchIn::kDocs, "alpha", "version"), "1.0.0");

  Apply({feed::DeleteOp("dist/pair/1.0.0/pair-1.0.0.zip"),
         feed::DeleteOp("dist/pair/1.0.0/META.json"), feed::DeleteOp("dist/pair.json"),
         feed::DeleteOp("extension/pair.json"), feed::DeleteOp("user/theory.json"),
         feed::DeleteOp("tag/key value.json")},
        "delete", "1.0.0");
  for (const auto& [path, content] : Snapshot()) {
    if (path == "users/t.json") {
      EXPECT_EQ(Json::parse(content), Json::array()) << path;
    } else {
      EXPECT_EQ(content, "") << path;
    }
  }
}

// Each release's source index is derived with it (so /src/ unpacks
// nothing), never served, removed with the release, and derived again for a
// store indexed by a version that had none.
TEST_F(IndexerApiTest, KeepsEachReleasesSourceIndex) {
  PublishTwo();
  const std::string key = SourceIndexKey("dist/pair/1.1.0/");
  absl::StatusOr<std::string> stored = store_->GetDerived(key);
  ASSERT_TRUE(stored.ok()) << stored.status();
  absl::StatusOr<SourceIndex> index = DecodeSourceIndex(DerivedContent(*stored));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->zip_sha256, base::Sha256(api::Zip("1.1.0", "# pair 1.1.0\n\nbeta\n")));
  EXPECT_TRUE(absl::c_any_of(index->entries, [](const SourceEntry& e) {
    return e.path == "pair-1.1.0/README.md" && e.location.located;
  }));
  EXPECT_EQ(Serve(key), "") << "a private record is served";

  SourceHandler source(store_.get());
  gateway::Request request;
  request.method = "GET";
  request.path = "/src/pair/pair-1.1.0/README.md";
  EXPECT_EQ(source.Handle(request).body, "# pair 1.1.0\n\nbeta\n");
  EXPECT_EQ(source.cache_stats().unpacked, 0u);

  // An indexer of the previous format left no source indexes: it is
  // rebuilt at start, and they are there again.
  indexer_.reset();
  ASSERT_TRUE(store_
                  ->WriteDerived(
                      {{key, absl::nullopt}, {SourceIndexKey("dist/pair/1.0.0/"), absl::nullopt}},
                      store_->DerivedSeq(), /*clear_first=*/false)
                  .ok());
  ASSERT_TRUE(store_->PutMeta(Indexer::kDerivedFormatKey, "4").ok());
  auto indexer = Indexer::Open(store_.get(), dir_.path() + "/index");
  ASSERT_TRUE(indexer.ok()) << indexer.status();
  indexer_ = *std::move(indexer);
  ASSERT_TRUE(indexer_->CatchUp().ok());
  EXPECT_TRUE(store_->GetDerived(key).ok());
  EXPECT_TRUE(store_->GetDerived(SourceIndexKey("dist/pair/1.0.0/")).ok());

  Apply({feed::DeleteOp("dist/pair/1.1.0/pair-1.1.0.zip"),
         feed::DeleteOp("dist/pair/1.1.0/META.json"),
         feed::PutOp("dist/pair.json", DistJson({{"1.0.0", "2020-01-01T00:00:00Z"}})),
         feed::PutOp("extension/pair.json", ExtensionJson("1.0.0")),
         feed::PutOp("user/theory.json", api::UserJson({"1.0.0"}))},
        "delete", "1.1.0");
  EXPECT_TRUE(absl::IsNotFound(store_->GetDerived(key).status()));
  EXPECT_TRUE(store_->GetDerived(SourceIndexKey("dist/pair/1.0.0/")).ok());
}

TEST_F(IndexerApiTest, RebuildingFromTheTreeGivesTheSameDocuments) {
  PublishTwo();
  const std::map<std::string, std::string> before = Snapshot();
  indexer_->OnReset();
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(First(SearchIn::kDocs, "beta", "version"), "1.1.0");
  EXPECT_EQ(First(SearchIn::kDocs, "alpha", "version"), "");

  // And from the log, with the index and the derived documents gone.
  indexer_.reset();
  ASSERT_TRUE(store_->WriteDerived({}, 0, /*clear_first=*/true).ok());
  std::filesystem::remove_all(dir_.path() + "/index");
  auto indexer = Indexer::Open(store_.get(), dir_.path() + "/index");
  ASSERT_TRUE(indexer.ok()) << indexer.status();
  indexer_ = *std::move(indexer);
  ASSERT_TRUE(indexer_->CatchUp().ok());
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(IndexerApiTest, ANewEpochLeavesNothingOfTheOldOne) {
  PublishTwo();
  ASSERT_EQ(indexer_->index().AppliedSeq(), 2u);
  // What the replica does for --reset-on-new-epoch: the store is cleared and
  // the extension rebuilds, then the new log is applied from seq 1.
  ASSERT_TRUE(store_->Clear().ok());
  indexer_->OnReset();
  EXPECT_EQ(indexer_->index().AppliedSeq(), 0u) << "the index records the new log's seq";
  EXPECT_EQ(indexer_->ServedSeq(), absl::optional<uint64_t>(0));
  for (const auto& [path, content] : Snapshot()) EXPECT_EQ(content, "") << path;
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "");

  feed::TestChain fresh("ffffffffffffffffffffffffffffffff");
  v1::Event event = fresh.Next(api::ReleaseOps("3.0.0", "2021-01-01T00:00:00Z", "# pair 3.0.0\n",
                                               {{"3.0.0", "2021-01-01T00:00:00Z"}}),
                               "release", "pair", "3.0.0");
  ASSERT_TRUE(store_->Apply(event).ok());
  indexer_->OnApplied(event, /*caught_up=*/true);
  indexer_->WaitIdle();
  EXPECT_EQ(indexer_->index().AppliedSeq(), 1u);
  EXPECT_EQ(ServeJson("dist/pair.json")["version"], "3.0.0");
  EXPECT_EQ(ServeJson("users/t.json").size(), 1u);
  EXPECT_EQ(Serve("dist/pair/1.1.0/doc/pair.html"), "");
  EXPECT_EQ(First(SearchIn::kDists, "pair", "version"), "3.0.0");
}

}  // namespace
}  // namespace pgxn::indexer
