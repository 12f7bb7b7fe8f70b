// Checking that bytes are UTF-8, for text that came from outside (archive
// entries, META values) before it is served or quoted as text.
// Thread-safe (pure).
#ifndef PGXN_BASE_UTF8_H_
#define PGXN_BASE_UTF8_H_

#include "absl/strings/string_view.h"

namespace pgxn::base {

// True if `text` is well-formed UTF-8: no overlong forms, surrogates or code
// points above U+10FFFF.
bool IsValidUtf8(absl::string_view text);

}  // namespace pgxn::base

#endif  // PGXN_BASE_UTF8_H_
