#include "indexer/docs/source_index.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "archive/zip_directory.h"
#include "base/digest.h"
#include "base/utf8.h"

namespace pgxn::indexer {
namespace {

struct Record {
  std::string name;  // normalised as ReadArchive names entries
  ZipLocation location;
};

// The central directory's records (archive/zip_directory.h, the reader
// ReadArchive judges entries with), or nullopt if it cannot be found
// plainly: the archive library reads such zips another way, and their
// entries stay unlocated.
absl::optional<std::vector<Record>> ReadCentralDirectory(absl::string_view zip) {
  absl::optional<std::vector<archive::ZipDirectoryEntry>> directory =
      archive::ReadZipDirectory(zip);
  if (!directory.has_value()) return absl::nullopt;
  std::vector<Record> records;
  records.reserve(directory->size());
  for (const archive::ZipDirectoryEntry& entry : *directory) {
    Record record;
    absl::string_view name = entry.name;
    while (absl::ConsumePrefix(&name, "./")) {
    }
    absl::ConsumeSuffix(&name, "/");
    record.name = std::string(name);
    ZipLocation& location = record.location;
    location.method = entry.method;
    location.crc32 = entry.crc32;
    location.compressed_size = entry.compressed_size;
    location.header_offset = entry.local_header_offset;
    // Encrypted entries never reach an index (ReadArchive refuses them);
    // other methods are left to the archive library.
    location.located =
        (entry.flags & 1) == 0 &&
        (location.method == kZipStored || location.method == kZipDeflated) &&
        location.header_offset < zip.size() &&
        (location.method != kZipStored || location.compressed_size == entry.uncompressed_size);
    records.push_back(std::move(record));
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
