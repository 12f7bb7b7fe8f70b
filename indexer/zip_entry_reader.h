// Reads one entry of a zip from where its source index (indexer/docs/
// source_index.h) says it is: the local header at the offset, then the
// entry's bytes stored or inflated (zlib, raw deflate), checked against the
// size and CRC-32 the central directory recorded. What /src/ serves a file
// with, so that a request costs that entry, not the whole archive. The only
// file of the indexer that includes zlib.
//
// Pure function; thread-safe.
#ifndef PGXN_INDEXER_ZIP_ENTRY_READER_H_
#define PGXN_INDEXER_ZIP_ENTRY_READER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "indexer/docs/source_index.h"

namespace pgxn::indexer {

// The `size` bytes of the entry at `location` in `zip`. DataLoss when the
// bytes there are not such an entry: no local header at the offset, data
// beyond the zip, a method other than stored or deflated, a deflate stream
// that is corrupt or does not end, or bytes whose count or CRC-32 differ
// from what was recorded. Never inflates more than `size` bytes.
absl::StatusOr<std::string> ReadZipEntry(absl::string_view zip, const ZipLocation& location,
                                         uint64_t size);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_ZIP_ENTRY_READER_H_
