#include "indexer/zip_entry_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pgxn::indexer {
namespace {

constexpr absl::string_view kLocalSignature("PK\x03\x04", 4);
constexpr size_t kLocalSize = 30;

uint64_t Le(absl::string_view bytes, size_t at, int n) {
  uint64_t value = 0;
  for (int i = n - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
  }
  return value;
}

absl::Status Corrupt(const ZipLocation& location, absl::string_view why) {
  return absl::DataLossError(
      absl::StrCat("The zip entry at offset ", location.header_offset, " ", why));
}

// Raw deflate (no zlib or gzip header) into exactly `size` bytes.
absl::StatusOr<std::string> Inflate(absl::string_view data, uint64_t size,
                                    const ZipLocation& location) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
    return absl::InternalError("zlib cannot start inflating");
  }
  std::string out(size, '\0');
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(std::min<uint64_t>(size, std::numeric_limits<uInt>::max()));
  // One spare byte of room: a stream that would produce more than `size`
  // fills it and is refused, instead of being cut silently.
  char spare = 0;
  bool spare_used = false;
  int result = Z_OK;
  while (true) {
    if (stream.avail_in == 0 && !data.empty()) {
      const size_t chunk = std::min<size_t>(data.size(), std::numeric_limits<uInt>::max());
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      stream.avail_in = static_cast<uInt>(chunk);
      data.remove_prefix(chunk);
    }
    if (stream.avail_out == 0) {
      const uint64_t written = stream.total_out;
      if (written < size) {
        stream.next_out = reinterpret_cast<Bytef*>(out.data() + written);
        stream.avail_out =
            static_cast<uInt>(std::min<uint64_t>(size - written, std::numeric_limits<uInt>::max()));
      } else if (!spare_used) {
        spare_used = true;
        stream.next_out = reinterpret_cast<Bytef*>(&spare);
        stream.avail_out = 1;
      } else {
        break;
      }
    }
    result = inflate(&stream, Z_NO_FLUSH);
    if (result != Z_OK) break;
    if (stream.avail_in == 0 && data.empty() && stream.avail_out != 0) {
      // Everything was given and there is room: an unfinished stream.
      result = Z_BUF_ERROR;
      break;
    }
  }
  const uint64_t total = stream.total_out;
  inflateEnd(&stream);
  if (result != Z_STREAM_END) return Corrupt(location, "is not a complete deflate stream");
  if (total != size) {
    return Corrupt(location, absl::StrCat("inflates to ", total, " bytes, not ", size));
  }
  return out;
}

// Exactly `length` bytes at `offset` through `read`.
absl::StatusOr<std::string> ReadExactly(const ZipRangeReader& read, uint64_t offset,
                                        size_t length, const ZipLocation& location) {
  absl::StatusOr<std::string> bytes = read(offset, length);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != length) return Corrupt(location, "extends beyond the zip's bytes");
  return bytes;
}

}  // namespace

absl::StatusOr<std::string> ReadZipEntry(const ZipRangeReader& read, uint64_t zip_size,
                                         const ZipLocation& location, uint64_t size) {
  if (!location.located) return Corrupt(location, "was not located");
  const uint64_t at = location.header_offset;
  if (at > zip_size || zip_size - at < kLocalSize) return Corrupt(location, "has no local header");
  absl::StatusOr<std::string> header = ReadExactly(read, at, kLocalSize, location);
  if (!header.ok()) return header.status();
  if (absl::string_view(*header).substr(0, 4) != kLocalSignature) {
    return Corrupt(location, "has no local header");
  }
  const uint64_t data_at = at + kLocalSize + Le(*header, 26, 2) + Le(*header, 28, 2);
  if (data_at > zip_size || zip_size - data_at < location.compressed_size) {
    return Corrupt(location, "extends beyond the zip");
  }
  absl::StatusOr<std::string> data_bytes =
      ReadExactly(read, data_at, location.compressed_size, location);
  if (!data_bytes.ok()) return data_bytes.status();
  const absl::string_view data = *data_bytes;
  std::string out;
  if (location.method == kZipStored) {
    if (data.size() != size) {
      return Corrupt(location, absl::StrCat("stores ", data.size(), " bytes, not ", size));
    }
    out = *std::move(data_bytes);
  } else if (location.method == kZipDeflated) {
    absl::StatusOr<std::string> inflated = Inflate(data, size, location);
    if (!inflated.ok()) return inflated.status();
    out = *std::move(inflated);
  } else {
    return Corrupt(location, absl::StrCat("uses compression method ", location.method));
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (absl::string_view rest = out; !rest.empty();) {
    const size_t chunk = std::min<size_t>(rest.size(), std::numeric_limits<uInt>::max());
    crc = crc32(crc, reinterpret_cast<const Bytef*>(rest.data()), static_cast<uInt>(chunk));
    rest.remove_prefix(chunk);
  }
  if (static_cast<uint32_t>(crc) != location.crc32) {
    return Corrupt(location, "does not match its CRC-32");
  }
  return out;
}

absl::StatusOr<std::string> ReadZipEntry(absl::string_view zip, const ZipLocation& location,
                                         uint64_t size) {
  return ReadZipEntry(
      [zip](uint64_t offset, size_t length) -> absl::StatusOr<std::string> {
        return std::string(zip.substr(offset, length));
      },
      zip.size(), location, size);
}

}  // namespace pgxn::indexer
