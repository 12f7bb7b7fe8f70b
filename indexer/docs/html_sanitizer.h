// HTML sanitizer: re-emits untrusted HTML keeping only an allow-list of
// elements and attributes, so that a release's docs (cmark-gfm's output,
// which passes a README's inline HTML through) can be served on our pages.
// Called by the doc renderer (doc_html.h). Pure functions, safe to call from
// any thread.
//
// What is kept:
//  - allow-listed elements (p, br, hr, h1-h6, em, strong, code, pre, lists,
//    tables, a, img, div, span, details, ...) with an allow-list of attributes
//    per element; attribute values are checked by kind (numbers, alignments,
//    `language-xxx` classes, URLs) and dropped when they do not fit;
//  - URLs (a href, img src) that are relative, a #fragment, or use http,
//    https, mailto or ftp. Any other scheme is dropped, however it is spelled
//    (case, embedded whitespace or control characters, character references
//    such as `&#106;avascript:`);
//  - the text of other unknown elements (the tags themselves are dropped).
// What is dropped with everything inside: script, style, iframe, object,
// embed, form and its controls, template, noscript, svg, math and similar
// (see FindDroppedElement in the .cc); comments, doctypes and processing
// instructions.
//
// Output contract (doc_html.cc relies on it):
//  - element and attribute names are lower case; attribute values are double
//    quoted with & < > " escaped; text has & < > escaped, so every '<' in the
//    output starts a tag and the next '>' ends it;
//  - character references are decoded and the text re-escaped, so the output
//    holds only &amp; &lt; &gt; &quot; references;
//  - the output is valid UTF-8 (invalid bytes become U+FFFD) without C0
//    control characters other than tab, LF and CR;
//  - elements are balanced: unclosed ones are closed at the end (or when an
//    enclosing one closes), stray end tags are dropped; void elements are
//    written `<br />`; at most kMaxDepth elements are open at once, deeper
//    start tags are dropped (their text is kept);
//  - headings (h1-h6) carry no attributes: their ids are the caller's.
//
// Input handling: the input is hostile. The tokenizer is strict and runs in
// linear time without recursion: a '<' starts a tag only when followed by a
// letter (or '/' and a letter) and the tag ends with '>' before any other
// '<' (even inside a quoted attribute value: browsers would accept it, but
// refusing it keeps every byte scanned at most twice). A '<' that starts no
// tag is text (`&lt;`). An unterminated comment or `<!...` declaration runs to
// the end of the input, as in browsers.
#ifndef PGXN_INDEXER_DOCS_HTML_SANITIZER_H_
#define PGXN_INDEXER_DOCS_HTML_SANITIZER_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace pgxn::indexer {

// How many allow-listed elements may be open at once.
inline constexpr int kMaxDepth = 256;

// Which attribute a URL is in: an <a href>, or an <img src>.
enum class UrlKind { kLink, kImage };

// Maps the URL of a kept <a href> or <img src> (entities decoded, scheme
// already accepted) to the URL to emit. The result is checked again and
// dropped if unsafe.
using UrlRewriter = absl::FunctionRef<std::string(absl::string_view url, UrlKind kind)>;

// The sanitized form of `html`, with hrefs as they are.
std::string SanitizeHtml(absl::string_view html);

// The sanitized form of `html`, each kept <a href> and <img src> passed
// through `rewrite_url` (e.g. to point links between docs at their .html
// pages, and images at the release's files).
std::string SanitizeHtml(absl::string_view html, UrlRewriter rewrite_url);

// Whether `url` (character references already decoded) may be an href or src:
// relative, a fragment, or http/https/mailto/ftp.
bool IsSafeUrl(absl::string_view url);

// The text of `html` for search and titles: tags removed (block-level ones
// count as a space), dropped elements' content removed, character references
// decoded, runs of whitespace collapsed to one space, trimmed. Valid UTF-8.
std::string HtmlToText(absl::string_view html);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_HTML_SANITIZER_H_
