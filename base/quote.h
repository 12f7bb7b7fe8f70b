// Quoting text that came from an upload (a file name, a version, a META value)
// into an error message: as a JSON string, with control characters escaped,
// bytes that are not UTF-8 replaced and long text cut at a character boundary,
// so one problem stays one short line that any client can show.
#ifndef PGXN_BASE_QUOTE_H_
#define PGXN_BASE_QUOTE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace pgxn::base {

// "text" (JSON-escaped), or "te..." when longer than `max_bytes`.
std::string QuoteUntrusted(absl::string_view text, size_t max_bytes);

}  // namespace pgxn::base

#endif  // PGXN_BASE_QUOTE_H_
