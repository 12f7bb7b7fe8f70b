// UTF-8, the one place the project decodes it: checking text that came from
// outside (archive entries, META values, queries, READMEs) before it is
// served, indexed or quoted, decoding it where characters matter (names,
// ids), and repairing it where it must be shown whatever it holds.
// "Well-formed" means what browsers, JSON encoders and Xapian accept: no
// overlong forms, surrogates, code points above U+10FFFF or cut sequences.
// Pure functions; thread-safe.
#ifndef PGXN_BASE_UTF8_H_
#define PGXN_BASE_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace pgxn::base {

// The length of the well-formed sequence starting at text[i] (1 for ASCII),
// or 0 if none starts there. Requires i < text.size().
size_t Utf8SequenceLength(absl::string_view text, size_t i);

// Decodes the code point at text[*i] into *code_point and moves *i past it;
// false (and nothing changed) if no well-formed sequence starts there.
bool DecodeUtf8(absl::string_view text, size_t* i, char32_t* code_point);

// True if the whole of `text` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view text);

// `text` with each byte that starts no well-formed sequence replaced by
// U+FFFD, so that it is valid UTF-8 whatever it held (Latin-1 READMEs).
std::string ToValidUtf8(absl::string_view text);

// Appends the encoding of `code_point`, which must be at most U+10FFFF and
// not a surrogate.
void AppendUtf8(char32_t code_point, std::string& out);

// The number of characters of `text`: bytes that are not continuation
// bytes. Exact for valid UTF-8; for anything else a count no validation
// relies on.
size_t CountUtf8Chars(absl::string_view text);

// `text` cut to at most `max_bytes` without splitting a sequence; sets *cut
// when it was shortened.
absl::string_view ShortenUtf8(absl::string_view text, size_t max_bytes, bool* cut);

}  // namespace pgxn::base

#endif  // PGXN_BASE_UTF8_H_
