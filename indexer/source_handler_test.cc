#include "indexer/source_handler.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "feed/test_events.h"
#include "gateway/router.h"
#include "gtest/gtest.h"
#include "indexer/derived/api_tree.h"
#include "indexer/docs/source_index.h"
#include "replica/store.h"

namespace pgxn::indexer {
namespace {

namespace v1 = ::pgxn::feed::v1;
using Json = nlohmann::json;

archive::ArchiveEntry File(std::string path, std::string data) {
  return archive::ArchiveEntry::File(std::move(path), std::move(data), 1700000000);
}

archive::ArchiveEntry Dir(std::string path) {
  return archive::ArchiveEntry::Directory(std::move(path), 1700000000);
}

std::string Zip(const std::vector<archive::ArchiveEntry>& entries) {
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  EXPECT_TRUE(zip.ok()) << zip.status();
  return zip.ok() ? *zip : "";
}

std::string ZipPath(const std::string& dist, const std::string& version) {
  return absl::StrCat("dist/", dist, "/", version, "/", dist, "-", version, ".zip");
}

const char kPairSql[] = "CREATE TYPE pair AS (k text, v text);\n";
const std::string kBinary("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);

// pair 0.1.0 as the origin stores it: every entry under "pair-0.1.0/", some
// directories explicit, "doc/" only implied by its file.
std::string PairZip() {
  return Zip(
      {Dir("pair-0.1.0"), File("pair-0.1.0/META.json", "{\"name\":\"pair\"}"),
       File("pair-0.1.0/README.md", "# pair\n"), Dir("pair-0.1.0/sql"),
       File("pair-0.1.0/sql/pair.sql", kPairSql), Dir("pair-0.1.0/sql/upgrades"),
       File("pair-0.1.0/sql/upgrades/0.0.9-0.1.0.sql", "-- up\n"),
       File("pair-0.1.0/doc/pair.md", "pair \xC3\xA9t\xC3\xA9\n"),
       File("pair-0.1.0/logo.png", kBinary), File("pair-0.1.0/nul.txt", std::string("a\0b", 3)),
       File("pair-0.1.0/latin1.txt", "caf\xE9\n"), File("pair-0.1.0/a<b&c\".txt", "odd name\n")});
}

class SourceHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = replica::Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PinOriginKey(feed::TestChain::Key().public_key).ok());
    handler_ = std::make_unique<SourceHandler>(store_.get());
  }

  void Apply(std::vector<v1::Op> ops, const std::string& version = "0.1.0") {
    absl::StatusOr<bool> applied =
        store_->Apply(chain_.Next(std::move(ops), "release", "pair", version));
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  void PutZip(const std::string& dist, const std::string& version, const std::string& zip) {
    Apply({feed::PutOp(ZipPath(dist, version), zip, "application/zip")}, version);
  }

  // Stores the source index of `zip` for the release, as the indexer does
  // when it indexes it; `change` may alter it first.
  void StoreIndex(const std::string& dist, const std::string& version, const std::string& zip,
                  const std::function<void(SourceIndex&)>& change = nullptr) {
    absl::StatusOr<archive::ReadArchiveResult> read =
        archive::ReadArchive(zip, "t.zip", archive::ArchiveLimits());
    ASSERT_TRUE(read.ok()) << read.status();
    SourceIndex index = BuildSourceIndex(zip, read->entries);
    if (change) change(index);
    ASSERT_TRUE(store_
                    ->WriteDerived({{SourceIndexKey(absl::StrCat("dist/", dist, "/", version, "/")),
                                     EncodeDerived(EncodeSourceIndex(index), 1700000000000000)}},
                                   store_->Tip().seq, false)
                    .ok());
  }

  gateway::Response Get(const std::string& path, const std::string& accept = "",
                        const std::string& method = "GET") {
    gateway::Request request;
    request.method = method;
    request.path = path;
    request.target = path;
    if (!accept.empty()) request.headers.emplace_back("accept", accept);
    return handler_->Handle(request);
  }

  base::TempDir dir_;
  std::unique_ptr<replica::Store> store_;
  feed::TestChain chain_;
  std::unique_ptr<SourceHandler> handler_;
};

TEST_F(SourceHandlerTest, ServesFilesWithTypeByContent) {
  PutZip("pair", "0.1.0", PairZip());
  const struct {
    std::string path;
    std::string body;
    std::string type;
  } kCases[] = {
      {"/src/pair/pair-0.1.0/sql/pair.sql", kPairSql, "text/plain; charset=utf-8"},
      {"/src/pair/pair-0.1.0/META.json", "{\"name\":\"pair\"}", "text/plain; charset=utf-8"},
      {"/src/pair/pair-0.1.0/sql/upgrades/0.0.9-0.1.0.sql", "-- up\n", "text/plain; charset=utf-8"},
      {"/src/pair/pair-0.1.0/doc/pair.md", "pair \xC3\xA9t\xC3\xA9\n", "text/plain; charset=utf-8"},
      {"/src/pair/pair-0.1.0/a<b&c\".txt", "odd name\n", "text/plain; charset=utf-8"},
      {"/src/pair/pair-0.1.0/logo.png", kBinary, "image/png"},
      {"/src/pair/pair-0.1.0/nul.txt", std::string("a\0b", 3), "application/octet-stream"},
      {"/src/pair/pair-0.1.0/latin1.txt", "caf\xE9\n", "application/octet-stream"},
  };
  for (const auto& c : kCases) {
    for (const std::string method : {"GET", "HEAD"}) {
      gateway::Response response = Get(c.path, "", method);
      EXPECT_EQ(response.status, 200) << method << " " << c.path << ": " << response.body;
      EXPECT_EQ(response.body, c.body) << method << " " << c.path;
      EXPECT_EQ(response.Header("Content-Type"), c.type) << method << " " << c.path;
      EXPECT_EQ(response.Header("ETag"), absl::StrCat("\"", base::Sha256Hex(c.body), "\""))
          << method << " " << c.path;
      EXPECT_FALSE(response.Header("Last-Modified").empty()) << method << " " << c.path;
    }
  }
}

// `git archive` keeps links; ReadArchive lets through those inside the
// release, and /src/ shows them as links and serves them as what they name.
TEST_F(SourceHandlerTest, LinksAreShownAsLinksAndServedAsTheirTargets) {
  PutZip("pair", "0.1.0",
         Zip({Dir("pair-0.1.0"), Dir("pair-0.1.0/doc"), File("pair-0.1.0/doc/pair.md", "# pair\n"),
              archive::ArchiveEntry::Symlink("pair-0.1.0/README.md", "doc/pair.md", 1700000000),
              archive::ArchiveEntry::Symlink("pair-0.1.0/docs", "./doc", 1700000000)}));
  gateway::Response readme = Get("/src/pair/pair-0.1.0/README.md");
  EXPECT_EQ(readme.status, 200);
  EXPECT_EQ(readme.body, "# pair\n");
  EXPECT_EQ(readme.Header("Content-Type"), "text/plain; charset=utf-8");

  const struct {
    const char* path;
    const char* location;
  } kRedirects[] = {
      {"/src/pair/pair-0.1.0/docs", "/src/pair/pair-0.1.0/doc/"},
      {"/src/pair/pair-0.1.0/docs/", "/src/pair/pair-0.1.0/doc/"},
      {"/src/pair/pair-0.1.0/docs/pair.md", "/src/pair/pair-0.1.0/doc/pair.md"},
  };
  for (const auto& c : kRedirects) {
    gateway::Response response = Get(c.path);
    EXPECT_EQ(response.status, 301) << c.path;
    EXPECT_EQ(response.Header("Location"), c.location) << c.path;
  }
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/docs/missing.md").status, 301);  // then a 404 there

  gateway::Response html = Get("/src/pair/pair-0.1.0/");
  ASSERT_EQ(html.status, 200);
  EXPECT_TRUE(absl::StrContains(html.body,
                                "<li><a href=\"README.md\">README.md</a> &rarr; <a "
                                "href=\"/src/pair/pair-0.1.0/doc/pair.md\">doc/pair.md</a></li>"))
      << html.body;
  EXPECT_TRUE(absl::StrContains(html.body,
                                "<li><a href=\"docs\">docs</a> &rarr; <a "
                                "href=\"/src/pair/pair-0.1.0/doc/\">./doc</a></li>"))
      << html.body;
  gateway::Response json = Get("/src/pair/pair-0.1.0/", "application/json");
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(Json::parse(json.body), Json::parse(R"([
    {"name": "README.md", "type": "link", "size": 7, "target": "doc/pair.md",
     "resolved": "doc/pair.md", "resolved_type": "file"},
    {"name": "doc", "type": "directory", "size": 0},
    {"name": "docs", "type": "link", "size": 0, "target": "./doc", "resolved": "doc",
     "resolved_type": "directory"}])"));
}

TEST_F(SourceHandlerTest, ImagesAreServedAsImagesAndSvgSandboxed) {
  const std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>x()</script></svg>";
  PutZip("pair", "0.1.0",
         Zip({Dir("pair-0.1.0"), File("pair-0.1.0/img/a.GIF", std::string("GIF89a\0\x01", 8)),
              File("pair-0.1.0/img/b.jpeg", std::string("\xFF\xD8\xFF\xE0\0", 5)),
              File("pair-0.1.0/img/c.svg", svg),
              File("pair-0.1.0/page.html", "<script>x()</script>")}));
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/img/a.GIF").Header("Content-Type"), "image/gif");
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/img/b.jpeg").Header("Content-Type"), "image/jpeg");
  gateway::Response image = Get("/src/pair/pair-0.1.0/img/c.svg");
  EXPECT_EQ(image.Header("Content-Type"), "image/svg+xml");
  EXPECT_TRUE(absl::StrContains(image.Header("Content-Security-Policy"), "sandbox"));
  EXPECT_EQ(image.Header("X-Content-Type-Options"), "nosniff");
  // An author's HTML is text here, never a page of this origin's.
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/page.html").Header("Content-Type"),
            "text/plain; charset=utf-8");
}

TEST_F(SourceHandlerTest, ListsDirectoriesAsHtml) {
  PutZip("pair", "0.1.0", PairZip());
  gateway::Response top = Get("/src/pair/pair-0.1.0/");
  ASSERT_EQ(top.status, 200) << top.body;
  EXPECT_EQ(top.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(top.Header("Vary"), "Accept");
  EXPECT_EQ(top.Header("ETag"), absl::StrCat("\"", base::Sha256Hex(top.body), "\""));
  EXPECT_TRUE(absl::StrContains(top.body, "<title>Index of /src/pair/pair-0.1.0/</title>"))
      << top.body;
  EXPECT_FALSE(absl::StrContains(top.body, "href=\"../\"")) << top.body;
  EXPECT_TRUE(absl::StrContains(top.body,
                                "<ul>\n"
                                "<li><a href=\"META.json\">META.json</a></li>\n"
                                "<li><a href=\"README.md\">README.md</a></li>\n"
                                "<li><a href=\"a%3Cb%26c%22.txt\">a&lt;b&amp;c&quot;.txt</a></li>\n"
                                "<li><a href=\"doc/\">doc/</a></li>\n"
                                "<li><a href=\"latin1.txt\">latin1.txt</a></li>\n"
                                "<li><a href=\"logo.png\">logo.png</a></li>\n"
                                "<li><a href=\"nul.txt\">nul.txt</a></li>\n"
                                "<li><a href=\"sql/\">sql/</a></li>\n"
                                "</ul>\n"))
      << top.body;

  gateway::Response sql = Get("/src/pair/pair-0.1.0/sql/");
  ASSERT_EQ(sql.status, 200) << sql.body;
  EXPECT_TRUE(absl::StrContains(sql.body,
                                "<ul>\n"
                                "<li><a href=\"../\">../</a></li>\n"
                                "<li><a href=\"pair.sql\">pair.sql</a></li>\n"
                                "<li><a href=\"upgrades/\">upgrades/</a></li>\n"
                                "</ul>\n"))
      << sql.body;

  // A directory the zip only implies by a file in it.
  gateway::Response doc = Get("/src/pair/pair-0.1.0/doc/");
  ASSERT_EQ(doc.status, 200) << doc.body;
  EXPECT_TRUE(absl::StrContains(doc.body, "<li><a href=\"pair.md\">pair.md</a></li>")) << doc.body;
}

TEST_F(SourceHandlerTest, ListsDirectoriesAsJsonWhenPreferred) {
  PutZip("pair", "0.1.0", PairZip());
  const Json want = Json::parse(R"([
      {"name": "pair.sql", "type": "file", "size": 38},
      {"name": "upgrades", "type": "directory", "size": 0}])");
  ASSERT_EQ(want[0]["size"], std::string(kPairSql).size());
  for (const std::string accept :
       {"application/json", "application/*", "application/json, */*;q=0.8",
        "text/html;q=0.5, application/json", "*/*, application/json"}) {
    gateway::Response response = Get("/src/pair/pair-0.1.0/sql/", accept);
    ASSERT_EQ(response.status, 200) << accept;
    EXPECT_EQ(response.Header("Content-Type"), "application/json") << accept;
    EXPECT_EQ(Json::parse(response.body, nullptr, false), want) << accept << ": " << response.body;
  }
  for (const std::string accept :
       {"", "*/*", "text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/json, text/html", "application/json;q=0, */*", "image/png"}) {
    gateway::Response response = Get("/src/pair/pair-0.1.0/sql/", accept);
    ASSERT_EQ(response.status, 200) << accept;
    EXPECT_EQ(response.Header("Content-Type"), "text/html; charset=utf-8") << accept;
  }
}

TEST_F(SourceHandlerTest, RedirectsDirectoriesWithoutTheSlash) {
  PutZip("pair", "0.1.0", PairZip());
  const struct {
    std::string path;
    std::string location;
  } kCases[] = {
      {"/src/pair/pair-0.1.0", "/src/pair/pair-0.1.0/"},
      {"/src/pair/pair-0.1.0/sql", "/src/pair/pair-0.1.0/sql/"},
      {"/src/pair/pair-0.1.0/sql/upgrades", "/src/pair/pair-0.1.0/sql/upgrades/"},
  };
  for (const auto& c : kCases) {
    gateway::Response response = Get(c.path);
    EXPECT_EQ(response.status, 301) << c.path;
    EXPECT_EQ(response.Header("Location"), c.location) << c.path;
  }
}

TEST_F(SourceHandlerTest, UnknownOrMalformedPathsAreNotFound) {
  PutZip("pair", "0.1.0", PairZip());
  for (const std::string path : {
           "/src/",
           "/src/pair",
           "/src/pair/",
           "/src/nope/nope-0.1.0/",               // unknown dist
           "/src/pair/pair-9.9.9/",               // unknown version
           "/src/pair/pair-9.9.9",                // unknown version, no slash
           "/src/pair/pair-0.1.0/missing.txt",    // unknown path
           "/src/pair/pair-0.1.0/sql/missing/",   // unknown directory
           "/src/pair/other-0.1.0/",              // segment not {dist}-{version}
           "/src/pair/pair0.1.0/",                // no hyphen
           "/src/pair/pair-/",                    // no version
           "/src/pair/PAIR-0.1.0/",               // tree paths are lower case
           "/src/PAIR/PAIR-0.1.0/",               // tree paths are lower case
           "/src/pair/pair-0.1.0/sql/pair.sql/",  // a file is no directory
           "/src/pair/pair-0.1.0//",              // empty segment
           "/src/pair/pair-0.1.0/sql//pair.sql",  // empty segment
           "/src/pair/pair-0.1.0/./META.json",    // dot segment
           "/src/pair/pair-0.1.0/sql/../META.json",
           "/src/pair/pair-../",
           "/src//-0.1.0/",
           "/src/pair/pair-0.1.0.zip",
       }) {
    gateway::Response response = Get(path);
    EXPECT_EQ(response.status, 404) << path << ": " << response.body;
    EXPECT_EQ(response.Header("Content-Type"), "text/plain; charset=utf-8") << path;
    EXPECT_EQ(response.body, absl::StrCat("Not found: ", path, "\n")) << path;
  }
}

TEST_F(SourceHandlerTest, AnswersIfNoneMatchWithNotModified) {
  PutZip("pair", "0.1.0", PairZip());
  for (const std::string path : {"/src/pair/pair-0.1.0/sql/pair.sql", "/src/pair/pair-0.1.0/"}) {
    gateway::Response first = Get(path);
    ASSERT_EQ(first.status, 200) << path;
    const std::string etag(first.Header("ETag"));
    ASSERT_FALSE(etag.empty()) << path;

    gateway::Request request;
    request.method = "GET";
    request.path = path;
    request.headers = {{"if-none-match", etag}};
    gateway::Response again = handler_->Handle(request);
    EXPECT_EQ(again.status, 304) << path;
    EXPECT_EQ(again.body, "") << path;
    EXPECT_EQ(again.Header("ETag"), etag) << path;

    request.headers = {{"if-none-match", "\"something else\""}};
    EXPECT_EQ(handler_->Handle(request).status, 200) << path;
  }
  // The JSON listing is another representation with another tag.
  EXPECT_NE(Get("/src/pair/pair-0.1.0/").Header("ETag"),
            Get("/src/pair/pair-0.1.0/", "application/json").Header("ETag"));
}

TEST_F(SourceHandlerTest, RefusesOtherMethods) {
  PutZip("pair", "0.1.0", PairZip());
  gateway::Response response = Get("/src/pair/pair-0.1.0/META.json", "", "POST");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Header("Allow"), "GET, HEAD");
}

TEST_F(SourceHandlerTest, NeverServesAReplacedOrRemovedZipFromTheCache) {
  PutZip("pair", "0.1.0", Zip({File("pair-0.1.0/old.txt", "old\n")}));
  gateway::Response before = Get("/src/pair/pair-0.1.0/", "application/json");
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(Json::parse(before.body)[0]["name"], "old.txt") << before.body;
  ASSERT_EQ(Get("/src/pair/pair-0.1.0/old.txt").status, 200);

  // The same path, another zip.
  PutZip("pair", "0.1.0", Zip({File("pair-0.1.0/new.txt", "new\n")}));
  gateway::Response after = Get("/src/pair/pair-0.1.0/", "application/json");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(Json::parse(after.body), Json::parse(R"([{"name":"new.txt","type":"file","size":4}])"))
      << after.body;
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/old.txt").status, 404);
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/new.txt").body, "new\n");

  Apply({feed::DeleteOp(ZipPath("pair", "0.1.0"))});
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/").status, 404);
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/new.txt").status, 404);
}

TEST_F(SourceHandlerTest, UnpacksEachZipOnceWhileCached) {
  PutZip("pair", "0.1.0", PairZip());
  ASSERT_EQ(Get("/src/pair/pair-0.1.0/").status, 200);
  ASSERT_EQ(Get("/src/pair/pair-0.1.0/sql/pair.sql").status, 200);
  ASSERT_EQ(Get("/src/pair/pair-0.1.0/sql").status, 301);
  const SourceCacheStats stats = handler_->cache_stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.archives, 1u);
  EXPECT_GT(stats.bytes, 0u);
}

TEST_F(SourceHandlerTest, CacheKeepsTheMostRecentlyUsedWithinItsBounds) {
  SourceOptions options;
  options.cache_archives = 2;
  handler_ = std::make_unique<SourceHandler>(store_.get(), options);
  for (const std::string version : {"0.1.0", "0.2.0", "0.3.0"}) {
    PutZip("pair", version, Zip({File(absl::StrCat("pair-", version, "/v"), version)}));
  }
  auto get = [&](const std::string& version) {
    EXPECT_EQ(Get(absl::StrCat("/src/pair/pair-", version, "/v")).body, version);
  };
  get("0.1.0");  // miss
  get("0.2.0");  // miss
  get("0.1.0");  // hit, now the most recent
  get("0.3.0");  // miss, evicts 0.2.0
  get("0.1.0");  // hit
  get("0.2.0");  // miss
  SourceCacheStats stats = handler_->cache_stats();
  EXPECT_EQ(stats.misses, 4u);
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.archives, 2u);

  // An archive larger than the byte bound is served but never kept.
  options.cache_bytes = 1;
  handler_ = std::make_unique<SourceHandler>(store_.get(), options);
  get("0.1.0");
  get("0.1.0");
  stats = handler_->cache_stats();
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.archives, 0u);
  EXPECT_EQ(stats.bytes, 0u);
}

TEST_F(SourceHandlerTest, ServesAZipWithoutATopDirectoryFromItsRoot) {
  PutZip("pair", "0.1.0", Zip({File("META.json", "{}"), File("sql/pair.sql", kPairSql)}));
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/sql/pair.sql").body, kPairSql);
  EXPECT_EQ(Json::parse(Get("/src/pair/pair-0.1.0/", "application/json").body),
            Json::parse(R"([{"name":"META.json","type":"file","size":2},
                            {"name":"sql","type":"directory","size":0}])"));
}

TEST_F(SourceHandlerTest, AStoredFileThatIsNoZipIsAServerError) {
  PutZip("pair", "0.1.0", "not a zip");
  gateway::Response response = Get("/src/pair/pair-0.1.0/");
  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(absl::StrContains(response.body, "dist/pair/0.1.0/pair-0.1.0.zip")) << response.body;
}

TEST_F(SourceHandlerTest, RoutesGetAndHeadUnderSrc) {
  PutZip("pair", "0.1.0", PairZip());
  gateway::Router router;
  AddSourceRoutes(&router, store_.get());
  for (const std::string method : {"GET", "HEAD"}) {
    gateway::Request request;
    request.method = method;
    request.path = "/src/pair/pair-0.1.0/sql/pair.sql";
    gateway::Response response = router.Dispatch(request);
    EXPECT_EQ(response.status, 200) << method;
    EXPECT_EQ(response.body, kPairSql) << method;
  }
  gateway::Request other;
  other.method = "GET";
  other.path = "/srcx";
  EXPECT_EQ(router.Dispatch(other).status, 404);
}

TEST_F(SourceHandlerTest, ServesManyThreadsAtOnce) {
  SourceOptions options;
  options.cache_archives = 1;  // so the threads also evict and refill
  handler_ = std::make_unique<SourceHandler>(store_.get(), options);
  for (const std::string version : {"0.1.0", "0.2.0"}) {
    const std::string zip = Zip({File(absl::StrCat("pair-", version, "/v"), version)});
    PutZip("pair", version, zip);
    // As the indexer leaves them: unpacking one without an index is heavy,
    // and eight threads at once would be refused at the limit.
    StoreIndex("pair", version, zip);
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string version = (i + t) % 2 == 0 ? "0.1.0" : "0.2.0";
        if (Get(absl::StrCat("/src/pair/pair-", version, "/v")).body != version) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST_F(SourceHandlerTest, ServesFromTheStoredIndexWithoutUnpacking) {
  PutZip("pair", "0.1.0", PairZip());
  StoreIndex("pair", "0.1.0", PairZip());
  const struct {
    std::string path, accept;
    int status;
    std::string body, type;
  } kCases[] = {
      {"/src/pair/pair-0.1.0/sql/pair.sql", "", 200, kPairSql, "text/plain; charset=utf-8"},
      {"/src/pair/pair-0.1.0/logo.png", "", 200, kBinary, "image/png"},
      {"/src/pair/pair-0.1.0/nul.txt", "", 200, std::string("a\0b", 3), "application/octet-stream"},
      {"/src/pair/pair-0.1.0/sql/", "application/json", 200,
       R"([{"name":"pair.sql","type":"file","size":38},{"name":"upgrades","type":"directory","size":0}])"
       "\n",
       "application/json"},
      {"/src/pair/pair-0.1.0/sql", "", 301, "", ""},
      {"/src/pair/pair-0.1.0/nothing", "", 404, "", ""},
  };
  for (const auto& c : kCases) {
    gateway::Response response = Get(c.path, c.accept);
    EXPECT_EQ(response.status, c.status) << c.path << ": " << response.body;
    if (c.status != 200) continue;
    EXPECT_EQ(response.body, c.body) << c.path;
    EXPECT_EQ(response.Header("Content-Type"), c.type) << c.path;
  }
  const SourceCacheStats stats = handler_->cache_stats();
  EXPECT_EQ(stats.unpacked, 0u);
  EXPECT_EQ(stats.misses, 1u);
}

TEST_F(SourceHandlerTest, AStoredIndexOfAnotherZipIsNotUsed) {
  const std::string old_zip = Zip({File("pair-0.1.0/old.txt", "old\n")});
  PutZip("pair", "0.1.0", Zip({File("pair-0.1.0/new.txt", "new\n")}));
  StoreIndex("pair", "0.1.0", old_zip);
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/new.txt").body, "new\n");
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/old.txt").status, 404);
  EXPECT_EQ(handler_->cache_stats().unpacked, 1u);
}

TEST_F(SourceHandlerTest, AnEntryThatDoesNotMatchItsIndexIsAServerError) {
  PutZip("pair", "0.1.0", PairZip());
  StoreIndex("pair", "0.1.0", PairZip(), [](SourceIndex& index) {
    for (SourceEntry& e : index.entries) e.location.crc32 ^= 1;
  });
  gateway::Response response = Get("/src/pair/pair-0.1.0/sql/pair.sql");
  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(absl::StrContains(response.body, "pair-0.1.0/sql/pair.sql")) << response.body;
}

TEST_F(SourceHandlerTest, HeavyReadsBeyondTheLimitAreRefusedAtOnce) {
  SourceOptions options;
  options.heavy_bytes = 0;  // every read is heavy
  options.max_heavy = 0;    // and none may run
  handler_ = std::make_unique<SourceHandler>(store_.get(), options);
  PutZip("pair", "0.1.0", PairZip());

  // Without a stored index, unpacking the zip is refused.
  gateway::Response unindexed = Get("/src/pair/pair-0.1.0/");
  EXPECT_EQ(unindexed.status, 503) << unindexed.body;
  EXPECT_EQ(unindexed.Header("Retry-After"), "1");

  // With one, listings read no zip and are served; files are refused.
  StoreIndex("pair", "0.1.0", PairZip());
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/").status, 200);
  gateway::Response file = Get("/src/pair/pair-0.1.0/sql/pair.sql");
  EXPECT_EQ(file.status, 503) << file.body;
  EXPECT_EQ(file.Header("Retry-After"), "1");

  // A revalidation needs no bytes: 304.
  gateway::Request revalidate;
  revalidate.method = "GET";
  revalidate.path = "/src/pair/pair-0.1.0/sql/pair.sql";
  revalidate.headers.emplace_back("if-none-match",
                                  absl::StrCat("W/\"x\", \"", base::Sha256Hex(kPairSql), "\""));
  gateway::Response not_modified = handler_->Handle(revalidate);
  EXPECT_EQ(not_modified.status, 304) << not_modified.body;
  EXPECT_EQ(not_modified.Header("ETag"), absl::StrCat("\"", base::Sha256Hex(kPairSql), "\""));

  EXPECT_EQ(handler_->cache_stats().refused, 2u);

  // Below the threshold a file is no heavy read; unpacking a zip without an
  // index is, however small the zip (it may inflate to the limits).
  options.heavy_bytes = uint64_t{1} << 20;
  handler_ = std::make_unique<SourceHandler>(store_.get(), options);
  EXPECT_EQ(Get("/src/pair/pair-0.1.0/sql/pair.sql").body, kPairSql);
  PutZip("pair", "0.2.0", Zip({File("pair-0.2.0/v", "0.2.0")}));
  EXPECT_EQ(Get("/src/pair/pair-0.2.0/v").status, 503);
}

TEST_F(SourceHandlerTest, FileInfoDescribesAFileFromItsIndex) {
  PutZip("pair", "0.1.0", PairZip());
  // No stored index: FileInfo does not unpack.
  EXPECT_FALSE(handler_->FileInfo("/src/pair/pair-0.1.0/logo.png").has_value());
  EXPECT_EQ(handler_->cache_stats().unpacked, 0u);

  StoreIndex("pair", "0.1.0", PairZip());
  std::optional<SourceFileInfo> logo = handler_->FileInfo("/src/pair/pair-0.1.0/logo.png");
  ASSERT_TRUE(logo.has_value());
  EXPECT_EQ(logo->size, kBinary.size());
  EXPECT_EQ(logo->media_type, "image/png");
  std::optional<SourceFileInfo> sql = handler_->FileInfo("/src/pair/pair-0.1.0/sql/pair.sql");
  ASSERT_TRUE(sql.has_value());
  EXPECT_EQ(sql->size, std::string(kPairSql).size());
  EXPECT_EQ(sql->media_type, "text/plain; charset=utf-8");
  for (const std::string path :
       {"/src/pair/pair-0.1.0/sql", "/src/pair/pair-0.1.0/sql/", "/src/pair/pair-0.1.0/",
        "/src/pair/pair-0.1.0/none", "/src/pair/pair-0.2.0/logo.png"}) {
    EXPECT_FALSE(handler_->FileInfo(path).has_value()) << path;
  }
}

}  // namespace
}  // namespace pgxn::indexer
