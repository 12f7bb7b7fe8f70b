// Escaping text into markup, so that what it says is shown and never obeyed:
// the one place the project turns text into HTML or XML character data. The
// HTML sanitiser, the rendered docs, the /src/ listings and the Atom feed
// all escape through here. Pure functions; thread-safe.
#ifndef PGXN_BASE_ESCAPE_H_
#define PGXN_BASE_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace pgxn::base {

// The entity that stands for the ASCII character `c` in HTML text ("&amp;",
// "&lt;", "&gt;") and, with `in_attribute`, in a double-quoted attribute value
// (also "&quot;"); empty when `c` stands for itself there.
absl::string_view HtmlEntityFor(char c, bool in_attribute);

// `text` for HTML text or a double-quoted attribute value: & < > " as
// entities, every other byte as it is.
std::string EscapeHtml(absl::string_view text);

// `text` for XML 1.0 character data or attribute values: & < > " ' as
// entities, and what XML cannot carry at all dropped (C0 controls but tab,
// newline and return; U+FFFE and U+FFFF). `text` is valid UTF-8.
std::string EscapeXml(absl::string_view text);

// Percent-encodes everything but '/' and the unreserved characters of RFC 3986
// (ALPHA, DIGIT, '-', '.', '_', '~'), with upper-case hex digits:
// "/tag/key value.json" -> "/tag/key%20value.json".
std::string PercentEncodePath(absl::string_view path);

}  // namespace pgxn::base

#endif  // PGXN_BASE_ESCAPE_H_
