// The website an indexer serves (site/site.h), through a real network: an
// origin on embedded Postgres, a mirror following it and an indexer following
// the mirror, all on port 0 in a temp dir, with releases uploaded as
// pgxn-release does: two users, a dist with releases in every status (READMEs
// in Markdown with headings and links, a doc per extension linking to the
// other, tags, special files), a second dist, and one whose README carries
// script in every form a README can.
//
// Then every URL shape of pgxn.org answers as it should, checked with a plain
// HTTP client, and a reader's journey runs in Debian's headless chromium
// (tests/browser/journey.mjs, driven by playwright-core): the forms, the
// links, the download, a release uploaded during the journey showing on
// /recent/, no request leaving the node, no console error, no script from a
// README running, axe-core's accessibility rules, screenshots at 390 and
// 1280 px under the build directory (browser-screenshots/).
//
// The whole binary is one ctest test: the network starts and the releases are
// published once, for every case.
#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"

namespace pgxn::testing {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr char kAlice[] = "alice";
constexpr char kBob[] = "bob";
constexpr char kPassword[] = "a long enough password";
// Debian's chromium (ops/lib/deps.sh installs it).
constexpr char kChromium[] = "/usr/bin/chromium";

// ---------------------------------------------------------------------------
// The releases

struct Release {
  std::string user;
  Json meta;
  std::vector<DistFile> files;
};

std::string PairReadme(const std::string& version) {
  return absl::StrCat("The pair extension ", version, "\n", std::string(23 + version.size(), '='),
                      R"md(

pair stores an ordered pair of values, and keyval a key with its value.

Synopsis
--------

```sql
SELECT pair('key', 'value');
SELECT p.k, p.v FROM (SELECT pair('a long key that a narrow screen cannot show', 'its value') AS p) AS pairs;
```

Documentation
-------------

Read [the pair reference](doc/pair.md) and [the keyval reference](doc/keyval.md),
or PostgreSQL's [documentation on types](https://www.postgresql.org/docs/current/xtypes.html).
The changes are in [Changes](Changes).

Copyright and License
---------------------

Copyright (c) 2024 The pair authors, under [the PostgreSQL License](LICENSE).
)md");
}

// pair: four releases in the three statuses; /dist/pair/ shows the newest
// stable one, 0.2.0.
Release Pair(const std::string& version, const std::string& status) {
  Json meta = MakeMeta("pair", version, "An ordered pair of values");
  meta["release_status"] = status;
  meta["tags"] = {"ordered pair", "key value"};
  meta["provides"]["pair"]["docfile"] = "doc/pair.md";
  meta["provides"]["keyval"] = {{"file", "sql/keyval.sql"},
                                {"docfile", "doc/keyval.md"},
                                {"version", version},
                                {"abstract", "A key with its value"}};
  meta["resources"] = {{"homepage", "https://example.org/pair/"}};
  return Release{kAlice,
                 meta,
                 {
                     {"README.md", PairReadme(version)},
                     {"doc/pair.md", R"md(pair
====

The `pair` type holds an ordered pair of values.

Usage
-----

    SELECT pair('key', 'value');

See Also
--------

For a key and its value, [see the other](keyval.md).
)md"},
                     {"doc/keyval.md", R"md(keyval
======

The `keyval` type holds a key with its value.

Usage
-----

    SELECT keyval('key', 'value');

See Also
--------

[Back to pair](pair.md).
)md"},
                     {"sql/pair.sql", "CREATE TYPE pair AS (k text, v text);\n"},
                     {"sql/keyval.sql", "CREATE TYPE keyval AS (k text, v text);\n"},
                     {"Changes", absl::StrCat("Revision history for pair\n\n", version,
                                              "\n      - Released as ", status, ".\n")},
                     {"LICENSE", "The PostgreSQL License\n"},
                     {"Makefile", "EXTENSION = pair keyval\n"},
                 }};
}

Release Semver() {
  Json meta = MakeMeta("semver", "0.5.0", "A semantic version data type");
  meta["tags"] = {"semver", "key value"};
  meta["provides"]["semver"]["docfile"] = "doc/semver.md";
  return Release{kBob,
                 meta,
                 {{"README.md", "semver\n======\n\nA [Semantic Version](doc/semver.md) type.\n"},
                  {"doc/semver.md", "semver\n======\n\nSemantic versions, compared as such.\n"},
                  {"sql/semver.sql", "CREATE TYPE semver;\n"}}};
}

// Script in every form a README can carry it; each would set window.__pwned
// and open a dialog if it ran.
Release Xss() {
  Json meta = MakeMeta("xsstest", "1.0.0", "A README with script in it");
  meta["tags"] = {"security"};
  return Release{kAlice,
                 meta,
                 {{"README.md", R"md(xsstest
=======

<script>window.__pwned = 1; alert(1)</script>

<img src=x onerror="window.__pwned = 2; alert(2)">

[xss-link](javascript:window.__pwned=3;alert(3))

<a href="javascript:window.__pwned=4;alert(4)">xss-anchor</a>
<p onclick="window.__pwned = 5">xss-paragraph</p>
)md"},
                  {"sql/xsstest.sql", "SELECT 1;\n"}}};
}

// Uploaded by the journey itself, which then waits for /recent/ to list it.
Release Latecomer() {
  return Release{kAlice,
                 MakeMeta("latecomer", "1.0.0", "Released while a reader browses"),
                 {{"README.md", "latecomer\n=========\n\nJust released.\n"},
                  {"sql/latecomer.sql", "SELECT 1;\n"}}};
}

std::vector<Release> Releases() {
  return {Pair("0.1.0", "stable"),
          Pair("0.2.0", "stable"),
          Pair("0.3.0", "testing"),
          Pair("0.4.0", "unstable"),
          Semver(),
          Xss()};
}

std::string ZipOfRelease(const Release& release) {
  return MakeDistZip(release.meta, release.files);
}

std::string ZipName(const Release& release) {
  return absl::StrCat(release.meta["name"].get<std::string>(), "-",
                      release.meta["version"].get<std::string>(), ".zip");
}

// Whether `program` is on PATH.
bool OnPath(const std::string& program) {
  return RunProgram({"sh", "-c", "command -v \"$0\" >/dev/null", program}).exit_code == 0;
}

// ---------------------------------------------------------------------------
// The fixture: origin, mirror and indexer, the releases published once.

class SiteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    const std::string origin_dir = dir_->path() + "/origin";
    for (const char* user : {kAlice, kBob}) {
      if (!AddUser(origin_dir, user, kPassword)) {
        setup_error_ = absl::StrCat("pgxnd user add ", user, " failed");
        return;
      }
    }
    Chain chain = StartChain(dir_->path());
    origin_ = chain.origin.release();
    mirror_ = chain.mirror.release();
    indexer_ = chain.indexer.release();
    if (indexer_ == nullptr) return;
    if (indexer_->site_url().empty()) {
      setup_error_ = "the indexer's ports.json names no site port";
      return;
    }
    for (const Release& release : Releases()) {
      UploadResult upload = UploadZip(origin_->url(), release.user, kPassword,
                                      ZipOfRelease(release), ZipName(release));
      if (upload.status != 200) {
        setup_error_ = absl::StrCat(ZipName(release), ": ", upload.status, " ", upload.body);
        return;
      }
    }
    const uint64_t head = origin_->AppliedSeq();
    for (const Node* node : {mirror_, indexer_}) {
      if (!node->WaitForSeq(head)) {
        setup_error_ = absl::StrCat(node->dir(), " stuck at ", node->AppliedSeq(), " of ", head,
                                    "\n", node->Log());
        return;
      }
    }
  }

  static void TearDownTestSuite() {
    delete indexer_;
    delete mirror_;
    delete origin_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    ASSERT_NE(origin_, nullptr);
    ASSERT_NE(mirror_, nullptr);
    ASSERT_NE(indexer_, nullptr);
  }

  static HttpResult FromSite(const std::string& path, bool head = false) {
    return HttpGet(indexer_->site_url() + path, {}, head);
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static Node* mirror_;
  static Node* indexer_;
  static std::string setup_error_;
};

base::TempDir* SiteTest::dir_ = nullptr;
Node* SiteTest::origin_ = nullptr;
Node* SiteTest::mirror_ = nullptr;
Node* SiteTest::indexer_ = nullptr;
std::string SiteTest::setup_error_;

// ---------------------------------------------------------------------------
// URL shapes, with a plain HTTP client

// A page in the layout: the document, the site's header, main and footer.
void ExpectLayout(const std::string& path, const HttpResult& page) {
  EXPECT_TRUE(absl::StartsWith(page.Header("content-type"), "text/html")) << path;
  EXPECT_TRUE(absl::StartsWith(page.body, "<!DOCTYPE html>")) << path;
  for (const char* part :
       {"<header class=\"site\">", "<main id=\"main\">", "<footer class=\"site\">", "</html>"}) {
    EXPECT_TRUE(absl::StrContains(page.body, part)) << path << " lacks " << part;
  }
}

struct PageCase {
  std::string path;
  std::string contains;  // in the body
};

TEST_F(SiteTest, EveryPageShapeAnswersInTheLayout) {
  const std::vector<PageCase> cases = {
      {"/", "pair 0.4.0"},
      {"/search?q=pair&in=dists", "href=\"/dist/pair/\""},
      {"/search?q=pair&in=dists&o=0&l=1", "href=\"/dist/pair/\""},
      // The index holds the docs of each dist's newest release, whatever its
      // status, as PGXN's does.
      {"/search?q=ordered+pair&in=docs", "/dist/pair/0.4.0/doc/pair.html"},
      {"/search?q=keyval&in=extensions", "href=\"/extension/keyval/\""},
      {"/search?q=alice&in=users", "href=\"/user/alice/\""},
      {"/search?q=key+value&in=tags", "href=\"/tag/key%20value/\""},
      {"/dist/pair/", "<h1>pair <span class=\"version\">0.2.0</span>"},
      {"/dist/pair", "<h1>pair <span class=\"version\">0.2.0</span>"},
      {"/dist/PAIR/", "<h1>pair <span class=\"version\">0.2.0</span>"},
      {"/dist/pair/0.1.0/", "<h1>pair <span class=\"version\">0.1.0</span>"},
      {"/dist/pair/0.1.0", "<h1>pair <span class=\"version\">0.1.0</span>"},
      {"/dist/pair/0.3.0/", "<span class=\"status testing\">testing</span>"},
      {"/dist/pair/0.4.0/", "<span class=\"status unstable\">unstable</span>"},
      {"/dist/pair/0.1.0/doc/pair.html", "<h1>pair</h1>"},
      {"/dist/pair/0.1.0/doc/keyval.html", "<h1>keyval</h1>"},
      {"/dist/pair/0.1.0/README.html", "The pair extension 0.1.0"},
      {"/dist/pair/doc/pair.html", "pair 0.2.0"},
      {"/dist/pair/README.html", "The pair extension 0.2.0"},
      {"/user/alice/", "href=\"/dist/pair/\""},
      {"/user/alice", "href=\"/dist/pair/\""},
      {"/user/bob/", "href=\"/dist/semver/\""},
      {"/users/?c=a", "href=\"/user/alice/\""},
      {"/users?c=b", "href=\"/user/bob/\""},
      {"/users/", "<h1>Users</h1>"},
      {"/tags/", "href=\"/tag/ordered%20pair/\""},
      {"/tags", "href=\"/tag/key%20value/\""},
      {"/tag/ordered%20pair/", "href=\"/dist/pair/\""},
      {"/tag/key%20value", "href=\"/dist/semver/\""},
      {"/recent/", "href=\"/dist/xsstest/1.0.0/\""},
      {"/recent", "href=\"/dist/pair/0.4.0/\""},
      {"/src/pair/pair-0.2.0/", "META.json"},
      {"/src/pair/pair-0.2.0/doc/", "keyval.md"},
      {"/src/pair/pair-0.2.0/Changes", "Revision history for pair"},
      {"/src/pair/pair-0.2.0/doc/pair.md", "see the other"},
      {"/about/", "<h1"},
      {"/about", "<h1"},
      {"/faq/", "<h1"},
      {"/mirroring/", "<h1"},
      {"/feeds/", "recent.atom"},
      {"/spec/", "<h1"},
      {"/spec", "<h1"},
  };
  for (const PageCase& c : cases) {
    HttpResult page = FromSite(c.path);
    // "Or its redirect": a page may send a reader to its canonical address.
    if (page.status == 301 || page.status == 308) {
      const std::string location = page.Header("location");
      EXPECT_TRUE(absl::StartsWith(location, "/")) << c.path << " → " << location;
      page = FromSite(location);
    }
    ASSERT_EQ(page.status, 200) << c.path << ": " << page.error << page.body.substr(0, 300);
    ExpectLayout(c.path, page);
    EXPECT_TRUE(absl::StrContains(page.body, c.contains))
        << c.path << " lacks " << c.contains << ":\n"
        << page.body;
    // The head answers as the page does, without a body.
    HttpResult head = FromSite(c.path, /*head=*/true);
    EXPECT_EQ(head.status, FromSite(c.path).status) << "HEAD " << c.path;
    EXPECT_TRUE(head.body.empty()) << "HEAD " << c.path;
  }
}

struct RedirectCase {
  std::string path;
  long status;
  std::string location;
};

TEST_F(SiteTest, ExtensionsAndOldAddressesRedirect) {
  const std::vector<RedirectCase> cases = {
      // To the doc in the extension's newest release ("latest"), as PGXN.
      {"/extension/pair/", 302, "/dist/pair/0.4.0/doc/pair.html"},
      // A page's address without its slash: the slash first.
      {"/extension/pair", 301, "/extension/pair/"},
      {"/extension/keyval/", 302, "/dist/pair/0.4.0/doc/keyval.html"},
      {"/extension/xsstest/", 302, "/dist/xsstest/"},
      {"/contact.html", 301, "/about/"},
      {"/mirroring.html", 301, "/mirroring/"},
      {"/faq.html", 301, "/faq/"},
      {"/meta/spec.html", 301, "/spec/"},
  };
  for (const RedirectCase& c : cases) {
    const HttpResult redirect = FromSite(c.path);
    EXPECT_EQ(redirect.status, c.status) << c.path << ": " << redirect.body;
    EXPECT_EQ(redirect.Header("location"), c.location) << c.path;
    const long next = FromSite(c.location).status;
    EXPECT_TRUE(next == 200 || (c.status == 301 && next == 302)) << c.path << " → " << c.location;
  }
}

struct FileCase {
  std::string path;
  std::string media_type;  // the Content-Type's start
  std::string contains;    // in the body
};

TEST_F(SiteTest, FilesAnswerWithTheirBytes) {
  const HttpResult home = FromSite("/");
  ASSERT_EQ(home.status, 200);
  // The stylesheet under the fingerprinted name the pages link to.
  const size_t at = home.body.find("href=\"/ui/pgxn.");
  ASSERT_NE(at, std::string::npos) << home.body;
  const std::string stylesheet = home.body.substr(at + 6, home.body.find('"', at + 6) - at - 6);
  const std::vector<FileCase> cases = {
      {"/meta/spec.txt", "text/plain", "PGXN Meta Spec"},
      {"/feeds/recent.atom", "application/atom+xml", "pair"},
      {"/ui/pgxn.css", "text/css", "{"},
      {stylesheet, "text/css", "{"},
      {"/dist/pair/0.1.0/pair-0.1.0.zip", "application/zip", "PK"},
      {"/dist/pair/0.1.0/META.json", "application/json", "\"version\": \"0.1.0\""},
      {"/dist/pair/0.1.0/README.txt", "text/plain", "The pair extension 0.1.0"},
      {"/src/pair/pair-0.1.0/Changes?raw=1", "text/plain", "Revision history for pair"},
  };
  for (const FileCase& c : cases) {
    const HttpResult file = FromSite(c.path);
    EXPECT_EQ(file.status, 200) << c.path;
    EXPECT_TRUE(absl::StartsWith(file.Header("content-type"), c.media_type))
        << c.path << ": " << file.Header("content-type");
    EXPECT_TRUE(absl::StrContains(file.body, c.contains)) << c.path << " lacks " << c.contains;
  }
  // The zip is the one the mirror serves, byte for byte.
  EXPECT_EQ(FromSite("/dist/pair/0.1.0/pair-0.1.0.zip").body,
            mirror_->Get("/dist/pair/0.1.0/pair-0.1.0.zip").body);
}

TEST_F(SiteTest, UnknownNamesAreTheNotFoundPage) {
  const std::vector<std::string> paths = {
      "/dist/nosuch/",
      "/dist/pair/9.9.9/",
      "/dist/pair/9.9.9/doc/pair.html",
      "/dist/pair/0.1.0/doc/nosuch.html",
      "/dist/pair/nosuch.html",
      "/dist/nosuch/doc/pair.html",
      "/extension/nosuch/",
      "/user/nosuch/",
      "/tag/nosuch/",
      "/src/nosuch/nosuch-1.0.0/",
      "/src/pair/pair-0.1.0/nosuch",
      "/nosuch",
      "/dist/",
  };
  for (const std::string& path : paths) {
    const HttpResult page = FromSite(path);
    EXPECT_EQ(page.status, 404) << path;
    ExpectLayout(path, page);
    EXPECT_TRUE(absl::StrContains(page.body, "<h1>Not found</h1>")) << path << ":\n" << page.body;
    EXPECT_TRUE(absl::StrContains(page.body, "action=\"/search\"")) << path << " has no search";
  }
  // Without the slash, the slash is added first (relative links in a README
  // resolve against it), and then the name is not found.
  for (const std::string path : {"/dist/nosuch", "/user/nosuch"}) {
    const HttpResult redirect = FromSite(path);
    EXPECT_EQ(redirect.status, 301) << path;
    EXPECT_EQ(redirect.Header("location"), path + "/");
    EXPECT_EQ(FromSite(path + "/").status, 404) << path;
  }
  // A search that cannot be run is a bad request, on the search page with
  // its form and the reason.
  for (const char* path : {"/search", "/search?q=", "/search?q=+&in=dists",
                           "/search?q=pair&in=nonsense", "/search?q=pair&o=x"}) {
    const HttpResult page = FromSite(path);
    EXPECT_EQ(page.status, 400) << path;
    ExpectLayout(path, page);
    EXPECT_TRUE(absl::StrContains(page.body, "role=\"alert\"")) << path << ":\n" << page.body;
    EXPECT_TRUE(absl::StrContains(page.body, "id=\"search-q\"")) << path << " has no search";
  }
  const HttpResult post = HttpPost(indexer_->site_url() + "/", "x", {});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.Header("allow"), "GET, HEAD");
}

// ---------------------------------------------------------------------------
// The journey, in a browser

TEST_F(SiteTest, ReaderJourneyInChromium) {
  const std::string browser_dir = BROWSER_DIR;
  std::vector<std::string> missing;
  if (!OnPath("node")) missing.push_back("node (nodejs)");
  if (!fs::exists(kChromium)) missing.push_back(kChromium);
  if (!fs::exists(browser_dir + "/node_modules/playwright-core") ||
      !fs::exists(browser_dir + "/node_modules/axe-core")) {
    missing.push_back("tests/browser/node_modules (npm ci)");
  }
  if (!missing.empty()) {
    GTEST_SKIP() << "browser tests need Node.js, Debian's chromium and `npm ci` in tests/browser; "
                    "ops/test installs all three. Missing: "
                 << absl::StrJoin(missing, ", ");
  }
  const std::string work = dir_->path() + "/journey";
  fs::create_directories(work);
  const Release late = Latecomer();
  const std::string late_zip = work + "/" + ZipName(late);
  WriteWholeFile(late_zip, ZipOfRelease(late));
  const std::string screenshots = SCREENSHOT_DIR;
  fs::remove_all(screenshots);

  Json searches = Json::array();
  for (const auto& [in, q, expect] : std::vector<std::array<std::string, 3>>{
           {"docs", "ordered pair", "pair"},
           {"extensions", "keyval", "keyval"},
           {"users", "alice", "Test alice"},
           {"tags", "key value", "key value"},
           {"dists", "pair", "pair"},  // last: the journey opens this hit
       }) {
    searches.push_back(Json{{"in", in}, {"q", q}, {"expect", expect}});
  }
  const Json config = {
      {"site", indexer_->site_url()},
      {"origin", origin_->url()},
      {"feed", mirror_->url()},
      {"user", late.user},
      {"password", kPassword},
      {"chromium", kChromium},
      {"out", screenshots},
      {"searches", searches},
      {"dist",
       {{"name", "pair"},
        {"shown", "0.2.0"},
        {"older", "0.1.0"},
        {"prereleases", {{"testing", "0.3.0"}, {"unstable", "0.4.0"}}},
        {"readme_heading", "Synopsis"},
        {"extension", "pair"},
        {"doc",
         {{"path", "doc/pair"},
          {"title", "pair"},
          {"link_text", "see the other"},
          {"linked_path", "doc/keyval"},
          {"linked_title", "keyval"}}},
        {"special", {{"name", "Changes"}, {"contains", "Revision history for pair"}}},
        {"user", kAlice},
        {"tag", "ordered pair"}}},
      {"no_slash",
       {"/dist/pair", "/dist/pair/0.1.0", "/user/alice", "/tag/ordered%20pair", "/recent",
        "/src/pair/pair-0.2.0", "/src/pair/pair-0.2.0/doc"}},
      {"missing", {"/dist/nosuch/", "/dist/pair/9.9.9/", "/user/nosuch/", "/tag/nosuch/"}},
      {"xss",
       {{"pages", {"/dist/xsstest/", "/dist/xsstest/README.html"}},
        {"link_texts", {"xss-link", "xss-anchor", "xss-paragraph"}},
        {"broken_images", {"x"}}}},
      {"upload",
       {{"zip", late_zip}, {"dist", late.meta["name"]}, {"version", late.meta["version"]}}},
  };
  const std::string config_path = work + "/journey.json";
  WriteWholeFile(config_path, config.dump(2));

  const RunResult journey = RunProgram({"node", browser_dir + "/journey.mjs", config_path});
  std::printf("%s", journey.output.c_str());
  EXPECT_EQ(journey.exit_code, 0) << "the journey failed (its output is above)";
  EXPECT_TRUE(absl::StrContains(journey.output, "listed on /recent/"));
  EXPECT_TRUE(absl::StrContains(journey.output, "arrived by EventSource"));
  std::printf("screenshots: %s\n", screenshots.c_str());
}

}  // namespace
}  // namespace pgxn::testing
