#include "archive/zip_directory.h"

#include <initializer_list>
#include <utility>

namespace pgxn::archive {
namespace {

constexpr absl::string_view kEndSignature("PK\x05\x06", 4);
constexpr absl::string_view kZip64LocatorSignature("PK\x06\x07", 4);
constexpr absl::string_view kZip64EndSignature("PK\x06\x06", 4);
constexpr absl::string_view kCentralSignature("PK\x01\x02", 4);
constexpr size_t kEndSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndSize = 56;
constexpr size_t kCentralSize = 46;
constexpr size_t kMaxCommentSize = 0xFFFF;

// Little-endian integer of `n` bytes at `at`; the caller checked the bounds.
uint64_t Le(absl::string_view bytes, size_t at, int n) {
  uint64_t value = 0;
  for (int i = n - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
  }
  return value;
}

bool SignatureAt(absl::string_view bytes, size_t at, absl::string_view signature, size_t size) {
  return at <= bytes.size() && bytes.size() - at >= size && bytes.substr(at, 4) == signature;
}

constexpr absl::string_view kLocalSignature("PK\x03\x04", 4);
constexpr size_t kLocalSize = 30;
constexpr uint16_t kUtf8Flag = 0x0800;
constexpr uint16_t kZip64Extra = 0x0001;
constexpr uint16_t kUnicodePathExtra = 0x7075;
constexpr uint16_t kUnicodeCommentExtra = 0x6375;

constexpr uint64_t kMax32 = 0xFFFFFFFF;

// Whether the extra fields in `extra` hold an Info-ZIP Unicode path or
// comment. When a Zip64 field is there, each of `zip64_values` that is
// 0xFFFFFFFF (in the record's order: uncompressed size, compressed size,
// local header offset) gets the next 8-byte value it carries.
bool ReadExtraFields(absl::string_view extra, std::initializer_list<uint64_t*> zip64_values = {}) {
  bool unicode = false;
  for (size_t at = 0; extra.size() - at >= 4;) {
    const uint16_t id = static_cast<uint16_t>(Le(extra, at, 2));
    const size_t size = Le(extra, at + 2, 2);
    if (extra.size() - at - 4 < size) break;
    if (id == kUnicodePathExtra || id == kUnicodeCommentExtra) unicode = true;
    if (id == kZip64Extra) {
      size_t field = at + 4;
      const size_t field_end = field + size;
      for (uint64_t* value : zip64_values) {
        if (*value != kMax32) continue;
        if (field_end - field < 8) break;
        *value = Le(extra, field, 8);
        field += 8;
      }
    }
    at += 4 + size;
  }
  return unicode;
}

}  // namespace

absl::optional<std::vector<ZipDirectoryEntry>> ReadZipDirectory(absl::string_view zip,
                                                                size_t max_records) {
  if (zip.size() < kEndSize) return absl::nullopt;
  // The end record is the last one in the file; a comment of up to 64 KiB
  // may follow it.
  size_t end = absl::string_view::npos;
  const size_t lowest =
      zip.size() - kEndSize > kMaxCommentSize ? zip.size() - kEndSize - kMaxCommentSize : 0;
  for (size_t at = zip.size() - kEndSize + 1; at-- > lowest;) {
    if (zip.substr(at, 4) == kEndSignature) {
      end = at;
      break;
    }
  }
  if (end == absl::string_view::npos) return absl::nullopt;
  uint64_t count = Le(zip, end + 10, 2);
  uint64_t offset = Le(zip, end + 16, 4);
  if (count == 0xFFFF || offset == 0xFFFFFFFF) {
    if (end < kZip64LocatorSize ||
        !SignatureAt(zip, end - kZip64LocatorSize, kZip64LocatorSignature, kZip64LocatorSize)) {
      return absl::nullopt;
    }
    const uint64_t record = Le(zip, end - kZip64LocatorSize + 8, 8);
    if (record > zip.size() || !SignatureAt(zip, record, kZip64EndSignature, kZip64EndSize)) {
      return absl::nullopt;
    }
    count = Le(zip, record + 32, 8);
    offset = Le(zip, record + 48, 8);
  }
  // Each record takes at least 46 bytes: a count beyond that is a lie.
  if (offset > zip.size() || count > (zip.size() - offset) / kCentralSize || count > max_records) {
    return absl::nullopt;
  }

  std::vector<ZipDirectoryEntry> entries;
  entries.reserve(count);
  size_t at = offset;
  for (uint64_t i = 0; i < count; ++i) {
    if (!SignatureAt(zip, at, kCentralSignature, kCentralSize)) return absl::nullopt;
    const size_t name_length = Le(zip, at + 28, 2);
    const size_t record_size =
        kCentralSize + name_length + Le(zip, at + 30, 2) + Le(zip, at + 32, 2);
    if (zip.size() - at < record_size) return absl::nullopt;
    ZipDirectoryEntry entry;
    entry.name = std::string(zip.substr(at + kCentralSize, name_length));
    entry.made_by_system = static_cast<uint8_t>(zip[at + 5]);
    entry.external_attributes = static_cast<uint32_t>(Le(zip, at + 38, 4));
    entry.flags = static_cast<uint16_t>(Le(zip, at + 8, 2));
    entry.method = static_cast<uint16_t>(Le(zip, at + 10, 2));
    entry.crc32 = static_cast<uint32_t>(Le(zip, at + 16, 4));
    entry.compressed_size = Le(zip, at + 20, 4);
    entry.uncompressed_size = Le(zip, at + 24, 4);
    entry.local_header_offset = Le(zip, at + 42, 4);
    const absl::string_view extra =
        zip.substr(at + kCentralSize + name_length, Le(zip, at + 30, 2));
    bool agree = !ReadExtraFields(extra, {&entry.uncompressed_size, &entry.compressed_size,
                                          &entry.local_header_offset});
    const uint64_t local = entry.local_header_offset;
    if (agree && local <= zip.size() && SignatureAt(zip, local, kLocalSignature, kLocalSize)) {
      const size_t local_name_length = Le(zip, local + 26, 2);
      const size_t local_extra_length = Le(zip, local + 28, 2);
      agree =
          zip.size() - local - kLocalSize >= local_name_length + local_extra_length &&
          zip.substr(local + kLocalSize, local_name_length) == entry.name &&
          (Le(zip, local + 6, 2) & kUtf8Flag) == (entry.flags & kUtf8Flag) &&
          !ReadExtraFields(zip.substr(local + kLocalSize + local_name_length, local_extra_length));
    } else {
      agree = false;
    }
    entry.headers_agree = agree;
    entries.push_back(std::move(entry));
    at += record_size;
  }
  return entries;
}

}  // namespace pgxn::archive
