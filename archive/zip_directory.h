// A zip's central directory as its bytes say it, read without libarchive:
// what each entry's "version made by" and external attributes are. libarchive
// takes an entry's Unix mode from those attributes only when the zip says it
// was made on Unix, while Info-ZIP's unzip (Debian's) also honours a Unix file
// type stored by other systems: a symbolic link marked as made on MS-DOS reads
// as a small file to one and unpacks as a link with the other. ReadArchive
// (archive.cc) judges every entry by these bits, whatever system made it.
// The indexer's source index (indexer/docs/source_index.h) takes from the
// same records where each entry's bytes are, to read one entry alone.
//
// Pure functions: safe to call from any thread.
#ifndef PGXN_ARCHIVE_ZIP_DIRECTORY_H_
#define PGXN_ARCHIVE_ZIP_DIRECTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace pgxn::archive {

struct ZipDirectoryEntry {
  std::string name;                  // the bytes stored, as they are
  uint8_t made_by_system = 0;        // 0 MS-DOS, 3 Unix, 10 NTFS, 19 OS X, ...
  uint32_t external_attributes = 0;  // the upper 16 bits: a Unix st_mode, if any
  // False when tools could read this entry's name differently: its local
  // header is missing or names it otherwise, the two headers disagree on
  // whether the name is UTF-8 (flag bit 11), or either carries an Info-ZIP
  // Unicode path or comment field (0x7075, 0x6375), which Debian's unzip
  // takes over the name where libarchive does not.
  bool headers_agree = false;
  // Where the entry's bytes are and how they are stored, with the Zip64
  // extra field's 64-bit values in place of those the record marks
  // 0xFFFFFFFF: general-purpose flags (bit 0: encrypted), compression method
  // (0 stored, 8 deflated), CRC-32, sizes, and the local header's offset.
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;

  uint32_t unix_mode() const { return external_attributes >> 16; }
};

inline constexpr uint8_t kZipMadeOnUnix = 3;

// The central directory of the zip held in `zip`, found through its end
// record (and the Zip64 one when the end record says so), in stored order.
// nullopt when there is none to be read that way: no end record, offsets
// outside the bytes, a record without its signature (as in a self-extracting
// zip with its offsets relative to the zip part).
// Also nullopt when it lists more than `max_records` records.
absl::optional<std::vector<ZipDirectoryEntry>> ReadZipDirectory(absl::string_view zip,
                                                                size_t max_records = 100000);

}  // namespace pgxn::archive

#endif  // PGXN_ARCHIVE_ZIP_DIRECTORY_H_
