// How a release's doc is written, from its file name, as Text::Markup (the
// library pgxn.org renders docs with) chooses by extension. Pure functions.
#ifndef PGXN_INDEXER_DOCS_MARKUP_H_
#define PGXN_INDEXER_DOCS_MARKUP_H_

#include "absl/strings/string_view.h"

namespace pgxn::indexer {

enum class Markup {
  kNone,           // not a doc by its name
  kMarkdown,       // .md .mkd .mkdn .mdown .markdown: cmark-gfm
  kMultiMarkdown,  // .mmd .mmkd .mmkdn .mmdown .mmarkdown .multimarkdown: cmark-gfm
  kText,           // .txt .text, and README without extension: escaped text
  kHtml,           // .html .htm .xhtml .xhtm: through the sanitizer
  // Converted by an external program (markup_converters.h):
  kRst,        // .rst .rest
  kAsciiDoc,   // .asciidoc .adoc .asc
  kPod,        // .pod .pm .pl
  kTextile,    // .textile
  kMediaWiki,  // .mediawiki .mwiki .wiki
  kCreole,     // .creole
  // Recognised as docs, but Debian packages no reader: shown as text.
  kTrac,    // .trac .trc
  kBBCode,  // .bb .bbcode
};

// The markup of the file at `path` (a path inside a release, '/'-separated;
// extensions and README are matched case-insensitively).
Markup MarkupOf(absl::string_view path);

// Whether the file at `path` is a doc by its name alone: a markup other than
// plain text, except Perl code (.pm, .pl) and .asc (as often a signature as
// AsciiDoc), which are docs only when META names them a docfile.
bool IsDocByName(absl::string_view path);

// Whether `markup` is converted by an external program.
bool NeedsConverter(Markup markup);

// A short lower-case name: "markdown", "rst", "asciidoc", ...
absl::string_view MarkupName(Markup markup);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_MARKUP_H_
