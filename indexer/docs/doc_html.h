// Doc rendering: which files of a release are docs, their docpaths, and the
// HTML fragment, title and search text of each (docs/pgxn.md §5, "Enriched JSON
// and docs"). Called by the indexer for every doc of a release it processes.
// Pure functions, safe to call from any thread (cmark-gfm, which keeps some
// parser state in globals, is serialized inside doc_html.cc; no cmark-gfm type
// leaves that file).
//
// The fragment has PGXN's shape:
//   <div id="pgxndoc"><div id="pgxntoc"><h3>Contents</h3>
//   <ul class="pgxntocroot">…</ul></div><div id="pgxnbod">…</div></div>
// (without the pgxntoc div when the doc has no h1-h3). h1-h3 get ids from
// their text ("Copyright and License" → "Copyright.and.License"), unique in the
// doc; the table of contents nests them by level. The body has gone through
// SanitizeHtml (html_sanitizer.h), and relative links to other docs of the
// same release point at their .html pages.
#ifndef PGXN_INDEXER_DOCS_DOC_HTML_H_
#define PGXN_INDEXER_DOCS_DOC_HTML_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace pgxn::indexer {

// How a doc is written, from its file name.
enum class Markup {
  kNone,      // not a doc
  kMarkdown,  // .md .mkd .mkdn .mdown .markdown
  kText,      // .txt .text, and README without extension
  kHtml,      // .html .htm: rendered through the sanitizer
  // .pod .pod6 .rst .textile .wiki .mediawiki .org .asciidoc .adoc .creole
  // .rdoc: recognised as docs, shown as preformatted text until we render them.
  kOther,
};

// The markup of the file at `path` (a path inside a release, '/'-separated;
// extensions and README are matched case-insensitively).
Markup MarkupOf(absl::string_view path);

// The docpath of the doc at `path`: the path without the last extension of
// its file name ("doc/pair.md" → "doc/pair", "README" → "README",
// ".hidden" → ".hidden").
std::string DocPath(absl::string_view path);

struct RenderedDoc {
  std::string html;   // the fragment described above, valid UTF-8
  std::string title;  // text of the first h1, else of the first heading; may be empty
  std::string text;   // plain text of the body for the search index, whitespace collapsed
};

// Renders the doc at `path` (inside the release, without the "name-version/"
// prefix) whose file holds `content` (any bytes). `release_docpaths` holds the
// docpath of every doc in the same release; relative links whose target is
// one of them are rewritten to its .html page. Markdown is rendered as GitHub
// Flavored Markdown with smart punctuation; plain text, kOther and kNone as
// escaped text in <pre>.
RenderedDoc RenderDoc(absl::string_view path, absl::string_view content,
                      const absl::flat_hash_set<std::string>& release_docpaths);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_DOC_HTML_H_
