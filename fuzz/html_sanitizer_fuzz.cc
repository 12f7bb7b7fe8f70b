// Fuzzes the HTML sanitizer (indexer/docs/html_sanitizer.h) that every doc of
// every release goes through before a page shows it. Input: any bytes, as
// HTML. Checks the header's output contract on SanitizeHtml's result (the
// same check as html_sanitizer_test.cc's RandomBytesKeepTheContract, here on
// inputs a fuzzer steers), that sanitizing is idempotent, that a rewriter's
// unsafe URL is dropped, and that HtmlToText gives valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/utf8.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "indexer/docs/html_sanitizer.h"

namespace {

using pgxn::indexer::IsSafeUrl;

const absl::flat_hash_set<absl::string_view>& AllowedNames() {
  static const auto* const kNames = new absl::flat_hash_set<absl::string_view>{
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

// The output contract of html_sanitizer.h; aborts naming the broken rule.
void CheckContract(absl::string_view out) {
  FUZZ_CHECK(pgxn::base::IsValidUtf8(out), "valid UTF-8");
  std::vector<absl::string_view> open;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r',
               "no control characters but tab, LF and CR");
    FUZZ_CHECK(c != '>', "no '>' outside a tag");
    if (c == '&') {
      const absl::string_view rest = out.substr(i);
      FUZZ_CHECK(absl::StartsWith(rest, "&amp;") || absl::StartsWith(rest, "&lt;") ||
                     absl::StartsWith(rest, "&gt;") || absl::StartsWith(rest, "&quot;"),
                 "only &amp; &lt; &gt; &quot; references");
      continue;
    }
    if (c != '<') continue;
    const size_t gt = out.find('>', i);
    FUZZ_CHECK(gt != absl::string_view::npos, "every '<' starts a tag that ends");
    absl::string_view tag = out.substr(i + 1, gt - i - 1);
    i = gt;
    const bool closing = absl::ConsumePrefix(&tag, "/");
    const size_t space = tag.find(' ');
    const absl::string_view name = tag.substr(0, space);
    absl::string_view attributes =
        space == absl::string_view::npos ? absl::string_view() : tag.substr(space);
    FUZZ_CHECK(AllowedNames().contains(name), "only allowed elements");
    if (closing) {
      FUZZ_CHECK(attributes.empty(), "no attributes in an end tag");
      FUZZ_CHECK(!open.empty() && open.back() == name, "balanced elements");
      open.pop_back();
      continue;
    }
    FUZZ_CHECK(IsVoid(name) == absl::ConsumeSuffix(&attributes, " /"),
               "void elements, and only they, are written <x />");
    if (!IsVoid(name)) {
      open.push_back(name);
      FUZZ_CHECK(open.size() <= static_cast<size_t>(pgxn::indexer::kMaxDepth),
                 "at most kMaxDepth open elements");
    }
    while (!attributes.empty()) {
      FUZZ_CHECK(absl::ConsumePrefix(&attributes, " "), "attributes separated by a space");
      const size_t equals = attributes.find("=\"");
      const size_t end_quote =
          equals == absl::string_view::npos ? equals : attributes.find('"', equals + 2);
      FUZZ_CHECK(end_quote != absl::string_view::npos, "attribute values double-quoted");
      const absl::string_view attribute = attributes.substr(0, equals);
      const std::string value =
          absl::StrReplaceAll(attributes.substr(equals + 2, end_quote - equals - 2),
                              {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}});
      attributes.remove_prefix(end_quote + 1);
      FUZZ_CHECK(AllowedAttributes().contains(attribute), "only allowed attributes");
      if (attribute == "href" || attribute == "src") {
        FUZZ_CHECK(IsSafeUrl(value), "only safe URLs");
      }
    }
  }
  FUZZ_CHECK(open.empty(), "every element closed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view html = pgxn::fuzz::AsText(data, size);
  const std::string out = pgxn::indexer::SanitizeHtml(html);
  CheckContract(out);
  FUZZ_CHECK(pgxn::indexer::SanitizeHtml(out) == out, "sanitizing is idempotent");

  // A rewriter that returns something unsafe for every kept URL: none may
  // reach the output.
  const std::string rewritten = pgxn::indexer::SanitizeHtml(
      html, [](absl::string_view url, pgxn::indexer::UrlKind) -> std::string {
        return "javascript:alert(1)//" + std::string(url);
      });
  CheckContract(rewritten);

  FUZZ_CHECK(pgxn::base::IsValidUtf8(pgxn::indexer::HtmlToText(html)), "text is valid UTF-8");
  return 0;
}
