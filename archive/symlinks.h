// Symbolic links inside a distribution archive. `git archive` keeps a
// repository's links, so authors publish zips where README.md links to
// doc/pair.md (or the reverse); PGXN takes them. A link is accepted when its
// target, taken relative to the link's directory, stays inside the link's
// top-level directory (the release's) and names an entry of the archive; it
// then reads as what it names. Nothing here touches a file system: links are
// resolved among the archive's own entries only. Internal to archive/.
#ifndef PGXN_ARCHIVE_SYMLINKS_H_
#define PGXN_ARCHIVE_SYMLINKS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "archive/archive.h"

namespace pgxn::archive {

// How many links one path may pass through before it is taken for a loop
// (Linux's limit).
inline constexpr int kMaxLinkHops = 40;

// Why a link's stored target cannot be accepted, as a phrase completing
// "entry X ...", or OK: empty, longer than 4096 bytes, not valid UTF-8, with a
// control character or a backslash, or absolute.
absl::Status CheckLinkTarget(absl::string_view target);

// Resolves every kSymlink entry of `entries` in place, through links on the
// way (a link to a linked directory, a link to a link): sets `resolved`,
// `resolves_to_directory`, and for a link to a file `data` to that file's
// bytes, which count into `*total_bytes` against `limits.max_total_bytes`.
// Directories implied by deeper paths count as entries. Returns
// FailedPrecondition naming the entry (see EntryError) for a link whose target
// leaves its top-level directory (or the archive), names no entry (dangling;
// also a path through a file), loops (more than kMaxLinkHops links, or a
// directory that contains the link itself), or when resolving every link
// would take unreasonably long.
absl::Status ResolveSymlinks(absl::string_view display_name, std::vector<ArchiveEntry>& entries,
                             const ArchiveLimits& limits, uint64_t* total_bytes);

}  // namespace pgxn::archive

#endif  // PGXN_ARCHIVE_SYMLINKS_H_
