#include "indexer/docs/doc_html.h"

#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/test_seed.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

const absl::flat_hash_set<std::string> kNoDocs;

// The part of a rendered fragment between <div id="pgxnbod"> and its end.
std::string Body(const RenderedDoc& doc) {
  const std::string open = "<div id=\"pgxnbod\">\n";
  const std::string close = "</div></div>\n";
  const size_t begin = doc.html.find(open);
  if (begin == std::string::npos || !absl::EndsWith(doc.html, close)) return "?";
  return doc.html.substr(begin + open.size(), doc.html.size() - begin - open.size() - close.size());
}

// The <ul class="pgxntocroot"> list of a rendered fragment, or "" without one.
std::string Toc(const RenderedDoc& doc) {
  const size_t begin = doc.html.find("<ul class=\"pgxntocroot\">");
  if (begin == std::string::npos) return "";
  return doc.html.substr(begin, doc.html.find("</ul></div>") + 5 - begin);
}

TEST(DocHtmlTest, MarkupOfFollowsTextMarkup) {
  struct Case {
    absl::string_view path;
    Markup want;
    bool doc_by_name;
  };
  for (const Case& c : std::vector<Case>{
           {"doc/pair.md", Markup::kMarkdown, true},
           {"README.MD", Markup::kMarkdown, true},
           {"x.mkd", Markup::kMarkdown, true},
           {"x.mkdn", Markup::kMarkdown, true},
           {"x.mdown", Markup::kMarkdown, true},
           {"x.markdown", Markup::kMarkdown, true},
           {"x.mmd", Markup::kMultiMarkdown, true},
           {"x.mmkdn", Markup::kMultiMarkdown, true},
           {"x.multimarkdown", Markup::kMultiMarkdown, true},
           {"README", Markup::kText, false},
           {"doc/readme", Markup::kText, false},
           {"README.txt", Markup::kText, false},
           {"x.text", Markup::kText, false},
           {"doc/x.html", Markup::kHtml, true},
           {"doc/x.HTM", Markup::kHtml, true},
           {"doc/x.xhtml", Markup::kHtml, true},
           {"doc/x.rst", Markup::kRst, true},
           {"doc/x.rest", Markup::kRst, true},
           {"doc/x.asciidoc", Markup::kAsciiDoc, true},
           {"doc/x.adoc", Markup::kAsciiDoc, true},
           {"SHA256SUMS.asc", Markup::kAsciiDoc, false},
           {"doc/x.pod", Markup::kPod, true},
           {"t/test.pl", Markup::kPod, false},
           {"lib/X.pm", Markup::kPod, false},
           {"doc/x.textile", Markup::kTextile, true},
           {"doc/x.wiki", Markup::kMediaWiki, true},
           {"doc/x.mediawiki", Markup::kMediaWiki, true},
           {"doc/x.mwiki", Markup::kMediaWiki, true},
           {"doc/x.creole", Markup::kCreole, true},
           {"doc/x.trac", Markup::kTrac, true},
           {"doc/x.bbcode", Markup::kBBCode, true},
           {"doc/x.org", Markup::kNone, false},
           {"doc/x.pod6", Markup::kNone, false},
           {"Makefile", Markup::kNone, false},
           {"sql/pair.sql", Markup::kNone, false},
           {"pair.control", Markup::kNone, false},
           {"META.json", Markup::kNone, false},
           {"README.orig", Markup::kNone, false},
           {".md", Markup::kNone, false},
           {"doc.md/file", Markup::kNone, false},
           {"", Markup::kNone, false},
       }) {
    EXPECT_EQ(MarkupOf(c.path), c.want) << "path: " << c.path;
    EXPECT_EQ(IsDocByName(c.path), c.doc_by_name) << "path: " << c.path;
  }
}

TEST(DocHtmlTest, DocPath) {
  struct Case {
    absl::string_view path;
    absl::string_view want;
  };
  for (const Case& c : std::vector<Case>{
           {"doc/pair.md", "doc/pair"},
           {"README", "README"},
           {"README.md", "README"},
           {"doc/a.b.txt", "doc/a.b"},
           {"doc.d/file", "doc.d/file"},
           {".hidden", ".hidden"},
           {"doc/.hidden", "doc/.hidden"},
       }) {
    EXPECT_EQ(DocPath(c.path), c.want) << "path: " << c.path;
  }
}

// pgxn.org's ids, which its pages and links in the wild use, and GitHub's
// anchors, which READMEs written for GitHub link to.
TEST(DocHtmlTest, HeadingsCarryPgxnIdsAndGithubAnchors) {
  struct Case {
    absl::string_view heading;
    absl::string_view id;
    absl::string_view slug;  // "" when there is none beside the id
  };
  for (const Case& c : std::vector<Case>{
           {"pair 0.1.1", "pair.0.1.1", "pair-011"},
           {"Copyright and License", "Copyright.and.License", "copyright-and-license"},
           {"What's new?", "What.s.new.", "whats-new"},
           {"What’s new?", "What.s.new.", "whats-new"},
           {"  `pair()` -- the function!  ", "pair.the.function.", "pair--the-function"},
           {"Übersicht für Anfänger", "L.bersicht.f.r.Anf.nger", "Übersicht-für-anfänger"},
           {"snake_case", "snake_case", ""},
           {"1. Install", "L1..Install", "1-install"},
           {"Binary Quantization", "Binary.Quantization", "binary-quantization"},
           {"!!!", "L.", ""},
       }) {
    const RenderedDoc doc = RenderDoc("README.md", absl::StrCat("# ", c.heading, "\n"), kNoDocs);
    const std::string anchor =
        c.slug.empty() ? "" : absl::StrCat("<span id=\"", c.slug, "\"></span>");
    EXPECT_TRUE(absl::StrContains(Body(doc), absl::StrCat("<h1 id=\"", c.id, "\">", anchor)))
        << "heading: " << c.heading << "\nhtml: " << doc.html;
    EXPECT_TRUE(absl::StrContains(Toc(doc), absl::StrCat("<a href=\"#", c.id, "\">")))
        << "heading: " << c.heading << "\nhtml: " << doc.html;
  }
  // Below h3 only GitHub's anchor, on the heading itself.
  EXPECT_EQ(Body(RenderDoc("README.md", "#### Query Options\n", kNoDocs)),
            "<h4 id=\"query-options\">Query Options</h4>\n");
}

TEST(DocHtmlTest, RepeatedHeadingsAreNumberedAsPgxnAndGithubNumberThem) {
  const RenderedDoc doc =
      RenderDoc("README.md", "# Usage\n## Usage\n### Usage\n## Usage.2\n#### Usage\n", kNoDocs);
  EXPECT_EQ(Toc(doc),
            "<ul class=\"pgxntocroot\">\n"
            "<li><a href=\"#Usage\">Usage</a>\n<ul>\n"
            "<li><a href=\"#Usage1\">Usage</a>\n<ul>\n"
            "<li><a href=\"#Usage2\">Usage</a></li>\n"
            "</ul>\n</li>\n"
            "<li><a href=\"#Usage.2\">Usage.2</a></li>\n"
            "</ul>\n</li>\n"
            "</ul>");
  EXPECT_EQ(Body(doc),
            "<h1 id=\"Usage\"><span id=\"usage\"></span>Usage</h1>\n"
            "<h2 id=\"Usage1\"><span id=\"usage-1\"></span>Usage</h2>\n"
            "<h3 id=\"Usage2\"><span id=\"usage-2\"></span>Usage</h3>\n"
            "<h2 id=\"Usage.2\"><span id=\"usage2\"></span>Usage.2</h2>\n"
            "<h4 id=\"usage-3\">Usage</h4>\n");
  absl::flat_hash_map<std::string, int> seen;
  EXPECT_EQ(PgxnHeadingId("Query Options", seen), "Query.Options");
  EXPECT_EQ(PgxnHeadingId("Query Options", seen), "Query.Options1");
  absl::flat_hash_map<std::string, int> slugs;
  EXPECT_EQ(GithubSlug("a", slugs), "a");
  EXPECT_EQ(GithubSlug("a-1", slugs), "a-1");
  EXPECT_EQ(GithubSlug("a", slugs), "a-2");  // as github-slugger skips a taken one
}

TEST(DocHtmlTest, ManyRepeatedHeadingsStayFast) {
  std::string markdown;
  for (int i = 0; i < 20000; ++i) markdown += "## Same\n";
  const RenderedDoc doc = RenderDoc("README.md", markdown, kNoDocs);
  EXPECT_TRUE(absl::StrContains(doc.html, "<h2 id=\"Same19999\"><span id=\"same-19999\"></span>"));
}

TEST(DocHtmlTest, TableOfContentsNestsByLevel) {
  struct Case {
    absl::string_view name;
    absl::string_view markdown;
    absl::string_view toc;
  };
  for (const Case& c : std::vector<Case>{
           {"h2 without h1", "## A\n### B\n## C\n",
            "<ul class=\"pgxntocroot\">\n"
            "<li><a href=\"#A\">A</a>\n<ul>\n<li><a href=\"#B\">B</a></li>\n</ul>\n</li>\n"
            "<li><a href=\"#C\">C</a></li>\n"
            "</ul>"},
           {"h3 right under h1", "# A\n### B\n",
            "<ul class=\"pgxntocroot\">\n"
            "<li><a href=\"#A\">A</a>\n<ul>\n<li><a href=\"#B\">B</a></li>\n</ul>\n</li>\n"
            "</ul>"},
           {"h2 before h1", "## A\n# B\n## C\n",
            "<ul class=\"pgxntocroot\">\n"
            "<li><a href=\"#A\">A</a></li>\n"
            "<li><a href=\"#B\">B</a>\n<ul>\n<li><a href=\"#C\">C</a></li>\n</ul>\n</li>\n"
            "</ul>"},
           {"h4 left out", "# A\n#### D\n",
            "<ul class=\"pgxntocroot\">\n<li><a href=\"#A\">A</a></li>\n</ul>"},
           {"markup in headings", "# The `pair` <em>type</em> & more\n",
            "<ul class=\"pgxntocroot\">\n"
            "<li><a href=\"#The.pair.type.more\">The pair type &amp; more</a></li>\n</ul>"},
       }) {
    EXPECT_EQ(Toc(RenderDoc("README.md", c.markdown, kNoDocs)), c.toc) << c.name;
  }
}

TEST(DocHtmlTest, NoHeadingsNoTableOfContents) {
  const RenderedDoc doc = RenderDoc("README.md", "Just text.\n\n#### Small\n", kNoDocs);
  EXPECT_EQ(
      doc.html,
      "<div id=\"pgxndoc\"><div id=\"pgxnbod\">\n<p>Just text.</p>\n<h4 id=\"small\">Small</h4>\n"
      "</div></div>\n");
  EXPECT_EQ(doc.title, "Small");
}

TEST(DocHtmlTest, Title) {
  EXPECT_EQ(RenderDoc("README.md", "## Intro\n# Main *thing*\n", kNoDocs).title, "Main thing");
  EXPECT_EQ(RenderDoc("README.md", "## Intro\n### More\n", kNoDocs).title, "Intro");
  EXPECT_EQ(RenderDoc("README.md", "Main\n====\n", kNoDocs).title, "Main");
  EXPECT_EQ(RenderDoc("README.md", "No heading.\n", kNoDocs).title, "");
  EXPECT_EQ(RenderDoc("README", "# Not a heading\n", kNoDocs).title, "");
}

TEST(DocHtmlTest, SearchText) {
  const RenderedDoc doc = RenderDoc(
      "README.md", "# Title\n\nSome *text* &amp; more.\n\n<script>hidden()</script>\n\n- a\n- b\n",
      kNoDocs);
  EXPECT_EQ(doc.text, "Title Some text & more. a b");
}

TEST(DocHtmlTest, FencedCodeIsEscapedOnce) {
  const RenderedDoc doc = RenderDoc(
      "doc/pair.md", "```sql\nSELECT 'foo' ~> 'bar' && 1 < 2;\n```\n\nUse `~>` here.\n", kNoDocs);
  EXPECT_EQ(Body(doc),
            "<pre><code class=\"language-sql\">SELECT 'foo' ~&gt; 'bar' &amp;&amp; 1 &lt; 2;\n"
            "</code></pre>\n<p>Use <code>~&gt;</code> here.</p>\n");
  EXPECT_FALSE(absl::StrContains(doc.html, "&amp;gt;"));
  EXPECT_EQ(doc.text, "SELECT 'foo' ~> 'bar' && 1 < 2; Use ~> here.");
}

TEST(DocHtmlTest, GfmExtensions) {
  const RenderedDoc doc = RenderDoc("README.md",
                                    "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n"
                                    "See https://pgxn.org/ and www.example.com, ~~not~~ this.\n\n"
                                    "- [ ] open\n- [x] done\n\n"
                                    "It's \"quoted\" -- really...\n",
                                    kNoDocs);
  const std::string body = Body(doc);
  EXPECT_TRUE(absl::StrContains(body,
                                "<table>\n<thead>\n<tr>\n<th align=\"left\">a</th>\n"
                                "<th align=\"right\">b</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n"
                                "<td align=\"left\">1</td>\n<td align=\"right\">2</td>\n"
                                "</tr>\n</tbody>\n</table>"))
      << body;
  EXPECT_TRUE(absl::StrContains(body, "<a href=\"https://pgxn.org/\">https://pgxn.org/</a>"))
      << body;
  EXPECT_TRUE(absl::StrContains(body, "<a href=\"http://www.example.com\">www.example.com</a>"))
      << body;
  EXPECT_TRUE(absl::StrContains(body, "<del>not</del>")) << body;
  EXPECT_TRUE(absl::StrContains(body, "<li> \u2610 open</li>\n<li> \u2611 done</li>")) << body;
  EXPECT_FALSE(absl::StrContains(body, "<input")) << body;
  EXPECT_TRUE(absl::StrContains(body, "It\u2019s \u201Cquoted\u201D \u2013 really\u2026")) << body;
}

TEST(DocHtmlTest, RewritesRelativeLinksBetweenDocs) {
  const absl::flat_hash_set<std::string> docpaths = {"README", "doc/pair", "doc/other",
                                                     "doc/my doc", "Changes"};
  struct Case {
    absl::string_view doc;
    absl::string_view href;
    absl::string_view want;
  };
  for (const Case& c : std::vector<Case>{
           {"doc/pair.md", "pair.md", "pair.html"},
           {"doc/pair.md", "../README.md#x", "../README.html#x"},
           {"doc/pair.md", "./other.md?v=1#y", "./other.html?v=1#y"},
           {"doc/pair.md", "../doc/other.markdown", "../doc/other.html"},
           {"doc/pair.md", "../README", "../README.html"},
           {"doc/pair.md", "my%20doc.md", "my%20doc.html"},
           {"README.md", "doc/pair.md", "doc/pair.html"},
           {"README.md", "doc//pair.md", "doc//pair.html"},
           // Left alone: not a doc, not in the release, outside it, not relative.
           {"doc/pair.md", "../sql/pair.sql", "../sql/pair.sql"},
           {"doc/pair.md", "pair.sql", "pair.sql"},
           {"doc/pair.md", "missing.md", "missing.md"},
           {"README.md", "Changes", "Changes"},
           {"doc/pair.md", "../../escape.md", "../../escape.md"},
           {"README.md", "../README.md", "../README.md"},
           {"doc/pair.md", "/doc/pair.md", "/doc/pair.md"},
           {"doc/pair.md", "#Synopsis", "#Synopsis"},
           {"doc/pair.md", "https://x.org/doc/pair.md", "https://x.org/doc/pair.md"},
           {"doc/pair.md", "../doc/", "../doc/"},
       }) {
    const RenderedDoc doc = RenderDoc(c.doc, absl::StrCat("[link](", c.href, ")\n"), docpaths);
    EXPECT_EQ(Body(doc), absl::StrCat("<p><a href=\"", c.want, "\">link</a></p>\n"))
        << "doc: " << c.doc << " href: " << c.href;
  }
}

// Authors link to their LICENSE, sources and images; those are served under
// /src/, where links relative to a doc would not find them.
TEST(DocHtmlTest, LinksAndImagesToTheReleasesFilesGoToSrc) {
  DocContext context;
  context.docpaths = {"README", "doc/pair"};
  context.files = {"README.md",     "doc/pair.md", "LICENSE",
                   "gif/ltrim.gif", "src/x.c",     "doc/a b.png"};
  context.directories = {"doc", "gif", "src"};
  context.source_url = "/src/pair/pair-0.1.0/";
  const RenderedDoc doc =
      RenderDoc("doc/pair.md",
                "[l](../LICENSE) ![g](../gif/ltrim.gif) [c](../src/x.c#L3) [d](../src/) "
                "![s](a%20b.png) [r](../README.md#install) [m](missing.txt) [o](../../out) "
                "[w](https://x.org/y) [f](#here) ![abs](/logo.png)\n",
                context);
  EXPECT_EQ(Body(doc),
            "<p><a href=\"/src/pair/pair-0.1.0/LICENSE\">l</a> "
            "<img src=\"/src/pair/pair-0.1.0/gif/ltrim.gif\" alt=\"g\" /> "
            "<a href=\"/src/pair/pair-0.1.0/src/x.c#L3\">c</a> "
            "<a href=\"/src/pair/pair-0.1.0/src/\">d</a> "
            "<img src=\"/src/pair/pair-0.1.0/doc/a%20b.png\" alt=\"s\" /> "
            "<a href=\"../README.html#install\">r</a> <a href=\"missing.txt\">m</a> "
            "<a href=\"../../out\">o</a> <a href=\"https://x.org/y\">w</a> "
            "<a href=\"#here\">f</a> <img src=\"/logo.png\" alt=\"abs\" /></p>\n");
}

// A converter's HTML goes through the sanitizer and gets headings, ids and
// the table of contents as Markdown's does; without a converter, or when it
// fails, the doc is escaped text.
TEST(DocHtmlTest, ConvertedMarkupsAreSanitizedAndGetATableOfContents) {
  class FakeConverter final : public DocConverter {
   public:
    absl::StatusOr<std::string> ToHtml(Markup markup, absl::string_view content) const override {
      if (absl::StartsWith(content, "fail")) return absl::DeadlineExceededError("timed out");
      return absl::StrCat("<h1 id=\"x\">", MarkupName(markup),
                          "</h1><script>alert(1)</script><h2>Part</h2><p>body</p>");
    }
  } converter;
  DocContext context;
  context.converter = &converter;
  const RenderedDoc doc = RenderDoc("doc/pair.rst", "ignored", context);
  EXPECT_EQ(Body(doc),
            "<h1 id=\"rst\">rst</h1><h2 id=\"Part\"><span id=\"part\"></span>Part</h2><p>body</p>");
  EXPECT_EQ(doc.title, "rst");
  EXPECT_TRUE(absl::StrContains(Toc(doc), "<a href=\"#Part\">Part</a>"));
  EXPECT_EQ(Body(RenderDoc("doc/pair.adoc", "fail <b>", context)), "<pre>fail &lt;b&gt;</pre>\n");
  EXPECT_EQ(Body(RenderDoc("doc/pair.pod", "=head1 <b>", kNoDocs)),
            "<pre>=head1 &lt;b&gt;</pre>\n");
  EXPECT_EQ(Body(RenderDoc("doc/pair.trac", "== x ==", context)), "<pre>== x ==</pre>\n");
  // MultiMarkdown is read as Markdown.
  EXPECT_EQ(Body(RenderDoc("doc/pair.mmd", "*x*", kNoDocs)), "<p><em>x</em></p>\n");
}

TEST(DocHtmlTest, RewritesLinksInRawHtmlToo) {
  const RenderedDoc doc =
      RenderDoc("README.md", "<p><a href=\"doc/pair.md\">pair</a></p>\n", {"README", "doc/pair"});
  EXPECT_EQ(Body(doc), "<p><a href=\"doc/pair.html\">pair</a></p>\n");
}

TEST(DocHtmlTest, DropsScriptUrls) {
  const RenderedDoc doc =
      RenderDoc("README.md",
                "[x](javascript:alert(1)) [y](JAVASCRIPT:alert(2))\n\n"
                "<a href=\"&#106;avascript:alert(3)\">z</a> <img src=\"data:text/html,x\">\n",
                kNoDocs);
  EXPECT_EQ(Body(doc), "<p><a>x</a> <a>y</a></p>\n<p><a>z</a> <img /></p>\n");
}

TEST(DocHtmlTest, ReadmeHtmlIsSanitized) {
  const RenderedDoc doc = RenderDoc("README.md",
                                    "# Hello\n\n"
                                    "<script>alert('readme')</script>\n\n"
                                    "<p onclick=\"steal()\">Click <em>here</em></p>\n\n"
                                    "Inline <em>emphasis</em> and <iframe src=x></iframe>.\n",
                                    kNoDocs);
  EXPECT_EQ(Body(doc),
            "<h1 id=\"Hello\"><span id=\"hello\"></span>Hello</h1>\n\n<p>Click <em>here</em></p>\n"
            "<p>Inline <em>emphasis</em> and .</p>\n");
  for (absl::string_view gone : {"script", "alert", "onclick", "steal", "iframe"}) {
    EXPECT_FALSE(absl::StrContains(doc.html, gone)) << gone;
  }
}

TEST(DocHtmlTest, PlainTextIsPreformatted) {
  const RenderedDoc doc =
      RenderDoc("README", "pair 0.1.0\n==========\n\nUse <b> & \"enjoy\"\n", kNoDocs);
  EXPECT_EQ(doc.html,
            "<div id=\"pgxndoc\"><div id=\"pgxnbod\">\n"
            "<pre>pair 0.1.0\n==========\n\nUse &lt;b&gt; &amp; \"enjoy\"\n</pre>\n"
            "</div></div>\n");
  EXPECT_EQ(doc.title, "");
  EXPECT_EQ(doc.text, "pair 0.1.0 ========== Use <b> & \"enjoy\"");
}

TEST(DocHtmlTest, OtherMarkupsArePreformatted) {
  for (absl::string_view path : {"doc/pair.pod", "doc/pair.rst", "README.txt"}) {
    EXPECT_EQ(Body(RenderDoc(path, "=head1 <Name>\n", kNoDocs)),
              "<pre>=head1 &lt;Name&gt;\n</pre>\n")
        << path;
  }
}

TEST(DocHtmlTest, HtmlDocsAreSanitized) {
  const RenderedDoc doc = RenderDoc("doc/pair.html",
                                    "<html><head><title>T</title><style>x</style></head>"
                                    "<body><h1 class=x>Pair</h1><p>Text</p></body></html>",
                                    kNoDocs);
  EXPECT_EQ(Body(doc), "<h1 id=\"Pair\"><span id=\"pair\"></span>Pair</h1><p>Text</p>");
  EXPECT_EQ(doc.title, "Pair");
}

TEST(DocHtmlTest, HostileBytesStillRender) {
  std::mt19937 random(base::TestSeed(7));
  std::uniform_int_distribution<int> byte(0, 255);
  static constexpr absl::string_view kPieces[] = {
      "#", "\n", "`",        "```", "<",    ">",     "[",           "](",   ")", "*", "|",
      "-", "&",  "<script>", "~~",  "<h2>", "</h2>", "javascript:", "\xFF", " ", "a", "1."};
  std::uniform_int_distribution<size_t> pick(0, std::size(kPieces) - 1);
  for (int round = 0; round < 500; ++round) {
    std::string markdown;
    for (int n = 0; n < 300; ++n) {
      if (n % 7 == 0) {
        markdown += static_cast<char>(byte(random));
      } else {
        absl::StrAppend(&markdown, kPieces[pick(random)]);
      }
    }
    const RenderedDoc doc = RenderDoc("README.md", markdown, kNoDocs);
    ASSERT_TRUE(absl::StartsWith(doc.html, "<div id=\"pgxndoc\">")) << absl::CHexEscape(markdown);
    ASSERT_TRUE(absl::EndsWith(doc.html, "</div></div>\n")) << absl::CHexEscape(markdown);
    ASSERT_FALSE(absl::StrContains(doc.html, "<script")) << absl::CHexEscape(markdown);
  }
}

TEST(DocHtmlTest, MarkdownTooCostlyForCmarkIsShownAsText) {
  // Each would take cmark-gfm 0.29 seconds to minutes at this size.
  auto repeat = [](absl::string_view piece, size_t bytes) {
    std::string s;
    while (s.size() < bytes) absl::StrAppend(&s, piece);
    return s;
  };
  for (const std::string& markdown : {
           absl::StrCat("| a | b |\n|---|---|\n", repeat("|x", 2 << 20), "\n"),
           repeat("![[]()", 2 << 20),
           repeat("a@b.", 2 << 20),
       }) {
    const RenderedDoc doc = RenderDoc("README.md", markdown, kNoDocs);
    EXPECT_TRUE(absl::StartsWith(Body(doc), "<pre>")) << markdown.substr(0, 40);
  }
  // Ordinary tables, links and addresses still render.
  const RenderedDoc doc =
      RenderDoc("README.md",
                absl::StrCat("| a | b |\n|---|---|\n", repeat("| 1 | 2 |\n", 100000),
                             repeat("[a](b) ", 5000), repeat("x@example.com ", 5000)),
                kNoDocs);
  EXPECT_TRUE(absl::StartsWith(Body(doc), "<table>"));
}

// A doc shaped like doc/pair.md of pair 0.1.1 renders with PGXN's structure
// and ids (tests/fixtures/api-root/dist/pair/0.1.1/doc/pair.html).
TEST(DocHtmlTest, RendersPairDocLikePgxn) {
  constexpr absl::string_view kPairMd = R"(pair 0.1.1
==========

Synopsis
--------

    % SELECT pair('foo', 'bar');
        pair
    ------------
     (foo,bar)

     % SELECT 'foo' ~> 'bar';

Description
-----------

This library contains a single PostgreSQL extension, a key/value pair data
type called `pair`. It's just a simple thing, really: named "k" and "v".
See the [README](../README.md) and [hstore](https://www.postgresql.org/docs/current/static/hstore.html).

### Usage ###

Or by using the `~>` operator:

```sql
% SELECT 'foo' ~> 'bar';
```

Support
-------

This library is stored in an open [GitHub
repository](https://github.com/theory/kv-pair).

Author
------

[David E. Wheeler](https://justatheory.com/)

Copyright and License
---------------------

Copyright (c) 2010 David E. Wheeler.
)";
  const RenderedDoc doc = RenderDoc("doc/pair.md", kPairMd, {"README", "doc/pair"});
  EXPECT_TRUE(absl::StartsWith(doc.html,
                               "<div id=\"pgxndoc\"><div id=\"pgxntoc\"><h3>Contents</h3>"
                               "<ul class=\"pgxntocroot\">"))
      << doc.html;
  EXPECT_EQ(Toc(doc),
            "<ul class=\"pgxntocroot\">\n"
            "<li><a href=\"#pair.0.1.1\">pair 0.1.1</a>\n<ul>\n"
            "<li><a href=\"#Synopsis\">Synopsis</a></li>\n"
            "<li><a href=\"#Description\">Description</a>\n<ul>\n"
            "<li><a href=\"#Usage\">Usage</a></li>\n"
            "</ul>\n</li>\n"
            "<li><a href=\"#Support\">Support</a></li>\n"
            "<li><a href=\"#Author\">Author</a></li>\n"
            "<li><a href=\"#Copyright.and.License\">Copyright and License</a></li>\n"
            "</ul>\n</li>\n"
            "</ul>");
  const std::string body = Body(doc);
  for (absl::string_view heading :
       {"<h1 id=\"pair.0.1.1\"><span id=\"pair-011\"></span>pair 0.1.1</h1>",
        "<h2 id=\"Synopsis\"><span id=\"synopsis\"></span>Synopsis</h2>",
        "<h2 id=\"Description\"><span id=\"description\"></span>Description</h2>",
        "<h3 id=\"Usage\"><span id=\"usage\"></span>Usage</h3>",
        "<h2 id=\"Support\"><span id=\"support\"></span>Support</h2>",
        "<h2 id=\"Author\"><span id=\"author\"></span>Author</h2>",
        "<h2 id=\"Copyright.and.License\"><span id=\"copyright-and-license\"></span>Copyright and "
        "License</h2>"}) {
    EXPECT_TRUE(absl::StrContains(body, heading)) << heading << "\n" << body;
  }
  EXPECT_TRUE(absl::StrContains(body, "% SELECT 'foo' ~&gt; 'bar';")) << body;
  EXPECT_FALSE(absl::StrContains(body, "&amp;gt;")) << body;
  EXPECT_TRUE(absl::StrContains(body, "<a href=\"../README.html\">README</a>")) << body;
  EXPECT_TRUE(absl::StrContains(body, "It\u2019s just a simple thing")) << body;
  EXPECT_TRUE(absl::StrContains(body, "<code class=\"language-sql\">")) << body;
  EXPECT_EQ(doc.title, "pair 0.1.1");
  EXPECT_TRUE(absl::StartsWith(doc.text, "pair 0.1.1 Synopsis % SELECT pair('foo', 'bar');"))
      << doc.text;
}

}  // namespace
}  // namespace pgxn::indexer
