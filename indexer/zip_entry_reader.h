// Reads one entry of a zip from where its source index (indexer/docs/
// source_index.h) says it is: the local header at the offset, then the
// entry's bytes stored or inflated (zlib, raw deflate), checked against the
// size and CRC-32 the central directory recorded. What /src/ serves a file
// with, so that a request costs that entry, not the whole archive: reading
// through a range reader, it never holds the zip. The only
// file of the indexer that includes zlib.
//
// Pure function; thread-safe.
#ifndef PGXN_INDEXER_ZIP_ENTRY_READER_H_
#define PGXN_INDEXER_ZIP_ENTRY_READER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "indexer/docs/source_index.h"

namespace pgxn::indexer {

// Reads `length` bytes of a zip from `offset` (both within the zip), e.g.
// from a store's chunks (replica::Store::ReadBlobRange), so that only the
// entry's local header and data are read, not the whole zip. Returning
// fewer bytes than asked is taken as corruption.
using ZipRangeReader =
    std::function<absl::StatusOr<std::string>(uint64_t offset, size_t length)>;

// The `size` bytes of the entry at `location` in a zip of `zip_size` bytes
// read through `read`. DataLoss when the bytes there are not such an entry:
// no local header at the offset, data beyond the zip, a method other than
// stored or deflated, a deflate stream that is corrupt or does not end, or
// bytes whose count or CRC-32 differ from what was recorded. Never inflates
// more than `size` bytes; errors of `read` are returned as they are.
absl::StatusOr<std::string> ReadZipEntry(const ZipRangeReader& read, uint64_t zip_size,
                                         const ZipLocation& location, uint64_t size);

// The same for a zip held whole in memory.
absl::StatusOr<std::string> ReadZipEntry(absl::string_view zip, const ZipLocation& location,
                                         uint64_t size);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_ZIP_ENTRY_READER_H_
