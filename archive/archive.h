// The libarchive adapter: reads an uploaded distribution archive (zip, tar,
// tar.gz, tar.bz2) into memory with every hostile construct refused, and writes
// a zip. The only file in the project that includes libarchive's headers. A
// leaf library (absl and libarchive only), because both sides of the Feed need
// it: the origin's release intake (origin/intake/distribution_archive.cc) and the
// indexer, which reads published zips (indexer/source_handler.cc); tests use
// it to build archives.
//
// Each call uses its own libarchive handle: safe to call from any thread.
#ifndef PGXN_ARCHIVE_ARCHIVE_H_
#define PGXN_ARCHIVE_ARCHIVE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::archive {

struct ArchiveEntry {
  enum class Type { kFile, kDirectory };

  // Relative, '/'-separated, without "." segments or a trailing '/':
  // "pair-0.1.0/sql/pair.sql", "pair-0.1.0".
  std::string path;
  Type type = Type::kFile;
  std::string data;   // empty for directories
  int64_t mtime = 0;  // seconds since the Unix epoch
  uint32_t mode = 0;  // permission bits only (07777)
};

struct ArchiveLimits {
  size_t max_entries = 10000;
  uint64_t max_total_bytes = uint64_t{256} << 20;  // uncompressed, all entries
  uint64_t max_entry_bytes = uint64_t{64} << 20;   // uncompressed, one entry
};

enum class ArchiveFormat { kZip, kTar };

struct ReadArchiveResult {
  ArchiveFormat format = ArchiveFormat::kZip;
  std::vector<ArchiveEntry> entries;  // in archive order
  // True for a zip whose local and central headers store every entry under
  // exactly its path (a directory's with a trailing '/'), in order: nothing was
  // rewritten on reading ("./a", or a Windows tool's "a\\b" that libarchive
  // reads as "a/b"), so the bytes unpack the same everywhere. Always false for
  // a tar.
  bool paths_stored_verbatim = false;
};

// Reads a zip, tar, tar.gz or tar.bz2 archive held in `bytes`; no other format
// or compression is recognised. `display_name` (the uploaded file's name) is
// used only in messages.
//
// Paths are normalised: a leading "./" and "." segments are dropped, and an
// entry that is only "." (tar's "./") is skipped.
//
// Returns FailedPrecondition, with a message naming the file and the entry, when
// the bytes are not such an archive ("\"x\" doesn't look like a distribution
// archive") or are corrupt, or when an entry has an absolute path, a ".."
// segment, a backslash, an empty segment or a path over 4096 bytes; is a
// symbolic link, a hard link, a device, a fifo or a socket; is encrypted; shares
// its path with another entry, or lies under a path that is a file. Also when
// there are more than `limits.max_entries` entries, or when the bytes actually
// decompressed (never the sizes the headers claim) exceed
// `limits.max_entry_bytes` for an entry or `limits.max_total_bytes` in all.
absl::StatusOr<ReadArchiveResult> ReadArchive(absl::string_view bytes,
                                              absl::string_view display_name,
                                              const ArchiveLimits& limits);

// Writes `entries`, in order, as a zip held in memory: files deflated,
// directories as "path/" entries, each with its mtime and mode. The same
// entries always give the same bytes. Returns InvalidArgument for an entry
// path that ReadArchive would refuse (or a duplicate), Internal if libarchive
// fails.
absl::StatusOr<std::string> WriteZip(const std::vector<ArchiveEntry>& entries);

}  // namespace pgxn::archive

#endif  // PGXN_ARCHIVE_ARCHIVE_H_
