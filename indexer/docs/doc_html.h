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
// (without the pgxntoc div when the doc has no h1-h3). h1-h3 get the ids
// pgxn.org gives them ("Copyright and License" → "Copyright.and.License", a
// repeat numbered "Usage1", "Usage2"); the table of contents nests them by
// level. Every heading also carries the anchor GitHub gives it
// ("copyright-and-license"), because READMEs are written for GitHub and link
// to those. The body has gone through SanitizeHtml (html_sanitizer.h);
// relative links to other docs of the same release point at their .html
// pages, and relative links and images naming other files of the release
// point at those files under /src/.
#ifndef PGXN_INDEXER_DOCS_DOC_HTML_H_
#define PGXN_INDEXER_DOCS_DOC_HTML_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "indexer/docs/doc_converter.h"
#include "indexer/docs/markup.h"

namespace pgxn::indexer {

// The docpath of the doc at `path`: the path without the last extension of
// its file name ("doc/pair.md" → "doc/pair", "README" → "README",
// ".hidden" → ".hidden").
std::string DocPath(absl::string_view path);

struct RenderedDoc {
  std::string html;   // the fragment described above, valid UTF-8
  std::string title;  // text of the first h1, else of the first heading; may be empty
  std::string text;   // plain text of the body for the search index, whitespace collapsed
};

// What a doc is rendered with, besides its own bytes.
struct DocContext {
  // The docpath of every doc in the release: relative links to them are
  // rewritten to their .html pages.
  absl::flat_hash_set<std::string> docpaths;
  // Every file and directory of the release (paths inside it), and where
  // they are served ("/src/pair/pair-0.1.0/"): relative links and images
  // naming one that is not a doc point there. Empty: left as written.
  absl::flat_hash_set<std::string> files;
  absl::flat_hash_set<std::string> directories;
  std::string source_url;
  // Converts the markups NeedsConverter names; without one (or when it
  // fails) those docs are shown as escaped text.
  const DocConverter* converter = nullptr;
};

// Renders the doc at `path` (inside the release, without the "name-version/"
// prefix) whose file holds `content` (any bytes). Markdown and MultiMarkdown
// are rendered as GitHub Flavored Markdown with smart punctuation; HTML is
// sanitized; reStructuredText, AsciiDoc, POD, Textile, MediaWiki and Creole
// go through `context.converter`; plain text, Trac, BBCode and anything
// unconverted are escaped text in <pre>.
RenderedDoc RenderDoc(absl::string_view path, absl::string_view content, const DocContext& context);

// The same with only the release's docpaths known.
RenderedDoc RenderDoc(absl::string_view path, absl::string_view content,
                      const absl::flat_hash_set<std::string>& release_docpaths);

// The id pgxn.org gives a heading with text `text` when `seen` ids were
// given before in the doc: a first character that is not an ASCII letter gets
// an "L" before it, each run of characters other than ASCII letters, digits,
// '_', ':', '.' and '-' becomes one '.', and a repeat gets the number of
// earlier ones after it ("Usage", "Usage1", "Usage2").
std::string PgxnHeadingId(absl::string_view text, absl::flat_hash_map<std::string, int>& seen);

// The anchor GitHub gives a heading: lower case, characters other than
// letters, digits, marks, '_', '-' and spaces removed, each space a '-', a
// repeat suffixed "-1", "-2". (Letters outside ASCII are kept as written:
// GitHub lower-cases them too.)
std::string GithubSlug(absl::string_view text, absl::flat_hash_map<std::string, int>& seen);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_DOC_HTML_H_
