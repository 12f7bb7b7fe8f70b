#include "indexer/docs/html_sanitizer.h"

#include <cstddef>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/test_seed.h"
#include "base/utf8.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

struct Case {
  absl::string_view input;
  absl::string_view want;
};

void ExpectSanitized(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(SanitizeHtml(c.input), c.want) << "input: " << c.input;
  }
}

TEST(HtmlSanitizerTest, KeepsAllowedElements) {
  ExpectSanitized({
      {"<p>Hello <em>world</em></p>", "<p>Hello <em>world</em></p>"},
      {"<P CLASS=x>Hi</P>", "<p>Hi</p>"},
      {"<ul>\n<li>a</li>\n</ul>", "<ul>\n<li>a</li>\n</ul>"},
      {"<br><br/><hr >", "<br /><br /><hr />"},
      {"<blockquote><strong>x</strong></blockquote>",
       "<blockquote><strong>x</strong></blockquote>"},
      {"<details open><summary>s</summary>d</details>",
       "<details open=\"\"><summary>s</summary>d</details>"},
      {"<table><thead><tr><th align=\"left\">a</th></tr></thead>"
       "<tbody><tr><td align=RIGHT colspan=2 rowspan=\"x\">1</td></tr></tbody></table>",
       "<table><thead><tr><th align=\"left\">a</th></tr></thead>"
       "<tbody><tr><td align=\"right\" colspan=\"2\">1</td></tr></tbody></table>"},
      {"<ol start=\"3\" type=\"a\" reversed><li value=\"7\">x</li></ol>",
       "<ol start=\"3\" type=\"a\"><li value=\"7\">x</li></ol>"},
      {"<pre><code class=\"language-sql\">x</code></pre>",
       "<pre><code class=\"language-sql\">x</code></pre>"},
      {"<code class=\"evil x\">x</code>", "<code>x</code>"},
      {"<span class=\"language-c++\">x</span>", "<span class=\"language-c++\">x</span>"},
      {"<abbr title=\"PostgreSQL Extension Network\">PGXN</abbr>",
       "<abbr title=\"PostgreSQL Extension Network\">PGXN</abbr>"},
      {"<img src=\"logo.png\" alt='a \"logo\"' width=100 height=\"50%\" style=\"x\">",
       "<img src=\"logo.png\" alt=\"a &quot;logo&quot;\" width=\"100\" height=\"50%\" />"},
  });
}

TEST(HtmlSanitizerTest, DropsAttributesNotAllowed) {
  ExpectSanitized({
      {"<p onclick=\"evil()\">x</p>", "<p>x</p>"},
      {"<img src=x onerror=alert(1)>", "<img src=\"x\" />"},
      {"<h2 id=\"x\" class=\"language-x\" align=\"center\">T</h2>", "<h2>T</h2>"},
      {"<a href=\"x\" href=\"javascript:y\" name=\"n\" style=\"s\">x</a>", "<a href=\"x\">x</a>"},
      {"<div style=\"position:fixed\" class=\"pgxndoc\">x</div>", "<div>x</div>"},
      {"<img width=\"100px\" height=\"-1\">", "<img />"},
  });
}

TEST(HtmlSanitizerTest, DropsDangerousElementsWithTheirContent) {
  ExpectSanitized({
      {"<script>alert(1)</script>ok", "ok"},
      {"<SCRIPT type=x>alert('</p>')</script >ok", "ok"},
      {"<script>never closed <p>x</p>", ""},
      {"<style>p { color: red }</style>ok", "ok"},
      {"<iframe src=\"https://evil\"><p>inner</p></iframe>ok", "ok"},
      {"<object data=x><param name=a><embed src=y>fallback</object>ok", "ok"},
      {"<form action=x><input value=x><button>b</button><select><option>o</select></form>ok", "ok"},
      {"a<input type=checkbox>b<embed src=x>c", "abc"},
      {"<textarea><p>x</p></textarea>y", "y"},
      {"<title>T</title><meta charset=utf-8><link rel=x href=y><base href=z>y", "y"},
      {"<template><p>x</p></template>y", "y"},
      {"<noscript><p>x</p></noscript>y", "y"},
      {"<svg><script>x</script><svg><a href=x>in</a></svg>y</svg>ok", "ok"},
      {"<svg/>ok<math><mi>x</mi></math>", "ok"},
      {"</script></svg>stray ends", "stray ends"},
  });
}

TEST(HtmlSanitizerTest, KeepsTextOfUnknownElements) {
  ExpectSanitized({
      {"<font color=red>kept</font>", "kept"},
      {"<center><p>x</p></center>", "<p>x</p>"},
      {"<html><head></head><body><p>x</p></body></html>", "<p>x</p>"},
      {"<custom-element attr=1>text</custom-element>", "text"},
  });
}

TEST(HtmlSanitizerTest, DropsCommentsAndDeclarations) {
  ExpectSanitized({
      {"a<!-- comment <script>x</script> -->b", "ab"},
      {"a<!-->b", "ab"},
      {"a<!--->b", "ab"},
      {"a<!-- never closed <p>x</p>", "a"},
      {"<!DOCTYPE html>a", "a"},
      {"<![CDATA[x]]>a", "a"},
      {"<?xml version=\"1.0\"?>a", "a"},
  });
}

TEST(HtmlSanitizerTest, EscapesStrayLessThan) {
  ExpectSanitized({
      {"a < b", "a &lt; b"},
      {"a <3 b", "a &lt;3 b"},
      {"<<p>>", "&lt;<p>&gt;</p>"},
      {"x <p", "x &lt;p"},
      {"x </", "x &lt;/"},
      {"x </>", "x &lt;/&gt;"},
      {"<a href=\"x\" <b>y</b>", "&lt;a href=\"x\" <b>y</b>"},
      // Strict: a '<' inside a quoted value means no tag.
      {"<a title=\"a<b\">x</a>", "&lt;a title=\"ax"},
      {"<p title=\"unterminated>x", "&lt;p title=\"unterminated&gt;x"},
  });
}

TEST(HtmlSanitizerTest, BalancesElements) {
  ExpectSanitized({
      {"<p>unclosed", "<p>unclosed</p>"},
      {"</p>stray</em>", "stray"},
      {"<b><i>x</b>y</i>", "<b><i>x</i></b>y"},
      {"<ul><li>a<li>b</ul>", "<ul><li>a<li>b</li></li></ul>"},
      {"</br>x</img>", "x"},
      {"<div><div></div>", "<div><div></div></div>"},
  });
}

TEST(HtmlSanitizerTest, LimitsDepth) {
  std::string deep;
  for (int i = 0; i < kMaxDepth + 50; ++i) deep += "<div>";
  deep += "x";
  const std::string out = SanitizeHtml(deep);
  std::string want;
  for (int i = 0; i < kMaxDepth; ++i) want += "<div>";
  want += "x";
  for (int i = 0; i < kMaxDepth; ++i) want += "</div>";
  EXPECT_EQ(out, want);
}

TEST(HtmlSanitizerTest, DecodesAndReescapesText) {
  ExpectSanitized({
      {"&lt;script&gt;", "&lt;script&gt;"},
      {"&copy; &amp; &bogus; & &amp", "\u00A9 &amp; &amp;bogus; &amp; &amp;amp"},
      {"&#65;&#x42;&#X43;&#68", "ABCD"},
      {"&#0;|&#xD800;|&#1114112;|&#99999999999999999999;", "\uFFFD|\uFFFD|\uFFFD|\uFFFD"},
      {"&rsquo;&mdash;&hellip;&alpha;&Omega;&nbsp;", "\u2019\u2014\u2026\u03B1\u03A9\u00A0"},
      {"\"quotes\" 'stay'", "\"quotes\" 'stay'"},
      {absl::string_view("a\x00"
                         "b\x01\x7F"
                         "c\td\r\ne",
                         11),
       "abc\td\r\ne"},
      {"bad \xFF\xC0\x80 utf8 \xED\xA0\x80 ok \xC3\xA9",
       "bad \uFFFD\uFFFD\uFFFD utf8 "
       "\uFFFD\uFFFD\uFFFD ok \u00E9"},
      {"\xE2\x82", "\uFFFD\uFFFD"},
  });
}

TEST(HtmlSanitizerTest, EscapesAttributeValues) {
  ExpectSanitized({
      {"<a href=\"https://x.org/?a=1&amp;b=2\" title='t\"q&lt;'>x</a>",
       "<a href=\"https://x.org/?a=1&amp;b=2\" title=\"t&quot;q&lt;\">x</a>"},
      {"<a title=\"a>b\">x</a>", "<a title=\"a&gt;b\">x</a>"},
      {"<a title=a&amp;b>x</a>", "<a title=\"a&amp;b\">x</a>"},
  });
}

TEST(HtmlSanitizerTest, DropsUnsafeUrls) {
  ExpectSanitized({
      {"<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"JaVaScRiPt:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"&#106;avascript:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"&#x6A;avascript:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"&#106avascript:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"&#0000106;&#97;vascript:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"java&#x09;script:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"java\nscript:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"java\x01script:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"  javascript:alert(1)\">x</a>", "<a>x</a>"},
      {"<a href=\"javascript&colon;alert(1)\">x</a>",
       "<a href=\"javascript&amp;colon;alert(1)\">x</a>"},
      {"<a href=\"vbscript:msgbox\">x</a>", "<a>x</a>"},
      {"<a href=\"data:text/html,<b>\">x</a>", "&lt;a href=\"data:text/html,<b>\"&gt;x</b>"},
      {"<a href=\"data:text/html;base64,PGI+\">x</a>", "<a>x</a>"},
      {"<img src=\"data:image/png;base64,AAAA\" alt=\"a\">", "<img alt=\"a\" />"},
      {"<img src=\"file:///etc/passwd\">", "<img />"},
  });
}

TEST(HtmlSanitizerTest, KeepsSafeUrls) {
  ExpectSanitized({
      {"<a href=\"https://pgxn.org/\">x</a>", "<a href=\"https://pgxn.org/\">x</a>"},
      {"<a href=\"HTTP://X.ORG\">x</a>", "<a href=\"HTTP://X.ORG\">x</a>"},
      {"<a href=\"mailto:a@b.c\">x</a>", "<a href=\"mailto:a@b.c\">x</a>"},
      {"<a href=\"ftp://x.org/f\">x</a>", "<a href=\"ftp://x.org/f\">x</a>"},
      {"<a href=\"../doc/x.md#frag\">x</a>", "<a href=\"../doc/x.md#frag\">x</a>"},
      {"<a href=\"#Synopsis\">x</a>", "<a href=\"#Synopsis\">x</a>"},
      {"<a href=\"//cdn.example.com/x\">x</a>", "<a href=\"//cdn.example.com/x\">x</a>"},
      {"<a href=\"a/b:c?d:e#f:g\">x</a>", "<a href=\"a/b:c?d:e#f:g\">x</a>"},
      {"<a href=\" x.html \">x</a>", "<a href=\"x.html\">x</a>"},
      {"<a href=\"\">x</a>", "<a href=\"\">x</a>"},
  });
}

TEST(HtmlSanitizerTest, IsSafeUrl) {
  struct UrlCase {
    absl::string_view url;
    bool safe;
  };
  for (const UrlCase& c : std::vector<UrlCase>{
           {"https://x", true},
           {"http://x", true},
           {"mailto:x@y", true},
           {"ftp://x", true},
           {"relative/path.md", true},
           {"#frag", true},
           {"?q=a:b", true},
           {"/abs:olute", true},
           {"", true},
           {"javascript:x", false},
           {" \t\njava\tscript:x", false},
           {"JAVASCRIPT:x", false},
           {"vbscript:x", false},
           {"data:x", false},
           {"file:///x", false},
           {"foo:bar", false},
           {"\xC2\xA0javascript:x", false},
       }) {
    EXPECT_EQ(IsSafeUrl(c.url), c.safe) << "url: " << c.url;
  }
}

TEST(HtmlSanitizerTest, RewritesKeptLinksAndImagesOnly) {
  std::vector<std::string> seen;
  const std::string out = SanitizeHtml(
      "<a href=\"pair.md\">p</a><a href=\"javascript:x\">j</a><img src=\"logo.png\">"
      "<img src=\"javascript:y\">",
      [&](absl::string_view url, UrlKind kind) {
        seen.push_back(absl::StrCat(kind == UrlKind::kImage ? "image " : "link ", url));
        return absl::StrCat("rewritten/", url);
      });
  EXPECT_EQ(out,
            "<a href=\"rewritten/pair.md\">p</a><a>j</a><img src=\"rewritten/logo.png\" /><img />");
  EXPECT_EQ(seen, (std::vector<std::string>{"link pair.md", "image logo.png"}));
}

TEST(HtmlSanitizerTest, DropsUnsafeRewrites) {
  EXPECT_EQ(SanitizeHtml("<a href=\"x\">x</a>",
                         [](absl::string_view, UrlKind) { return std::string("javascript:y"); }),
            "<a>x</a>");
}

TEST(HtmlSanitizerTest, HtmlToText) {
  for (const Case& c : std::vector<Case>{
           {"<p>a</p><p>b &amp; c</p>", "a b & c"},
           {"foo<em>bar</em> baz", "foobar baz"},
           {"<h1>Title</h1>\n\n<p>Some  text,\n more.</p>\n", "Title Some text, more."},
           {"<script>x</script>y<style>z</style>", "y"},
           {"a&nbsp;&nbsp; b\n\nc", "a b c"},
           {"<pre>x &lt; y</pre>", "x < y"},
           {"a<br />b<!-- c -->d", "a bd"},
           {"", ""},
           {"  \n ", ""},
       }) {
    EXPECT_EQ(HtmlToText(c.input), c.want) << "input: " << c.input;
  }
}

// --- Hostile input -----------------------------------------------------------

const absl::flat_hash_set<std::string>& AllowedNames() {
  static const auto* const kNames = new absl::flat_hash_set<std::string>{
      "p",      "br",      "hr",    "wbr",        "h1",      "h2",      "h3",     "h4",
      "h5",     "h6",      "em",    "strong",     "b",       "i",       "u",      "s",
      "strike", "del",     "ins",   "code",       "pre",     "kbd",     "samp",   "var",
      "sub",    "sup",     "tt",    "blockquote", "ul",      "ol",      "li",     "dl",
      "dt",     "dd",      "table", "thead",      "tbody",   "tfoot",   "tr",     "th",
      "td",     "caption", "a",     "img",        "div",     "span",    "abbr",   "cite",
      "q",      "small",   "mark",  "dfn",        "details", "summary", "figure", "figcaption"};
  return *kNames;
}

const absl::flat_hash_set<absl::string_view>& AllowedAttributes() {
  static const auto* const kNames = new absl::flat_hash_set<absl::string_view>{
      "href",    "title",   "src",   "alt",  "width", "height", "align",
      "colspan", "rowspan", "start", "type", "value", "class",  "open"};
  return *kNames;
}

bool IsVoid(absl::string_view name) {
  return name == "br" || name == "hr" || name == "wbr" || name == "img";
}

// Checks the output contract of html_sanitizer.h on `out`; returns what is
// wrong, or "".
std::string ContractViolation(absl::string_view out) {
  if (!base::IsValidUtf8(out)) return "invalid UTF-8";
  std::vector<std::string> open;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return absl::StrCat("control character at ", i);
    }
    if (c == '>') return absl::StrCat("bare '>' at ", i);
    if (c == '&') {
      const absl::string_view rest = out.substr(i);
      if (!absl::StartsWith(rest, "&amp;") && !absl::StartsWith(rest, "&lt;") &&
          !absl::StartsWith(rest, "&gt;") && !absl::StartsWith(rest, "&quot;")) {
        return absl::StrCat("bare '&' at ", i);
      }
      continue;
    }
    if (c != '<') continue;
    const size_t gt = out.find('>', i);
    if (gt == absl::string_view::npos) return absl::StrCat("unterminated tag at ", i);
    absl::string_view tag = out.substr(i + 1, gt - i - 1);
    i = gt;
    const bool closing = absl::ConsumePrefix(&tag, "/");
    const size_t space = tag.find(' ');
    const std::string name(tag.substr(0, space));
    absl::string_view attributes =
        space == absl::string_view::npos ? absl::string_view() : tag.substr(space);
    if (!AllowedNames().contains(name)) return absl::StrCat("element ", name);
    if (closing) {
      if (!attributes.empty()) return absl::StrCat("attributes in </", name, ">");
      if (open.empty() || open.back() != name) return absl::StrCat("unbalanced </", name, ">");
      open.pop_back();
      continue;
    }
    if (IsVoid(name) != absl::ConsumeSuffix(&attributes, " /")) {
      return absl::StrCat("void or not: ", tag);
    }
    if (!IsVoid(name)) {
      open.push_back(name);
      if (open.size() > static_cast<size_t>(kMaxDepth)) return "too deep";
    }
    while (!attributes.empty()) {
      if (!absl::ConsumePrefix(&attributes, " ")) return absl::StrCat("no space in ", tag);
      const size_t equals = attributes.find("=\"");
      const size_t end_quote =
          equals == absl::string_view::npos ? equals : attributes.find('"', equals + 2);
      if (end_quote == absl::string_view::npos) return absl::StrCat("unquoted in ", tag);
      const absl::string_view attribute = attributes.substr(0, equals);
      const std::string value =
          absl::StrReplaceAll(attributes.substr(equals + 2, end_quote - equals - 2),
                              {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}});
      attributes.remove_prefix(end_quote + 1);
      if (!AllowedAttributes().contains(attribute)) return absl::StrCat("attribute in ", tag);
      if ((attribute == "href" || attribute == "src") && !IsSafeUrl(value)) {
        return absl::StrCat("unsafe URL in ", tag);
      }
    }
  }
  if (!open.empty()) return absl::StrCat("unclosed <", open.back(), ">");
  return "";
}

TEST(HtmlSanitizerTest, RandomBytesKeepTheContract) {
  // Bytes biased towards HTML syntax so that tags, attributes, references and
  // dropped elements come up often; the seed is fixed so failures reproduce.
  static constexpr absl::string_view kPieces[] = {"<",
                                                  ">",
                                                  "/",
                                                  "=",
                                                  "\"",
                                                  "'",
                                                  "&",
                                                  "#",
                                                  ";",
                                                  "!",
                                                  "-",
                                                  " ",
                                                  "\n",
                                                  "a",
                                                  "p",
                                                  "b",
                                                  "x",
                                                  "<p>",
                                                  "</p>",
                                                  "<a href=",
                                                  "javascript:",
                                                  "&#106;",
                                                  "<script>",
                                                  "</script>",
                                                  "<svg>",
                                                  "</svg>",
                                                  "<!--",
                                                  "-->",
                                                  "<div>",
                                                  "</div>",
                                                  "<img src=",
                                                  " onclick=",
                                                  "<style>",
                                                  "&amp",
                                                  "&lt;",
                                                  "\xFF",
                                                  "\xC3",
                                                  "\xA9",
                                                  absl::string_view("\0", 1),
                                                  "<h2>",
                                                  "</h2>",
                                                  "<table>",
                                                  "<td colspan=",
                                                  "<textarea>",
                                                  "<?",
                                                  "<!x",
                                                  "</",
                                                  "&#x",
                                                  "<li>",
                                                  "</ul>"};
  std::mt19937 random(base::TestSeed(20240601));
  std::uniform_int_distribution<size_t> pick(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> length(0, 200);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    for (int n = length(random); n > 0; --n) {
      if (n % 5 == 0) {
        input += static_cast<char>(byte(random));
      } else {
        absl::StrAppend(&input, kPieces[pick(random)]);
      }
    }
    const std::string out = SanitizeHtml(input);
    EXPECT_EQ(ContractViolation(out), "")
        << "input: " << absl::CHexEscape(input) << "\noutput: " << out;
    EXPECT_EQ(SanitizeHtml(out), out) << "not idempotent, input: " << absl::CHexEscape(input);
    const std::string text = HtmlToText(input);
    EXPECT_TRUE(base::IsValidUtf8(text)) << "input: " << absl::CHexEscape(input);
  }
}

TEST(HtmlSanitizerTest, EveryTruncationKeepsTheContract) {
  const std::string html =
      "<!DOCTYPE html><h1 id=x>T&amp;t</h1><p class=\"c\" title='a > b'>x &copy; y<br/>"
      "<a href=\"&#106;avascript:1\" onclick=\"z\">j</a><a href=\"pair.md#s\">p</a>"
      "<script>if (a < b) {}</script><!-- c --><table><tr><td align=\"left\">1</td></tr>"
      "</table><svg><g/></svg><img src=\"data:x\" alt=\"i\"/><pre><code class=\"language-sql\">"
      "SELECT 1 &lt; 2;</code></pre></p>";
  for (size_t n = 0; n <= html.size(); ++n) {
    const std::string out = SanitizeHtml(absl::string_view(html).substr(0, n));
    EXPECT_EQ(ContractViolation(out), "") << "prefix: " << html.substr(0, n) << "\noutput: " << out;
  }
}

TEST(HtmlSanitizerTest, PathologicalInputsRunInLinearTime) {
  // Each is about a megabyte; a quadratic tokenizer would take minutes on them.
  auto repeat = [](absl::string_view piece) {
    std::string s;
    while (s.size() < (1 << 20)) absl::StrAppend(&s, piece);
    return s;
  };
  for (const std::string& input : {
           repeat("<"),
           repeat("<a"),
           repeat("<a x=\""),
           repeat("<a x='<"),
           repeat("</"),
           repeat("<!-"),
           repeat("<div>"),
           repeat("</div>"),
           repeat("<b><i></b>"),
           repeat("<svg>"),
           repeat("<a b "),
           repeat("<script>"),
           repeat("&#"),
           repeat("&amp"),
       }) {
    const std::string out = SanitizeHtml(input);
    EXPECT_EQ(ContractViolation(out), "") << "input starts: " << input.substr(0, 20);
    HtmlToText(input);
  }
}

}  // namespace
}  // namespace pgxn::indexer
