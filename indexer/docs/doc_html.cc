#include "indexer/docs/doc_html.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/const_init.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "base/escape.h"
#include "base/utf8.h"
#include "indexer/docs/html_sanitizer.h"

namespace pgxn::indexer {
namespace {

absl::string_view Basename(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

absl::string_view Dirname(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? absl::string_view() : path.substr(0, slash);
}

// --- Markdown through cmark-gfm ----------------------------------------------

// cmark-gfm 0.29 adds and removes its extensions' special characters in a
// global table around every parse, so parses must not overlap.
ABSL_CONST_INIT absl::Mutex cmark_mutex(absl::kConstInit);

struct CmarkParserDeleter {
  void operator()(cmark_parser* parser) const { cmark_parser_free(parser); }
};
struct CmarkNodeDeleter {
  void operator()(cmark_node* node) const { cmark_node_free(node); }
};
struct CmarkIterDeleter {
  void operator()(cmark_iter* iter) const { cmark_iter_free(iter); }
};
struct CmarkStringDeleter {
  void operator()(char* s) const { cmark_get_default_mem_allocator()->free(s); }
};

// The sanitizer drops form controls, which would leave task list items
// without their box: put its state in the text instead.
void MarkTaskListItems(cmark_node* document) {
  std::unique_ptr<cmark_iter, CmarkIterDeleter> iter(cmark_iter_new(document));
  std::vector<cmark_node*> items;
  for (cmark_event_type event; (event = cmark_iter_next(iter.get())) != CMARK_EVENT_DONE;) {
    cmark_node* node = cmark_iter_get_node(iter.get());
    if (event == CMARK_EVENT_ENTER && cmark_node_get_type(node) == CMARK_NODE_ITEM &&
        absl::string_view(cmark_node_get_type_string(node)) == "tasklist") {
      items.push_back(node);
    }
  }
  for (cmark_node* item : items) {
    cmark_node* paragraph = cmark_node_first_child(item);
    if (paragraph == nullptr || cmark_node_get_type(paragraph) != CMARK_NODE_PARAGRAPH) continue;
    cmark_node* marker = cmark_node_new(CMARK_NODE_TEXT);
    cmark_node_set_literal(marker, cmark_gfm_extensions_get_tasklist_item_checked(item)
                                       ? "\xE2\x98\x91 "    // U+2611 ballot box with check
                                       : "\xE2\x98\x90 ");  // U+2610 ballot box
    if (!cmark_node_prepend_child(paragraph, marker)) cmark_node_free(marker);
  }
}

// Parses and renders `markdown`; cmark_mutex must be held for all of it,
// which the compiler checks (clang's -Wthread-safety, ops/check-locking).
std::string MarkdownToHtmlLocked(absl::string_view markdown, int options)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(cmark_mutex) {
  std::unique_ptr<cmark_parser, CmarkParserDeleter> parser(cmark_parser_new(options));
  for (const char* name : {"table", "strikethrough", "autolink", "tasklist"}) {
    if (cmark_syntax_extension* extension = cmark_find_syntax_extension(name)) {
      cmark_parser_attach_syntax_extension(parser.get(), extension);
    }
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, CmarkNodeDeleter> document(cmark_parser_finish(parser.get()));
  MarkTaskListItems(document.get());
  std::unique_ptr<char, CmarkStringDeleter> html(
      cmark_render_html(document.get(), options, cmark_parser_get_syntax_extensions(parser.get())));
  return std::string(html.get());
}

std::string MarkdownToHtml(absl::string_view markdown) {
  static const bool registered = [] {
    cmark_gfm_core_extensions_ensure_registered();
    return true;
  }();
  (void)registered;
  // UNSAFE: inline HTML and every URL reach the sanitizer, which decides. No
  // tagfilter either: it turns <script> into visible text, where the
  // sanitizer removes the element with its content.
  const int options = CMARK_OPT_UNSAFE | CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8;
  absl::MutexLock lock(&cmark_mutex);
  return MarkdownToHtmlLocked(markdown, options);
}

// Whether cmark-gfm 0.29.0.gfm.6 (Debian 12's) would take superlinear time on
// `markdown`: a table row costs time quadratic in its cells, and so do image
// brackets and email autolinks in their number per document (measured: a
// 160 KB row of 40,000 cells takes 7 s, 240 KB of "![[]()" 5 s). An uploader
// must not be able to stall the indexer, and no real doc comes near these
// limits, so such a file is shown as text instead.
bool TooCostlyForCmark(absl::string_view markdown) {
  constexpr size_t kMaxPipesPerLine = 256;
  constexpr size_t kMaxBrackets = 20000;
  constexpr size_t kMaxAtSigns = 20000;
  size_t pipes_in_line = 0, brackets = 0, at_signs = 0;
  for (char c : markdown) {
    switch (c) {
      case '\n':
      case '\r':
        pipes_in_line = 0;
        break;
      case '|':
        if (++pipes_in_line > kMaxPipesPerLine) return true;
        break;
      case '[':
        if (++brackets > kMaxBrackets) return true;
        break;
      case '@':
        if (++at_signs > kMaxAtSigns) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

// --- Links between docs ------------------------------------------------------

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The URL to write for `url`, found in a link (or an image) of the doc at
// `doc_path`: a relative link to another doc of the release points at that
// doc's page; a relative link or image naming another file or directory of
// the release points at it under /src/. Anything else is left as written.
std::string RewriteUrl(absl::string_view doc_path, absl::string_view url, UrlKind kind,
                       const DocContext& context) {
  const std::string unchanged(url);
  if (url.empty() || url[0] == '/' || url[0] == '#') return unchanged;
  const size_t path_end = std::min(url.find_first_of("?#"), url.size());
  const absl::string_view path = url.substr(0, path_end);
  const absl::string_view suffix = url.substr(path_end);
  const size_t colon = path.find(':');
  if (colon != absl::string_view::npos && colon < path.find('/')) return unchanged;  // a scheme
  if (path.empty()) return unchanged;

  std::vector<std::string> segments = absl::StrSplit(Dirname(doc_path), '/', absl::SkipEmpty());
  for (absl::string_view segment : absl::StrSplit(PercentDecode(path), '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (segments.empty()) return unchanged;  // outside the release
      segments.pop_back();
      continue;
    }
    segments.emplace_back(segment);
  }
  const std::string target = absl::StrJoin(segments, "/");
  const bool names_directory = path.back() == '/';
  if (kind == UrlKind::kLink && !names_directory && MarkupOf(target) != Markup::kNone &&
      context.docpaths.contains(DocPath(target))) {
    // Swap the extension as written, so the rest of the href keeps its
    // encoding; give up if that encoding hides where the extension is.
    const absl::string_view file = Basename(path);
    const std::string stem = DocPath(file);
    if (PercentDecode(stem) != DocPath(PercentDecode(file))) return unchanged;
    return absl::StrCat(path.substr(0, path.size() - file.size()), stem, ".html", suffix);
  }
  if (context.source_url.empty()) return unchanged;
  if (context.directories.contains(target) || (target.empty() && names_directory)) {
    return absl::StrCat(context.source_url, base::PercentEncodePath(target),
                        target.empty() ? "" : "/", suffix);
  }
  if (!names_directory && context.files.contains(target)) {
    return absl::StrCat(context.source_url, base::PercentEncodePath(target), suffix);
  }
  return unchanged;
}

// --- Headings and the table of contents --------------------------------------

struct Heading {
  int level;
  size_t tag_begin;  // the `<hN>` start tag in the body
  size_t tag_end;
  std::string text;
  std::string id;    // pgxn.org's, h1-h3 only
  std::string slug;  // GitHub's, when it is no other id of the doc
};

// The level of `tag` if it is exactly `<hN>` or `</hN>`, else 0.
int HeadingTagLevel(absl::string_view tag, bool& closing) {
  closing = absl::ConsumePrefix(&tag, "</");
  if (!closing && !absl::ConsumePrefix(&tag, "<")) return 0;
  if (tag.size() != 3 || tag[0] != 'h' || tag[1] < '1' || tag[1] > '6' || tag[2] != '>') return 0;
  return tag[1] - '0';
}

// The outermost headings of a sanitized body, in order. Relies on the
// sanitizer's output contract: every '<' starts a tag, the next '>' ends it,
// headings have no attributes, and elements are balanced.
std::vector<Heading> FindHeadings(absl::string_view body) {
  std::vector<Heading> headings;
  int open_level = 0;  // of the heading being read, 0 if none
  int nesting = 0;     // open elements of that same level
  size_t text_begin = 0;
  for (size_t lt = body.find('<'); lt != absl::string_view::npos; lt = body.find('<', lt + 1)) {
    const size_t gt = body.find('>', lt);
    if (gt == absl::string_view::npos) break;
    bool closing;
    const int level = HeadingTagLevel(body.substr(lt, gt + 1 - lt), closing);
    if (level == 0) continue;
    if (open_level == 0) {
      if (!closing) {
        headings.push_back(Heading{level, lt, gt + 1, "", "", ""});
        open_level = level;
        nesting = 1;
        text_begin = gt + 1;
      }
      continue;
    }
    if (level != open_level) continue;
    if (!closing) {
      ++nesting;
    } else if (--nesting == 0) {
      headings.back().text = HtmlToText(body.substr(text_begin, lt - text_begin));
      open_level = 0;
    }
  }
  return headings;
}

// Whether the code point counts as a letter or digit in a GitHub anchor.
// Non-ASCII letters do; punctuation and symbols outside ASCII are removed as
// ASCII ones are, so that "What’s new" (smart quotes) and "What's new" get
// the same anchor.
bool IsSlugCodePoint(uint32_t cp) {
  if (cp < 0x80) return absl::ascii_isalnum(static_cast<unsigned char>(cp));
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;  // Latin-1 punctuation, symbols
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;    // general punctuation .. arrows, symbols
  if (cp >= 0x3000 && cp <= 0x303F) return false;    // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;    // CJK compatibility forms
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;    // fullwidth punctuation
  if (cp >= 0xFFF0 && cp <= 0xFFFF) return false;    // specials, U+FFFD
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;  // emoji and pictographs
  return true;
}

// Gives h1-h3 pgxn.org's ids, and every heading GitHub's anchor where that is
// no id the doc already has (the wrapper's, or another heading's).
void AssignIds(std::vector<Heading>& headings) {
  absl::flat_hash_set<std::string> used = {"pgxndoc", "pgxntoc", "pgxnbod"};
  absl::flat_hash_map<std::string, int> pgxn_seen;
  for (Heading& heading : headings) {
    if (heading.level > 3) continue;
    heading.id = PgxnHeadingId(heading.text, pgxn_seen);
    used.insert(heading.id);
  }
  absl::flat_hash_map<std::string, int> slug_seen;
  for (Heading& heading : headings) {
    std::string slug = GithubSlug(heading.text, slug_seen);
    if (slug.empty() || !used.insert(slug).second) continue;
    heading.slug = std::move(slug);
  }
}

std::string InsertIds(absl::string_view body, const std::vector<Heading>& headings) {
  std::string out;
  out.reserve(body.size() + headings.size() * 32);
  size_t copied = 0;
  for (const Heading& heading : headings) {
    if (heading.id.empty() && heading.slug.empty()) continue;
    absl::StrAppend(&out, body.substr(copied, heading.tag_begin - copied), "<h", heading.level,
                    " id=\"", base::EscapeHtml(heading.id.empty() ? heading.slug : heading.id),
                    "\">");
    if (!heading.id.empty() && !heading.slug.empty()) {
      absl::StrAppend(&out, "<span id=\"", base::EscapeHtml(heading.slug), "\"></span>");
    }
    copied = heading.tag_end;
  }
  absl::StrAppend(&out, body.substr(copied));
  return out;
}

// The nested lists of the table of contents, or "" without h1-h3. A heading
// nests under the nearest earlier one of a smaller level (h3 right under an
// h1 too); an h2 before any h1 sits at the top.
std::string TableOfContents(const std::vector<Heading>& headings) {
  struct OpenItem {
    int level;
    bool has_list;
  };
  std::vector<OpenItem> open;
  std::string out;
  auto close_item = [&] {
    if (open.back().has_list) out += "</ul>\n";
    out += "</li>\n";
    open.pop_back();
  };
  for (const Heading& heading : headings) {
    if (heading.id.empty()) continue;
    while (!open.empty() && open.back().level >= heading.level) close_item();
    if (!open.empty() && !open.back().has_list) {
      out += "\n<ul>\n";
      open.back().has_list = true;
    }
    absl::StrAppend(&out, "<li><a href=\"#", base::EscapeHtml(heading.id), "\">",
                    base::EscapeHtml(heading.text), "</a>");
    open.push_back(OpenItem{heading.level, false});
  }
  if (out.empty()) return out;
  while (!open.empty()) close_item();
  return absl::StrCat("<div id=\"pgxntoc\"><h3>Contents</h3><ul class=\"pgxntocroot\">\n", out,
                      "</ul></div>\n");
}

}  // namespace

std::string DocPath(absl::string_view path) {
  const size_t slash = path.rfind('/');
  const size_t file_begin = slash == absl::string_view::npos ? 0 : slash + 1;
  const size_t dot = path.rfind('.');
  if (dot == absl::string_view::npos || dot <= file_begin) return std::string(path);
  return std::string(path.substr(0, dot));
}

std::string PgxnHeadingId(absl::string_view text, absl::flat_hash_map<std::string, int>& seen) {
  std::string id;
  id.reserve(text.size() + 8);
  if (text.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(text[0]))) id.push_back('L');
  bool in_run = false;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '_' || c == ':' || c == '.' || c == '-') {
      id.push_back(c);
      in_run = false;
    } else if (!in_run) {
      id.push_back('.');
      in_run = true;
    }
  }
  const int repeats = seen[id]++;
  if (repeats > 0) absl::StrAppend(&id, repeats);
  return id;
}

std::string GithubSlug(absl::string_view text, absl::flat_hash_map<std::string, int>& seen) {
  std::string slug;
  for (size_t i = 0; i < text.size();) {
    const size_t start = i;
    char32_t cp;
    if (!base::DecodeUtf8(text, &i, &cp)) {
      ++i;  // not expected: the text is valid UTF-8
      continue;
    }
    if (cp == ' ') {
      slug += '-';
    } else if (cp == '-' || cp == '_') {
      slug += static_cast<char>(cp);
    } else if (IsSlugCodePoint(cp)) {
      absl::StrAppend(&slug, cp < 0x80 ? absl::AsciiStrToLower(text.substr(start, i - start))
                                       : std::string(text.substr(start, i - start)));
    }
  }
  // As github-slugger numbers repeats: each time a slug is taken, the count
  // of its original goes up until the numbered one is free.
  const std::string original = slug;
  while (seen.contains(slug)) slug = absl::StrCat(original, "-", ++seen[original]);
  seen[slug] = 0;
  return slug;
}

RenderedDoc RenderDoc(absl::string_view path, absl::string_view content,
                      const absl::flat_hash_set<std::string>& release_docpaths) {
  DocContext context;
  context.docpaths = release_docpaths;
  return RenderDoc(path, content, context);
}

RenderedDoc RenderDoc(absl::string_view path, absl::string_view content,
                      const DocContext& context) {
  const auto escaped = [&] { return absl::StrCat("<pre>", base::EscapeHtml(content), "</pre>\n"); };
  std::string unsafe;
  const Markup markup = MarkupOf(path);
  switch (markup) {
    case Markup::kMarkdown:
    case Markup::kMultiMarkdown:
      unsafe = TooCostlyForCmark(content) ? escaped() : MarkdownToHtml(content);
      break;
    case Markup::kHtml:
      unsafe = std::string(content);
      break;
    case Markup::kRst:
    case Markup::kAsciiDoc:
    case Markup::kPod:
    case Markup::kTextile:
    case Markup::kMediaWiki:
    case Markup::kCreole: {
      absl::StatusOr<std::string> converted =
          context.converter == nullptr
              ? absl::StatusOr<std::string>(absl::NotFoundError("no converter"))
              : context.converter->ToHtml(markup, content);
      unsafe = converted.ok() ? *std::move(converted) : escaped();
      break;
    }
    case Markup::kText:
    case Markup::kTrac:
    case Markup::kBBCode:
    case Markup::kNone:
      unsafe = escaped();
      break;
  }
  std::string body = SanitizeHtml(unsafe, [&](absl::string_view url, UrlKind kind) {
    return RewriteUrl(path, url, kind, context);
  });
  std::vector<Heading> headings = FindHeadings(body);
  AssignIds(headings);

  RenderedDoc doc;
  if (!headings.empty()) {
    auto h1 = std::find_if(headings.begin(), headings.end(),
                           [](const Heading& heading) { return heading.level == 1; });
    doc.title = (h1 != headings.end() ? *h1 : headings.front()).text;
  }
  doc.text = HtmlToText(body);
  doc.html = absl::StrCat("<div id=\"pgxndoc\">", TableOfContents(headings),
                          "<div id=\"pgxnbod\">\n", InsertIds(body, headings), "</div></div>\n");
  return doc;
}

}  // namespace pgxn::indexer
