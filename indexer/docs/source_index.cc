#include "indexer/docs/source_index.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "base/digest.h"
#include "base/utf8.h"

namespace pgxn::indexer {
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
constexpr uint16_t kZip64Extra = 0x0001;
constexpr uint32_t kMax32 = 0xFFFFFFFF;

// Little-endian integer of `n` bytes at `at`; the caller checked the bounds.
uint64_t Le(absl::string_view bytes, size_t at, int n) {
  uint64_t value = 0;
  for (int i = n - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
  }
  return value;
}

bool SignatureAt(absl::string_view bytes, uint64_t at, absl::string_view signature, size_t size) {
  return at <= bytes.size() && bytes.size() - at >= size && bytes.substr(at, 4) == signature;
}

struct Record {
  std::string name;  // normalised as ReadArchive names entries
  ZipLocation location;
};

// The central directory's records, or nullopt if it cannot be found plainly
// (the archive library reads such zips another way; their entries stay
// unlocated). Archive's own zip_directory.h reads the same structure for
// other fields; this reads where each entry's bytes are.
absl::optional<std::vector<Record>> ReadCentralDirectory(absl::string_view zip) {
  if (zip.size() < kEndSize) return absl::nullopt;
  size_t end = absl::string_view::npos;
  const size_t lowest =
      zip.size() > kEndSize + kMaxCommentSize ? zip.size() - kEndSize - kMaxCommentSize : 0;
  for (size_t at = zip.size() - kEndSize + 1; at-- > lowest;) {
    if (zip.substr(at, 4) == kEndSignature && at + kEndSize + Le(zip, at + 20, 2) == zip.size()) {
      end = at;
      break;
    }
  }
  if (end == absl::string_view::npos) return absl::nullopt;
  uint64_t count = Le(zip, end + 10, 2);
  uint64_t offset = Le(zip, end + 16, 4);
  if (count == 0xFFFF || offset == kMax32 || Le(zip, end + 12, 4) == kMax32) {
    if (end < kZip64LocatorSize ||
        !SignatureAt(zip, end - kZip64LocatorSize, kZip64LocatorSignature, kZip64LocatorSize)) {
      return absl::nullopt;
    }
    const uint64_t zip64_end = Le(zip, end - kZip64LocatorSize + 8, 8);
    if (!SignatureAt(zip, zip64_end, kZip64EndSignature, kZip64EndSize)) return absl::nullopt;
    count = Le(zip, zip64_end + 32, 8);
    offset = Le(zip, zip64_end + 48, 8);
  }
  std::vector<Record> records;
  uint64_t at = offset;
  for (uint64_t i = 0; i < count; ++i) {
    if (!SignatureAt(zip, at, kCentralSignature, kCentralSize)) return absl::nullopt;
    const size_t name_size = Le(zip, at + 28, 2);
    const size_t extra_size = Le(zip, at + 30, 2);
    const size_t comment_size = Le(zip, at + 32, 2);
    if (zip.size() - at - kCentralSize < name_size + extra_size + comment_size) {
      return absl::nullopt;
    }
    Record record;
    absl::string_view name = zip.substr(at + kCentralSize, name_size);
    while (absl::ConsumePrefix(&name, "./")) {
    }
    absl::ConsumeSuffix(&name, "/");
    record.name = std::string(name);
    ZipLocation& location = record.location;
    const uint16_t flags = static_cast<uint16_t>(Le(zip, at + 8, 2));
    location.method = static_cast<uint16_t>(Le(zip, at + 10, 2));
    location.crc32 = static_cast<uint32_t>(Le(zip, at + 16, 4));
    location.compressed_size = Le(zip, at + 20, 4);
    uint64_t size = Le(zip, at + 24, 4);
    location.header_offset = Le(zip, at + 42, 4);
    // Zip64: the 8-byte values of those that are 0xFFFFFFFF above, in order.
    const absl::string_view extra = zip.substr(at + kCentralSize + name_size, extra_size);
    for (size_t e = 0; extra.size() - e >= 4;) {
      const uint16_t id = static_cast<uint16_t>(Le(extra, e, 2));
      const size_t field_size = Le(extra, e + 2, 2);
      if (extra.size() - e - 4 < field_size) break;
      if (id == kZip64Extra) {
        size_t f = e + 4;
        const size_t field_end = f + field_size;
        for (uint64_t* value : {&size, &location.compressed_size, &location.header_offset}) {
          if (*value != kMax32) continue;
          if (field_end - f < 8) break;
          *value = Le(extra, f, 8);
          f += 8;
        }
      }
      e += 4 + field_size;
    }
    // Encrypted entries never reach an index (ReadArchive refuses them);
    // other methods are left to the archive library.
    location.located = (flags & 1) == 0 &&
                       (location.method == kZipStored || location.method == kZipDeflated) &&
                       location.header_offset < zip.size() &&
                       (location.method != kZipStored || location.compressed_size == size);
    records.push_back(std::move(record));
    at += kCentralSize + name_size + extra_size + comment_size;
  }
  return records;
}

// Appends `value` as a base-128 varint.
void PutVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void PutString(std::string* out, absl::string_view value) {
  PutVarint(out, value.size());
  out->append(value.data(), value.size());
}

// Reads what PutVarint and PutString wrote; every read fails (and stays
// failed) past the end.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}
  bool ok() const { return ok_; }
  bool done() const { return bytes_.empty(); }

  uint64_t Varint() {
    uint64_t value = 0;
    for (int shift = 0; ok_ && shift < 64; shift += 7) {
      if (bytes_.empty()) break;
      const auto byte = static_cast<unsigned char>(bytes_.front());
      bytes_.remove_prefix(1);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    ok_ = false;
    return 0;
  }
  std::string String() {
    const uint64_t size = Varint();
    if (!ok_ || size > bytes_.size()) {
      ok_ = false;
      return "";
    }
    std::string value(bytes_.substr(0, size));
    bytes_.remove_prefix(size);
    return value;
  }

 private:
  absl::string_view bytes_;
  bool ok_ = true;
};

constexpr char kFormat = '\x01';

}  // namespace

absl::string_view SourceMediaType(absl::string_view path, absl::string_view content) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  const std::string extension =
      dot == absl::string_view::npos || (slash != absl::string_view::npos && slash > dot)
          ? std::string()
          : absl::AsciiStrToLower(path.substr(dot + 1));
  if (extension == "svg") return kSourceSvgType;
  if (!absl::StrContains(content, '\0') && base::IsValidUtf8(content)) return kSourceTextType;
  static constexpr std::pair<absl::string_view, absl::string_view> kBinaryTypes[] = {
      {"png", "image/png"},       {"gif", "image/gif"},        {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},     {"webp", "image/webp"},      {"ico", "image/vnd.microsoft.icon"},
      {"bmp", "image/bmp"},       {"pdf", "application/pdf"},  {"zip", "application/zip"},
      {"gz", "application/gzip"}, {"tgz", "application/gzip"}, {"bz2", "application/x-bzip2"},
      {"woff", "font/woff"},      {"woff2", "font/woff2"},
  };
  for (const auto& [known, type] : kBinaryTypes) {
    if (extension == known) return type;
  }
  return "application/octet-stream";
}

SourceIndex BuildSourceIndex(absl::string_view zip,
                             const std::vector<archive::ArchiveEntry>& entries) {
  SourceIndex index;
  index.zip_sha256 = base::Sha256(zip);
  // Name → its record, or nullopt when two records share it.
  absl::flat_hash_map<std::string, absl::optional<ZipLocation>> records;
  if (absl::optional<std::vector<Record>> directory = ReadCentralDirectory(zip)) {
    for (Record& record : *directory) {
      auto [it, added] = records.try_emplace(std::move(record.name), record.location);
      if (!added) it->second = absl::nullopt;
    }
  }
  index.entries.reserve(entries.size());
  for (const archive::ArchiveEntry& e : entries) {
    SourceEntry entry;
    entry.path = e.path;
    entry.type = e.type;
    entry.resolves_to_directory = e.resolves_to_directory;
    entry.link_target = e.link_target;
    entry.resolved = e.resolved;
    if (e.ReadsAsFile()) {
      entry.size = e.data.size();
      entry.sha256 = base::Sha256(e.data);
      entry.media_type = std::string(SourceMediaType(e.path, e.data));
      // A link's bytes are those of the file it resolves to.
      const std::string& where =
          e.type == archive::ArchiveEntry::Type::kSymlink ? e.resolved : e.path;
      if (auto it = records.find(where); it != records.end() && it->second.has_value()) {
        entry.location = *it->second;
      }
    }
    index.entries.push_back(std::move(entry));
  }
  return index;
}

std::string EncodeSourceIndex(const SourceIndex& index) {
  std::string out(1, kFormat);
  PutString(&out, index.zip_sha256);
  PutVarint(&out, index.entries.size());
  for (const SourceEntry& e : index.entries) {
    PutString(&out, e.path);
    PutVarint(&out, static_cast<uint64_t>(e.type));
    PutVarint(&out, (e.resolves_to_directory ? 1 : 0) | (e.location.located ? 2 : 0));
    PutString(&out, e.link_target);
    PutString(&out, e.resolved);
    PutVarint(&out, e.size);
    PutString(&out, e.sha256);
    PutString(&out, e.media_type);
    PutVarint(&out, e.location.header_offset);
    PutVarint(&out, e.location.compressed_size);
    PutVarint(&out, e.location.method);
    PutVarint(&out, e.location.crc32);
  }
  return out;
}

absl::StatusOr<SourceIndex> DecodeSourceIndex(absl::string_view bytes) {
  if (bytes.empty() || bytes.front() != kFormat) {
    return absl::DataLossError("Not a source index of this format");
  }
  Reader reader(bytes.substr(1));
  SourceIndex index;
  index.zip_sha256 = reader.String();
  const uint64_t count = reader.Varint();
  // Each entry takes at least 12 bytes: a count beyond that is corrupt, and
  // must not reserve memory it names.
  if (!reader.ok() || count > bytes.size() / 12) {
    return absl::DataLossError("Source index is truncated");
  }
  index.entries.reserve(count);
  for (uint64_t i = 0; i < count && reader.ok(); ++i) {
    SourceEntry e;
    e.path = reader.String();
    const uint64_t type = reader.Varint();
    if (type > static_cast<uint64_t>(archive::ArchiveEntry::Type::kSymlink)) {
      return absl::DataLossError("Source index has an unknown entry type");
    }
    e.type = static_cast<archive::ArchiveEntry::Type>(type);
    const uint64_t flags = reader.Varint();
    e.resolves_to_directory = (flags & 1) != 0;
    e.location.located = (flags & 2) != 0;
    e.link_target = reader.String();
    e.resolved = reader.String();
    e.size = reader.Varint();
    e.sha256 = reader.String();
    e.media_type = reader.String();
    e.location.header_offset = reader.Varint();
    e.location.compressed_size = reader.Varint();
    e.location.method = static_cast<uint16_t>(reader.Varint());
    e.location.crc32 = static_cast<uint32_t>(reader.Varint());
    index.entries.push_back(std::move(e));
  }
  if (!reader.ok() || !reader.done()) return absl::DataLossError("Source index is truncated");
  return index;
}

}  // namespace pgxn::indexer
