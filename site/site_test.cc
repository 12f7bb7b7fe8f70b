#include "site/site.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "feed/test_events.h"
#include "gtest/gtest.h"
#include "indexer/indexer.h"
#include "replica/store.h"

namespace pgxn::site {
namespace {

using Json = nlohmann::json;
namespace v1 = ::pgxn::feed::v1;

// A README whose every trick must come out inert.
constexpr char kHostileReadme[] =
    "# widget\n\nWidgets <script>alert(1)</script> and <img src=x onerror=alert(2)>.\n\n"
    "[click](javascript:alert(3)) and see [the reference](doc/widget.md).\n";

std::string Zip(const std::string& version) {
  std::vector<archive::ArchiveEntry> entries;
  for (const auto& [path, data] : std::vector<std::pair<std::string, std::string>>{
           {"README.md", kHostileReadme},
           {"Changes", "1.0.0 first <release>\n"},
           {"doc/widget.md", "# widget\n\nThe widget type; see [gadget](gadget.md).\n"},
           {"doc/gadget.md", "# gadget\n\nGadgets.\n"},
           {"sql/widget.sql", "SELECT 1 < 2;\n"}}) {
    entries.push_back(archive::ArchiveEntry::File(absl::StrCat("widget-", version, "/", path),
                                                  data, 0));
  }
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  EXPECT_TRUE(zip.ok()) << zip.status();
  return zip.ok() ? *zip : "";
}

struct Release {
  std::string version;
  std::string date;
  std::string status;
};

// The files a release event of widget carries, the dist file listing
// `releases` (newest first), as an origin renders them.
std::vector<v1::Op> ReleaseOps(const Release& release, const std::vector<Release>& releases) {
  const std::string dir = absl::StrCat("dist/widget/", release.version, "/");
  const std::string zip = Zip(release.version);
  Json meta{{"name", "widget"},
            {"version", release.version},
            {"abstract", "Widgets for PostgreSQL"},
            {"description", "A widget type & friends."},
            {"maintainer", {"Wanda Widget <wanda@example.com>"}},
            {"license", "postgresql"},
            {"user", "wanda"},
            {"date", release.date},
            {"release_status", release.status},
            {"sha1", base::Sha1Hex(zip)},
            {"sha256", base::Sha256Hex(zip)},
            {"tags", {"Key Value", "widgets"}},
            {"resources", {{"homepage", "https://example.org/widget"},
                           {"repository", {{"web", "javascript:alert(4)"}}}}},
            {"prereqs", {{"runtime", {{"requires", {{"PostgreSQL", "9.1.0"}, {"gadget", "0"}}}}}}},
            {"provides",
             {{"widget",
               {{"file", "sql/widget.sql"}, {"docfile", "doc/widget.md"},
                {"version", release.version}, {"abstract", "A widget"}}}}}};
  Json by_status = Json::object();
  Json user_releases = Json::object();
  for (const Release& r : releases) {
    by_status[r.status].push_back(Json{{"version", r.version}, {"date", r.date}});
  }
  user_releases["widget"] = by_status;
  return {feed::PutOp(dir + "META.json", meta.dump()),
          feed::PutOp(absl::StrCat(dir, "widget-", release.version, ".zip"), zip,
                      "application/zip"),
          feed::PutOp("dist/widget.json", Json{{"name", "widget"}, {"releases", by_status}}.dump()),
          feed::PutOp("extension/widget.json",
                      Json{{"extension", "widget"},
                           {"latest", release.status},
                           {release.status, {{"dist", "widget"}, {"version", release.version}}},
                           {"versions",
                            {{release.version,
                              {{{"dist", "widget"}, {"version", release.version}}}}}}}
                          .dump()),
          feed::PutOp("user/wanda.json", Json{{"nickname", "wanda"},
                                              {"name", "Wanda <Widget>"},
                                              {"uri", "https://example.org/wanda"},
                                              {"releases", user_releases}}
                                             .dump()),
          feed::PutOp("tag/key value.json",
                      Json{{"tag", "Key Value"}, {"releases", user_releases}}.dump()),
          feed::PutOp("tag/widgets.json",
                      Json{{"tag", "widgets"}, {"releases", user_releases}}.dump()),
          feed::PutOp("stats/dist.json",
                      Json{{"count", 1},
                           {"recent",
                            {{{"dist", "widget"}, {"version", release.version},
                              {"abstract", "Widgets for PostgreSQL"}, {"date", release.date},
                              {"user", "wanda"}, {"user_name", "Wanda <Widget>"}}}}}
                          .dump())};
}

class SiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = replica::Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PinOriginKey(feed::TestChain::Key().public_key).ok());
    indexer::IndexerOptions options;
    options.converters.enabled = false;
    auto indexer = indexer::Indexer::Open(store_.get(), dir_.path() + "/index", options);
    ASSERT_TRUE(indexer.ok()) << indexer.status();
    indexer_ = *std::move(indexer);
    SiteSources sources;
    sources.tree = indexer_->HttpTree();
    sources.store = store_.get();
    sources.index = &indexer_->index();
    sources.served_seq = [this] { return indexer_->ServedSeq().value_or(0); };
    auto site = Site::Create(std::move(sources));
    ASSERT_TRUE(site.ok()) << site.status();
    site_ = *std::move(site);

    Publish({"1.0.0", "2020-01-01T00:00:00Z", "stable"});
    Publish({"1.1.0", "2020-02-01T00:00:00Z", "stable"});
    Publish({"2.0.0-beta1", "2020-03-01T00:00:00Z", "testing"});
  }

  void Publish(const Release& release) {
    published_.insert(published_.begin(), release);
    v1::Event event =
        chain_.Next(ReleaseOps(release, published_), "release", "widget", release.version);
    auto applied = store_->Apply(event);
    ASSERT_TRUE(applied.ok()) << applied.status();
    indexer_->OnApplied(event, /*caught_up=*/true);
    indexer_->WaitIdle();
  }

  gateway::Response Get(const std::string& target,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    gateway::Request request;
    request.method = "GET";
    request.target = target;
    const size_t q = target.find('?');
    request.path = target.substr(0, q);
    if (q != std::string::npos) request.query = target.substr(q + 1);
    request.headers = std::move(headers);
    return site_->Handle(request);
  }

  static bool Has(const gateway::Response& response, const std::string& text) {
    return response.body.find(text) != std::string::npos;
  }

  base::TempDir dir_;
  std::unique_ptr<replica::Store> store_;
  std::unique_ptr<indexer::Indexer> indexer_;
  std::unique_ptr<Site> site_;
  feed::TestChain chain_;
  std::vector<Release> published_;
};

TEST_F(SiteTest, DistPageShowsTheNewestStableRelease) {
  for (const char* path : {"/dist/widget/", "/dist/WIDGET/"}) {
    const gateway::Response page = Get(path);
    ASSERT_EQ(page.status, 200) << path << "\n" << page.body;
    EXPECT_EQ(page.Header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_TRUE(Has(page, "<title>widget 1.1.0 — PGXN</title>")) << page.body;
  }
  // Without the slash, relative links would resolve against the parent.
  EXPECT_EQ(Get("/dist/widget").status, 301);
  EXPECT_EQ(Get("/dist/widget").Header("Location"), "/dist/widget/");
  EXPECT_EQ(Get("/dist/widget/1.0.0").Header("Location"), "/dist/widget/1.0.0/");
  EXPECT_EQ(Get("/users?c=w").Header("Location"), "/users/?c=w");
  EXPECT_EQ(Get("/tag/key value").Header("Location"), "/tag/key%20value/");
  // Never to another host.
  EXPECT_EQ(Get("//dist/widget").Header("Location"), "/dist/widget/");
  const gateway::Response page = Get("/dist/widget/");
  EXPECT_TRUE(Has(page, "<meta name=\"description\" content=\"Widgets for PostgreSQL\">"));
  EXPECT_TRUE(Has(page, "A widget type &amp; friends."));
  EXPECT_TRUE(Has(page, "<a href=\"mailto:wanda@example.com\">Wanda Widget</a>"));
  EXPECT_TRUE(Has(page, "https://www.postgresql.org/about/licence/"));
  EXPECT_TRUE(Has(page, "<a href=\"/tag/key%20value/\" rel=\"tag\">Key Value</a>"));
  EXPECT_TRUE(Has(page, "<a href=\"/extension/gadget/\">gadget</a>"));  // a prerequisite
  EXPECT_TRUE(Has(page, "href=\"/dist/widget/1.1.0/doc/widget.html\""));
  EXPECT_TRUE(Has(page, "href=\"/src/widget/widget-1.1.0/Changes\""));
  EXPECT_TRUE(Has(page, "href=\"/dist/widget/1.1.0/widget-1.1.0.zip\""));
  EXPECT_TRUE(Has(page, base::Sha256Hex(Zip("1.1.0"))));
  EXPECT_TRUE(Has(page, "<code>pgxn install widget</code>"));
  EXPECT_TRUE(Has(page, "<time datetime=\"2020-02-01T00:00:00Z\">1 Feb 2020</time>"));
  // Every release, grouped by status; the shown one is not a link.
  EXPECT_TRUE(Has(page, "<a href=\"/dist/widget/1.0.0/\">1.0.0</a>"));
  EXPECT_TRUE(Has(page, "<a href=\"/dist/widget/2.0.0-beta1/\">2.0.0-beta1</a>"));
  EXPECT_TRUE(Has(page, "<strong aria-current=\"page\">1.1.0</strong>"));
  // The author's javascript: repository stays text.
  EXPECT_FALSE(Has(page, "href=\"javascript:"));
  EXPECT_TRUE(Has(page, "javascript:alert(4)"));
}

TEST_F(SiteTest, TheReadmeIsInlineAndInert) {
  const gateway::Response page = Get("/dist/widget/");
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(Has(page, "<h2 id=\"readme-heading\">README</h2>"));
  EXPECT_FALSE(Has(page, "<script>alert"));
  EXPECT_FALSE(Has(page, "onerror="));
  EXPECT_FALSE(Has(page, "href=\"javascript:"));
  // One h1 per page: the README's own moved down.
  size_t h1 = 0;
  for (size_t at = page.body.find("<h1"); at != std::string::npos; at = page.body.find("<h1", at + 1)) {
    ++h1;
  }
  EXPECT_EQ(h1, 1u) << page.body;
  // Pages run no script at all.
  EXPECT_NE(page.Header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
}

TEST_F(SiteTest, OlderAndPrereleasesHaveTheirOwnPages) {
  const gateway::Response old = Get("/dist/widget/1.0.0/");
  ASSERT_EQ(old.status, 200) << old.body;
  EXPECT_TRUE(Has(old, "<code>pgxn install widget=1.0.0</code>"));
  const gateway::Response beta = Get("/dist/widget/2.0.0-beta1/");
  ASSERT_EQ(beta.status, 200);
  EXPECT_TRUE(Has(beta, "<span class=\"status testing\">testing</span>"));
  EXPECT_TRUE(Has(beta, "pgxn install --testing widget=2.0.0-beta1"));

  const gateway::Response missing = Get("/dist/widget/9.9.9/");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(Has(missing, "widget has no release “9.9.9”."));
  EXPECT_TRUE(Has(missing, "<form class=\"search\""));
  EXPECT_EQ(Get("/dist/nothing/").status, 404);
}

TEST_F(SiteTest, DocPagesOfAReleaseAndOfTheShownOne) {
  const gateway::Response doc = Get("/dist/widget/1.0.0/doc/widget.html");
  ASSERT_EQ(doc.status, 200) << doc.body;
  EXPECT_TRUE(Has(doc, "<h1>widget</h1>"));
  EXPECT_TRUE(Has(doc, "<a href=\"/dist/widget/1.0.0/\">1.0.0</a>"));  // breadcrumbs
  EXPECT_TRUE(Has(doc, "href=\"gadget.html\""));  // the doc's link to the other doc
  EXPECT_EQ(Get("/dist/widget/doc/widget.html").status, 200);
  EXPECT_TRUE(Has(Get("/dist/widget/doc/widget.html"), "widget 1.1.0"));
  EXPECT_EQ(Get("/dist/widget/1.0.0/doc/gadget.html").status, 200);
  EXPECT_EQ(Get("/dist/widget/1.0.0/doc/nothing.html").status, 404);
  EXPECT_EQ(Get("/dist/widget/9.0.0/doc/widget.html").status, 404);

  const gateway::Response extension = Get("/extension/widget/");
  EXPECT_EQ(extension.status, 302);
  EXPECT_EQ(extension.Header("Location"), "/dist/widget/2.0.0-beta1/doc/widget.html");
  EXPECT_EQ(Get("/extension/nothing/").status, 404);
}

TEST_F(SiteTest, SearchPagesAndTheirErrors) {
  const gateway::Response dists = Get("/search?q=widgets&in=dists");
  ASSERT_EQ(dists.status, 200) << dists.body;
  EXPECT_TRUE(Has(dists, "href=\"/dist/widget/\""));
  EXPECT_TRUE(Has(dists, "value=\"widgets\""));  // the query stays in the form
  const gateway::Response docs = Get("/search?q=gadgets");
  ASSERT_EQ(docs.status, 200);
  EXPECT_TRUE(Has(docs, "href=\"/dist/widget/2.0.0-beta1/doc/gadget.html\"")) << docs.body;
  EXPECT_EQ(Get("/search?q=").status, 400);
  EXPECT_TRUE(Has(Get("/search?q="), "Type something to search for."));
  EXPECT_EQ(Get("/search?q=x&in=everything").status, 400);
  EXPECT_EQ(Get("/search?q=x&o=minus").status, 400);
  EXPECT_EQ(Get("/search?q=x&o=18446744073709551615").status, 400);
  EXPECT_EQ(Get("/search?q=%zz").status, 400);
  const gateway::Response none = Get("/search?q=nosuchwordanywhere&in=tags");
  EXPECT_EQ(none.status, 200);
  EXPECT_TRUE(Has(none, "No tags match"));
}

TEST_F(SiteTest, PeopleTagsAndListings) {
  const gateway::Response user = Get("/user/wanda/");
  ASSERT_EQ(user.status, 200);
  EXPECT_TRUE(Has(user, "Wanda &lt;Widget&gt;"));
  EXPECT_TRUE(Has(user, "<a href=\"/dist/widget/\">widget</a>"));
  EXPECT_EQ(Get("/user/nobody/").status, 404);
  EXPECT_EQ(Get("/users/?c=w").status, 200);
  const gateway::Response tags = Get("/tags/");
  ASSERT_EQ(tags.status, 200);
  EXPECT_TRUE(Has(tags, "<a href=\"/tag/key%20value/\" rel=\"tag\">Key Value</a>")) << tags.body;
  EXPECT_EQ(Get("/tag/key%20value/").status, 404);  // the path is decoded before it gets here
  EXPECT_EQ(Get("/tag/key value/").status, 200);
  EXPECT_EQ(Get("/tag/nothing/").status, 404);
  const gateway::Response recent = Get("/recent/");
  ASSERT_EQ(recent.status, 200);
  EXPECT_TRUE(Has(recent, "type=\"application/atom+xml\""));
  EXPECT_TRUE(Has(Get("/"), "type=\"application/atom+xml\""));
  EXPECT_EQ(Get("/faq").status, 301);
  for (const char* path : {"/about/", "/faq/", "/mirroring/", "/feeds/"}) {
    EXPECT_EQ(Get(path).status, 200) << path;
  }
  EXPECT_EQ(Get("/nothing/here").status, 404);
}

TEST_F(SiteTest, LongListsComeAPageAtATime) {
  Json releases = Json::object();
  for (int i = 0; i < 250; ++i) {
    releases[absl::StrCat("d", 1000 + i)] = Json{{"stable", {{{"version", "1.0.0"}}}}};
  }
  v1::Event event = chain_.Next(
      {feed::PutOp("tag/many.json", Json{{"tag", "many"}, {"releases", releases}}.dump())},
      "release", "widget", "1.2.0");
  ASSERT_TRUE(store_->Apply(event).ok());
  indexer_->OnApplied(event, /*caught_up=*/true);
  indexer_->WaitIdle();

  const gateway::Response first = Get("/tag/many/");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(Has(first, "1–100 of 250"));
  EXPECT_TRUE(Has(first, "href=\"/dist/d1099/\""));
  EXPECT_FALSE(Has(first, "href=\"/dist/d1100/\""));
  EXPECT_TRUE(Has(first, "<a href=\"/tag/many/?p=2\" rel=\"next\">"));
  const gateway::Response last = Get("/tag/many/?p=3");
  EXPECT_TRUE(Has(last, "201–250 of 250"));
  EXPECT_TRUE(Has(last, "href=\"/dist/d1249/\""));
  EXPECT_TRUE(Has(last, "<a href=\"/tag/many/?p=2\" rel=\"prev\">"));
  EXPECT_TRUE(Has(Get("/tag/many/?p=99"), "201–250 of 250"));  // past the end: the last
  EXPECT_TRUE(Has(Get("/tag/many/?p=x"), "1–100 of 250"));
  EXPECT_FALSE(Has(Get("/tag/widgets/"), "rel=\"next\""));  // one page: no pager
}

TEST_F(SiteTest, DocumentsOfAnotherShapeAreTheErrorPageNotACrash) {
  v1::Event event = chain_.Next({feed::PutOp("dist/odd.json", "[1, 2]"),
                                 feed::PutOp("user/odd.json", "[1]"),
                                 feed::PutOp("user/odder.json", R"({"releases": {"x": "y"}})")},
                                "release", "odd", "1.0.0");
  ASSERT_TRUE(store_->Apply(event).ok());
  indexer_->OnApplied(event, /*caught_up=*/true);
  indexer_->WaitIdle();
  for (const char* path : {"/dist/odd/", "/user/odd/"}) {
    const gateway::Response page = Get(path);
    EXPECT_EQ(page.status, 500) << path;
    EXPECT_TRUE(Has(page, "Something went wrong")) << path << page.body;
  }
  // A release entry that is not an object: the dist is listed without it.
  EXPECT_TRUE(Has(Get("/user/odder/"), "<a href=\"/dist/x/\">x</a>"));
}

TEST_F(SiteTest, LargeSourceFilesAreLinkedNotInlined) {
  const std::string big(Site::kMaxInlineSourceBytes + 1, '&');
  std::vector<archive::ArchiveEntry> entries = {
      archive::ArchiveEntry::File("big-1.0.0/big.txt", big, 0),
      archive::ArchiveEntry::File("big-1.0.0/META.json", "{}", 0)};
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  ASSERT_TRUE(zip.ok());
  v1::Event event = chain_.Next(
      {feed::PutOp("dist/big/1.0.0/big-1.0.0.zip", *zip, "application/zip")}, "release", "big",
      "1.0.0");
  ASSERT_TRUE(store_->Apply(event).ok());
  indexer_->OnApplied(event, /*caught_up=*/true);
  indexer_->WaitIdle();
  const gateway::Response page = Get("/src/big/big-1.0.0/big.txt");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_LT(page.body.size(), size_t{64} << 10);
  EXPECT_TRUE(Has(page, "too large to show here")) << page.body;
  EXPECT_EQ(Get("/src/big/big-1.0.0/big.txt?raw=1").body, big);
}

TEST_F(SiteTest, SourceFilesAreEscapedInThePage) {
  const gateway::Response listing = Get("/src/widget/widget-1.1.0/");
  ASSERT_EQ(listing.status, 200) << listing.body;
  EXPECT_TRUE(Has(listing, "<a href=\"doc/\">doc/</a>"));
  const gateway::Response file = Get("/src/widget/widget-1.1.0/Changes");
  ASSERT_EQ(file.status, 200);
  EXPECT_TRUE(Has(file, "1.0.0 first &lt;release&gt;"));
  const gateway::Response raw = Get("/src/widget/widget-1.1.0/Changes?raw=1");
  EXPECT_EQ(raw.body, "1.0.0 first <release>\n");
  EXPECT_EQ(raw.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(Get("/src/widget/widget-1.1.0/doc").status, 301);
  EXPECT_EQ(Get("/src/widget/widget-1.1.0/nothing").status, 404);
}

TEST_F(SiteTest, DownloadsLegacyPathsAndAssets) {
  const gateway::Response zip = Get("/dist/widget/1.1.0/widget-1.1.0.zip");
  ASSERT_EQ(zip.status, 200);
  EXPECT_EQ(zip.body, Zip("1.1.0"));
  EXPECT_EQ(Get("/faq.html").status, 301);
  EXPECT_EQ(Get("/faq.html").Header("Location"), "/faq/");
  EXPECT_EQ(Get("/meta/spec.html").Header("Location"), "/spec/");
  EXPECT_EQ(Get("/contact.html").status, 301);
  const gateway::Response css = Get(site_->stylesheet_path());
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.Header("Cache-Control"), "public, max-age=31536000, immutable");
  const gateway::Response gzipped_css =
      Get(site_->stylesheet_path(), {{"accept-encoding", "gzip"}});
  EXPECT_EQ(gzipped_css.Header("Content-Encoding"), "gzip");
  const std::string css_etag(gzipped_css.Header("ETag"));
  EXPECT_NE(css_etag, css.Header("ETag"));
  const gateway::Response not_modified =
      Get(site_->stylesheet_path(), {{"accept-encoding", "gzip"}, {"if-none-match", css_etag}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.Header("ETag"), css_etag);
  EXPECT_TRUE(Has(Get("/"), absl::StrCat("href=\"", site_->stylesheet_path(), "\"")));
}

TEST_F(SiteTest, ETagsFollowTheTreeAndBodiesAreGzipped) {
  const gateway::Response first = Get("/dist/widget/");
  const std::string etag(first.Header("ETag"));
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(first.Header("Cache-Control"), "no-cache");
  const gateway::Response not_modified = Get("/dist/widget/", {{"if-none-match", etag}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.Header("Vary"), "Accept-Encoding");
  Publish({"1.2.0", "2020-04-01T00:00:00Z", "stable"});
  const gateway::Response after = Get("/dist/widget/", {{"if-none-match", etag}});
  EXPECT_EQ(after.status, 200);
  EXPECT_TRUE(Has(after, "<title>widget 1.2.0 — PGXN</title>"));

  const gateway::Response gzipped = Get("/dist/widget/", {{"accept-encoding", "gzip"}});
  EXPECT_EQ(gzipped.Header("Content-Encoding"), "gzip");
  EXPECT_LT(gzipped.body.size(), after.body.size());

  gateway::Request post;
  post.method = "POST";
  post.path = "/";
  EXPECT_EQ(site_->Handle(post).status, 405);
}

}  // namespace
}  // namespace pgxn::site
