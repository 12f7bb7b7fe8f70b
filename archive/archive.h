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
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::archive {

struct ArchiveEntry {
  enum class Type { kFile, kDirectory, kSymlink };

  // Relative, '/'-separated, without "." segments or a trailing '/':
  // "pair-0.1.0/sql/pair.sql", "pair-0.1.0".
  std::string path;
  Type type = Type::kFile;
  // A file's bytes. A link reads as what it names: ReadArchive fills in the
  // bytes of the file a link resolves to. Empty for a directory or a link to
  // one.
  std::string data;
  int64_t mtime = 0;  // seconds since the Unix epoch
  uint32_t mode = 0;  // permission bits only (0777): setuid, setgid, sticky dropped
  // A link's target as stored, relative to the link's directory: "doc/pair.md",
  // "../README.md". WriteZip writes it; empty for other types.
  std::string link_target;
  // Set by ReadArchive for a link: the path of the file or directory it
  // finally names, through any links on the way ("pair-0.1.0/doc/pair.md"),
  // and whether that is a directory.
  std::string resolved;
  bool resolves_to_directory = false;

  static ArchiveEntry File(std::string path, std::string data, int64_t mtime,
                           uint32_t mode = 0644) {
    ArchiveEntry e;
    e.path = std::move(path);
    e.data = std::move(data);
    e.mtime = mtime;
    e.mode = mode;
    return e;
  }
  static ArchiveEntry Directory(std::string path, int64_t mtime, uint32_t mode = 0755) {
    ArchiveEntry e;
    e.path = std::move(path);
    e.type = Type::kDirectory;
    e.mtime = mtime;
    e.mode = mode;
    return e;
  }
  static ArchiveEntry Symlink(std::string path, std::string target, int64_t mtime) {
    ArchiveEntry e;
    e.path = std::move(path);
    e.type = Type::kSymlink;
    e.link_target = std::move(target);
    e.mtime = mtime;
    e.mode = 0777;
    return e;
  }

  // A file, or a link that reads as one.
  bool ReadsAsFile() const {
    return type == Type::kFile || (type == Type::kSymlink && !resolves_to_directory);
  }
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
  // True for a zip that may be published byte for byte, because it unpacks
  // the same everywhere: its local and central headers store every entry under
  // exactly its path (a directory's with a trailing '/'), in order, so nothing
  // was rewritten on reading ("./a", or a Windows tool's "a\\b" that
  // libarchive reads as "a/b"); no entry has setuid, setgid or sticky bits; and
  // no entry has a Unix file type that zip readers take differently (a link
  // marked as made on another system than Unix). Always false for a tar.
  bool publishable_as_is = false;
};

// Reads a zip, tar, tar.gz or tar.bz2 archive held in `bytes`; no other format
// or compression is recognised. `display_name` (the uploaded file's name) is
// used only in messages.
//
// Paths are normalised: a leading "./" and "." segments are dropped, and an
// entry that is only "." (tar's "./") is skipped. A zip entry's type is what
// the Unix mode in its central directory record says, whatever system the zip
// says made it (see zip_directory.h); without one, what libarchive reads.
//
// Returns FailedPrecondition, with a message naming the file and the entry, when
// the bytes are not such an archive ("\"x\" doesn't look like a distribution
// archive", also said of a zip without entries) or are corrupt, or when an entry has an absolute path, a ".."
// segment, a backslash, an empty segment or a path over 4096 bytes; is a hard
// link, a device, a fifo or a socket; is a symbolic link that symlinks.h
// refuses (absolute, leaving its top-level directory, dangling, looping); is
// encrypted; shares its path with another entry, or lies under a path that is
// a file or a link; has a type its zip headers disagree on. Also when
// there are more than `limits.max_entries` entries, or when the bytes actually
// decompressed (never the sizes the headers claim) exceed
// `limits.max_entry_bytes` for an entry or `limits.max_total_bytes` in all.
absl::StatusOr<ReadArchiveResult> ReadArchive(absl::string_view bytes,
                                              absl::string_view display_name,
                                              const ArchiveLimits& limits);

// Writes `entries`, in order, as a zip held in memory: files deflated,
// directories as "path/" entries, links with their `link_target` (made on
// Unix, as `git archive` writes them), each with its mtime and mode. The same
// entries always give the same bytes. Returns InvalidArgument for an entry
// path that ReadArchive would refuse (or a duplicate), Internal if libarchive
// fails.
absl::StatusOr<std::string> WriteZip(const std::vector<ArchiveEntry>& entries);

}  // namespace pgxn::archive

#endif  // PGXN_ARCHIVE_ARCHIVE_H_
