// The archive library's messages about one archive: the uploaded file's name
// and an entry's path quoted as untrusted text. Internal to archive/.
#ifndef PGXN_ARCHIVE_ENTRY_ERROR_H_
#define PGXN_ARCHIVE_ENTRY_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/quote.h"

namespace pgxn::archive {

// Untrusted text (the uploaded file's name, an entry path, a link's target)
// quoted into a message, cut at 200 bytes.
inline std::string Quote(absl::string_view text) { return base::QuoteUntrusted(text, 200); }

// FailedPrecondition: "\"<name>\" entry \"<path>\" <why>".
inline absl::Status EntryError(absl::string_view name, absl::string_view path,
                               absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(Quote(name), " entry ", Quote(path), " ", why));
}

}  // namespace pgxn::archive

#endif  // PGXN_ARCHIVE_ENTRY_ERROR_H_
