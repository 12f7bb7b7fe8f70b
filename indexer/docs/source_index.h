// A release's source index: what /src/ (indexer/source_handler.h) needs to
// list a release's archive and to serve one of its files without unpacking
// the rest. Built once per release at indexing time, from the zip and its
// entries as archive::ReadArchive read them (ReadReleaseFiles does it while
// it reads the docs), and kept encoded in the store's derived family
// (indexer/derived/api_tree.h, SourceIndexKey); the handler builds one on
// request only for a release indexed before this existed.
//
// Per entry: its path, type and size, the sha256 and media type of the bytes
// it reads as (so a file's ETag and Content-Type need no reading), a link's
// target, and where those bytes are in the zip (the local header's offset,
// compression method, compressed size and CRC-32, from the central
// directory) so that serving a file inflates that entry alone.
//
// Pure functions; thread-safe.
#ifndef PGXN_INDEXER_DOCS_SOURCE_INDEX_H_
#define PGXN_INDEXER_DOCS_SOURCE_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "archive/archive.h"

namespace pgxn::indexer {

// Where an entry's bytes are in its zip. `located` is false when the
// central directory does not say it plainly (a name the reader normalised,
// two records for one name, a compression other than stored or deflated):
// such an entry is read by unpacking the archive.
struct ZipLocation {
  bool located = false;
  uint64_t header_offset = 0;  // of the entry's local file header
  uint64_t compressed_size = 0;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint32_t crc32 = 0;
};

inline constexpr uint16_t kZipStored = 0;
inline constexpr uint16_t kZipDeflated = 8;

struct SourceEntry {
  // The entry's path in the archive, as ReadArchive gives it
  // ("pair-0.1.0/sql/pair.sql"), its type, and for a link whether it
  // resolves to a directory.
  std::string path;
  archive::ArchiveEntry::Type type = archive::ArchiveEntry::Type::kFile;
  bool resolves_to_directory = false;
  // A link's target as stored and the archive path it resolves to.
  std::string link_target;
  std::string resolved;
  // For what reads as a file (a file, a link to one): the size, sha256
  // (32 raw bytes) and media type of its bytes, and where they are (for a
  // link, the entry of the file it resolves to).
  uint64_t size = 0;
  std::string sha256;
  std::string media_type;
  ZipLocation location;

  bool ReadsAsFile() const {
    return type == archive::ArchiveEntry::Type::kFile ||
           (type == archive::ArchiveEntry::Type::kSymlink && !resolves_to_directory);
  }
};

struct SourceIndex {
  std::string zip_sha256;            // 32 raw bytes: the zip this describes
  std::vector<SourceEntry> entries;  // in archive order
};

// The index of the zip held in `zip`, whose entries ReadArchive read as
// `entries` (with their data). Entries the central directory does not
// locate plainly are kept, unlocated (ZipLocation).
SourceIndex BuildSourceIndex(absl::string_view zip,
                             const std::vector<archive::ArchiveEntry>& entries);

// The media type a file of a release is served with: text as UTF-8 plain
// text whatever its name says (an author's .html or .js is never run on this
// origin), an image or another known binary by its extension, anything else
// as bytes. SVG is text that browsers render and may script: the handler
// serves it as an image only with a sandboxing CSP.
absl::string_view SourceMediaType(absl::string_view path, absl::string_view content);
inline constexpr absl::string_view kSourceTextType = "text/plain; charset=utf-8";
inline constexpr absl::string_view kSourceSvgType = "image/svg+xml";

// A compact binary encoding (a format byte, then the fields), and back.
// DecodeSourceIndex: DataLoss for bytes that are not such an encoding (of
// this format).
std::string EncodeSourceIndex(const SourceIndex& index);
absl::StatusOr<SourceIndex> DecodeSourceIndex(absl::string_view bytes);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_SOURCE_INDEX_H_
