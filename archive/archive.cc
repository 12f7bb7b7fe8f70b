#include "archive/archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <locale.h>

#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "archive/entry_error.h"
#include "archive/symlinks.h"
#include "archive/zip_directory.h"
#include "base/utf8.h"

namespace pgxn::archive {
namespace {

constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kReadChunk = 64 * 1024;

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ReadHandle = std::unique_ptr<struct archive, ReadFree>;
using WriteHandle = std::unique_ptr<struct archive, WriteFree>;
using EntryHandle = std::unique_ptr<struct archive_entry, EntryFree>;

const char* ErrorText(struct archive* a) {
  const char* why = archive_error_string(a);
  return why != nullptr ? why : "unknown error";
}

// Normalises an archive path ("./a/./b/" -> "a/b"; "./" -> ""), or says why it
// is refused, as a phrase completing "entry X ...".
absl::StatusOr<std::string> NormalizePath(absl::string_view raw) {
  if (raw.size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("has a path longer than ", kMaxPathBytes, " bytes"));
  }
  if (!base::IsValidUtf8(raw))
    return absl::InvalidArgumentError("has a name that is not valid UTF-8");
  for (char c : raw) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return absl::InvalidArgumentError("has a control character in its name");
    }
    if (c == '\\') return absl::InvalidArgumentError("has a backslash in its path");
  }
  if (!raw.empty() && raw[0] == '/') return absl::InvalidArgumentError("has an absolute path");
  if (!raw.empty() && raw.back() == '/') raw.remove_suffix(1);
  std::string out;
  if (raw.empty()) return out;
  for (absl::string_view segment : absl::StrSplit(raw, '/')) {
    if (segment == ".") continue;
    if (segment == "..") return absl::InvalidArgumentError("has a \"..\" path segment");
    if (segment.empty()) return absl::InvalidArgumentError("has an empty path segment");
    if (!out.empty()) out += '/';
    absl::StrAppend(&out, segment);
  }
  return out;
}

absl::Status NotADistribution(absl::string_view name) {
  return absl::FailedPreconditionError(
      absl::StrCat(Quote(name), " doesn't look like a distribution archive"));
}

// Why an entry of this file type may not be in a distribution, or nullptr if
// it may.
const char* RefusedFileType(unsigned int filetype) {
  switch (filetype) {
    case AE_IFREG:
    case AE_IFDIR:
    case AE_IFLNK:
      return nullptr;
    case AE_IFCHR:
      return "is a character device";
    case AE_IFBLK:
      return "is a block device";
    case AE_IFIFO:
      return "is a fifo";
    case AE_IFSOCK:
      return "is a socket";
    default:
      return "is of an unknown type";
  }
}

// An entry's type as its zip central directory record says it in the Unix
// mode bits, which Info-ZIP's unzip honours whatever system made the zip,
// reconciled with what libarchive read (`*filetype`, which it takes from those
// bits only for zips made on Unix). A link libarchive read as a file becomes a
// link, its data the target; `*rewrite` is set when the zip's bytes would
// unpack differently elsewhere. nullptr, or why the entry is refused.
const char* ReconcileZipType(const ZipDirectoryEntry& record, unsigned int* filetype,
                             bool* link_in_data, bool* rewrite) {
  const uint32_t mode = record.unix_mode();
  if ((mode & 07000) != 0) *rewrite = true;  // setuid, setgid, sticky: dropped
  const unsigned int stored = mode & AE_IFMT;
  if (stored == 0) return nullptr;  // no Unix mode: libarchive's reading stands
  if (const char* why = RefusedFileType(stored); why != nullptr) return why;
  if (stored == static_cast<unsigned int>(AE_IFLNK) && *filetype == AE_IFREG) {
    *filetype = AE_IFLNK;
    *link_in_data = true;
    *rewrite = true;
    return nullptr;
  }
  if (stored != *filetype) return "has a type its zip headers disagree on";
  if (record.made_by_system != kZipMadeOnUnix) *rewrite = true;
  return nullptr;
}

// Every parent of a path must be a directory: "a" a file and "a/b" an entry
// would unpack differently depending on the tool.
absl::Status CheckParentsAreDirectories(absl::string_view name,
                                        const std::vector<ArchiveEntry>& entries) {
  absl::flat_hash_map<absl::string_view, ArchiveEntry::Type> not_directories;
  for (const ArchiveEntry& e : entries) {
    if (e.type != ArchiveEntry::Type::kDirectory) not_directories.emplace(e.path, e.type);
  }
  for (const ArchiveEntry& e : entries) {
    const absl::string_view path = e.path;
    for (size_t slash = path.find('/'); slash != absl::string_view::npos;
         slash = path.find('/', slash + 1)) {
      if (auto it = not_directories.find(path.substr(0, slash)); it != not_directories.end()) {
        return EntryError(
            name, e.path,
            absl::StrCat(
                "lies under ", Quote(path.substr(0, slash)), ", which is ",
                it->second == ArchiveEntry::Type::kSymlink ? "a symbolic link" : "a file"));
      }
    }
  }
  return absl::OkStatus();
}

// libarchive converts entry names between the archive's charset and the
// thread's locale. Under the "C" locale a UTF-8 zip name cannot be converted
// and comes back as NULL, so each call runs in C.UTF-8, on this thread only
// (uselocale), and restores the caller's locale on the way out. If C.UTF-8 is
// missing, non-ASCII names are refused as unreadable rather than mangled.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() : locale_(newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0))) {
    if (locale_ != static_cast<locale_t>(0)) previous_ = uselocale(locale_);
  }
  ~ScopedUtf8Locale() {
    if (locale_ == static_cast<locale_t>(0)) return;
    uselocale(previous_);
    freelocale(locale_);
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t locale_;
  locale_t previous_ = static_cast<locale_t>(0);
};

// The file names in every record of `zip` that starts with `signature` (a
// local "PK\3\4" or central "PK\1\2" header), the name's length being the
// 16-bit little-endian number at `length_at` and the name starting at
// `name_at`. File data that happens to hold a signature adds names, which can
// only make the list differ from the entries: the safe direction. This scan
// is not ReadZipDirectory's walk done twice: a streaming reader (bsdtar on a
// pipe) reads local headers in sequence, so a local header that no central
// record names is an entry to it, and only a scan of the whole file sees it.
std::vector<absl::string_view> HeaderNames(absl::string_view zip, absl::string_view signature,
                                           size_t length_at, size_t name_at) {
  std::vector<absl::string_view> names;
  for (size_t at = zip.find(signature); at != absl::string_view::npos;
       at = zip.find(signature, at + 1)) {
    if (zip.size() - at < name_at) break;
    const size_t length =
        static_cast<unsigned char>(zip[at + length_at]) |
        (static_cast<size_t>(static_cast<unsigned char>(zip[at + length_at + 1])) << 8);
    if (zip.size() - at - name_at < length) continue;
    names.push_back(zip.substr(at + name_at, length));
  }
  return names;
}

bool PathsStoredVerbatim(absl::string_view zip, const std::vector<ArchiveEntry>& entries) {
  std::vector<std::string> want;
  want.reserve(entries.size());
  for (const ArchiveEntry& e : entries) {
    want.push_back(e.type == ArchiveEntry::Type::kDirectory ? e.path + "/" : e.path);
  }
  auto same = [&](const std::vector<absl::string_view>& names) {
    if (names.size() != want.size()) return false;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] != want[i]) return false;
    }
    return true;
  };
  return same(HeaderNames(zip, absl::string_view("PK\x03\x04", 4), 26, 30)) &&
         same(HeaderNames(zip, absl::string_view("PK\x01\x02", 4), 28, 46));
}

la_ssize_t AppendToString(struct archive*, void* client_data, const void* buffer, size_t length) {
  static_cast<std::string*>(client_data)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

}  // namespace

absl::StatusOr<ReadArchiveResult> ReadArchive(absl::string_view bytes,
                                              absl::string_view display_name,
                                              const ArchiveLimits& limits) {
  if (bytes.empty()) return NotADistribution(display_name);
  const ScopedUtf8Locale utf8_locale;  // outlives the handle below
  ReadHandle a(archive_read_new());
  if (a == nullptr) return absl::ResourceExhaustedError("Cannot allocate an archive reader");
  // Exactly the formats PGXN takes; "all" would open cpio, rar, 7z, iso9660...
  // Zips are read through their central directory, as every client will read
  // them: the streaming reader would accept a zip whose directory is missing
  // or cut short, and such a zip cannot be opened once published.
  if (archive_read_support_format_zip_seekable(a.get()) != ARCHIVE_OK ||
      archive_read_support_format_tar(a.get()) != ARCHIVE_OK ||
      archive_read_support_filter_gzip(a.get()) < ARCHIVE_WARN ||
      archive_read_support_filter_bzip2(a.get()) < ARCHIVE_WARN) {
    return absl::InternalError(
        absl::StrCat("Cannot set up the archive reader: ", ErrorText(a.get())));
  }
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return NotADistribution(display_name);
  }

  // Read before libarchive's entries, to judge each by its record. Only
  // consulted once libarchive says the archive is a zip.
  const absl::optional<std::vector<ZipDirectoryEntry>> zip_directory =
      ReadZipDirectory(bytes, limits.max_entries + 1);
  absl::flat_hash_map<absl::string_view, const ZipDirectoryEntry*> zip_records;
  // Rewritten rather than published as is whenever another reader could see
  // other entries than libarchive shows us: names read differently, records
  // that name no entry read, two records of one name.
  bool rewrite = !zip_directory.has_value();
  if (zip_directory.has_value()) {
    for (const ZipDirectoryEntry& record : *zip_directory) {
      if (!record.headers_agree || !zip_records.emplace(record.name, &record).second) {
        rewrite = true;
      }
    }
  }

  ReadArchiveResult result;
  absl::flat_hash_set<std::string> seen;
  std::unique_ptr<char[]> chunk(new char[kReadChunk]);
  uint64_t total_bytes = 0;
  size_t count = 0;
  for (;;) {
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      // Failing on the very first header is what garbage looks like.
      if (count == 0) return NotADistribution(display_name);
      return absl::FailedPreconditionError(absl::StrCat(
          Quote(display_name), " is corrupt after entry #", count, ": ", ErrorText(a.get())));
    }
    if (++count > limits.max_entries) {
      return absl::FailedPreconditionError(
          absl::StrCat(Quote(display_name), " has more than ", limits.max_entries, " entries"));
    }

    const char* raw_name = archive_entry_pathname_utf8(e);
    if (raw_name == nullptr) raw_name = archive_entry_pathname(e);
    if (raw_name == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat(Quote(display_name), " entry #", count, " has no readable name"));
    }
    const absl::string_view raw_path(raw_name);
    absl::StatusOr<std::string> path = NormalizePath(raw_path);
    if (!path.ok()) return EntryError(display_name, raw_path, path.status().message());
    if (archive_entry_hardlink(e) != nullptr) {
      return EntryError(display_name, raw_path, "is a hard link");
    }
    unsigned int filetype = archive_entry_filetype(e);
    bool link_in_data = false;  // a link whose target libarchive read as data
    if ((archive_format(a.get()) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP) {
      if (auto record = zip_records.find(raw_path); record == zip_records.end()) {
        rewrite = true;
      } else if (const char* why =
                     ReconcileZipType(*record->second, &filetype, &link_in_data, &rewrite);
                 why != nullptr) {
        return EntryError(display_name, raw_path, why);
      }
    }
    if (const char* why = RefusedFileType(filetype); why != nullptr) {
      return EntryError(display_name, raw_path, why);
    }
    if (archive_entry_is_encrypted(e)) return EntryError(display_name, raw_path, "is encrypted");
    const bool is_dir = filetype == AE_IFDIR;
    const bool is_link = filetype == AE_IFLNK;
    if (path->empty()) {
      if (is_dir) continue;  // tar's "./": the archive root itself
      return EntryError(display_name, raw_path, "has an empty path");
    }
    if (!seen.insert(*path).second) {
      return absl::FailedPreconditionError(
          absl::StrCat(Quote(display_name), " has more than one entry named ", Quote(*path)));
    }
    // A header's size can only make us refuse early; acceptance depends on the
    // bytes that actually come out of the decompressor.
    if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
        static_cast<uint64_t>(archive_entry_size(e)) > limits.max_entry_bytes) {
      return EntryError(
          display_name, *path,
          absl::StrCat("is larger than the limit of ", limits.max_entry_bytes, " bytes"));
    }

    ArchiveEntry entry;
    entry.path = *std::move(path);
    entry.type = is_dir    ? ArchiveEntry::Type::kDirectory
                 : is_link ? ArchiveEntry::Type::kSymlink
                           : ArchiveEntry::Type::kFile;
    entry.mtime = static_cast<int64_t>(archive_entry_mtime(e));
    const uint32_t perm = static_cast<uint32_t>(archive_entry_perm(e));
    if ((perm & 07000) != 0) rewrite = true;
    entry.mode = perm & 0777;
    uint64_t entry_bytes = 0;
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), chunk.get(), kReadChunk);
      if (n == 0) break;
      if (n < 0) {
        return EntryError(display_name, entry.path,
                          absl::StrCat("cannot be read: ", ErrorText(a.get())));
      }
      entry_bytes += static_cast<uint64_t>(n);
      total_bytes += static_cast<uint64_t>(n);
      if (entry_bytes > limits.max_entry_bytes) {
        return EntryError(
            display_name, entry.path,
            absl::StrCat("is larger than the limit of ", limits.max_entry_bytes, " bytes"));
      }
      if (total_bytes > limits.max_total_bytes) {
        return absl::FailedPreconditionError(
            absl::StrCat(Quote(display_name), " unpacks to more than the limit of ",
                         limits.max_total_bytes, " bytes (at entry ", Quote(entry.path), ")"));
      }
      if (!is_dir) entry.data.append(chunk.get(), static_cast<size_t>(n));
    }
    if (is_link) {
      if (!link_in_data) {
        const char* target = archive_entry_symlink_utf8(e);
        if (target == nullptr) target = archive_entry_symlink(e);
        entry.data = target != nullptr ? target : "";
      }
      entry.link_target = std::move(entry.data);
      entry.data.clear();
      if (absl::Status s = CheckLinkTarget(entry.link_target); !s.ok()) {
        return EntryError(display_name, entry.path, s.message());
      }
    }
    result.entries.push_back(std::move(entry));
  }
  // A zip without entries: libarchive reads a stray byte before a bare end
  // record as one, which unzip calls corrupt, so PGXN says it does not look
  // like a distribution, as of an empty zip. An empty tar is a tar (PGXN
  // extracts it and finds no META.json), so it passes here.
  if (result.entries.empty() &&
      (archive_format(a.get()) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP) {
    return NotADistribution(display_name);
  }

  switch (archive_format(a.get()) & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_ZIP:
      if (!zip_directory.has_value() || zip_directory->size() != count) rewrite = true;
      // A compressed zip is not a zip that clients can download as is.
      if (archive_filter_count(a.get()) > 1 ||
          archive_filter_code(a.get(), 0) != ARCHIVE_FILTER_NONE) {
        return NotADistribution(display_name);
      }
      result.format = ArchiveFormat::kZip;
      result.publishable_as_is = !rewrite && PathsStoredVerbatim(bytes, result.entries);
      break;
    case ARCHIVE_FORMAT_TAR:
      result.format = ArchiveFormat::kTar;
      break;
    default:
      return NotADistribution(display_name);
  }
  if (absl::Status s = CheckParentsAreDirectories(display_name, result.entries); !s.ok()) {
    return s;
  }
  if (absl::Status s = ResolveSymlinks(display_name, result.entries, limits, &total_bytes);
      !s.ok()) {
    return s;
  }
  return result;
}

absl::StatusOr<std::string> WriteZip(const std::vector<ArchiveEntry>& entries) {
  absl::flat_hash_set<absl::string_view> seen;
  for (const ArchiveEntry& entry : entries) {
    absl::StatusOr<std::string> normal = NormalizePath(entry.path);
    if (!normal.ok() || *normal != entry.path || entry.path.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Cannot write zip entry ", Quote(entry.path), ": ",
                       normal.ok() ? "its path is not in normal form" : normal.status().message()));
    }
    if (!seen.insert(entry.path).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("Cannot write zip entry ", Quote(entry.path), ": duplicate path"));
    }
    if (entry.type == ArchiveEntry::Type::kSymlink) {
      if (absl::Status s = CheckLinkTarget(entry.link_target); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Cannot write zip entry ", Quote(entry.path), ": it ", s.message()));
      }
    }
  }

  std::string out;
  const ScopedUtf8Locale utf8_locale;  // outlives the handle below
  WriteHandle a(archive_write_new());
  if (a == nullptr) return absl::ResourceExhaustedError("Cannot allocate an archive writer");
  auto failed = [&](absl::string_view what) {
    return absl::InternalError(absl::StrCat("Cannot write zip: ", what, ": ", ErrorText(a.get())));
  };
  if (archive_write_set_format_zip(a.get()) != ARCHIVE_OK) return failed("zip format");
  if (archive_write_zip_set_compression_deflate(a.get()) != ARCHIVE_OK) {
    return failed("deflate");
  }
  // Names are UTF-8 (ReadArchive guarantees it); say so in the zip.
  if (archive_write_set_options(a.get(), "zip:hdrcharset=UTF-8") < ARCHIVE_WARN) {
    return failed("hdrcharset");
  }
  if (archive_write_set_bytes_per_block(a.get(), 1) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK) {
    return failed("blocking");
  }
  if (archive_write_open2(a.get(), &out, nullptr, AppendToString, nullptr, nullptr) != ARCHIVE_OK) {
    return failed("open");
  }
  for (const ArchiveEntry& entry : entries) {
    EntryHandle e(archive_entry_new());
    if (e == nullptr) return absl::ResourceExhaustedError("Cannot allocate an archive entry");
    const bool is_dir = entry.type == ArchiveEntry::Type::kDirectory;
    const bool is_link = entry.type == ArchiveEntry::Type::kSymlink;
    const bool has_data = !is_dir && !is_link;
    const std::string name = is_dir ? entry.path + "/" : entry.path;
    archive_entry_set_pathname_utf8(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), is_dir ? AE_IFDIR : is_link ? AE_IFLNK : AE_IFREG);
    // A link's own permissions mean nothing; git archive writes 0777.
    archive_entry_set_perm(e.get(), static_cast<mode_t>(is_link ? 0777 : entry.mode & 0777));
    archive_entry_set_mtime(e.get(), static_cast<time_t>(entry.mtime), 0);
    // libarchive's zip writer stores a link's target as its data.
    if (is_link) archive_entry_set_symlink_utf8(e.get(), entry.link_target.c_str());
    archive_entry_set_size(e.get(), has_data ? static_cast<la_int64_t>(entry.data.size()) : 0);
    if (archive_write_header(a.get(), e.get()) < ARCHIVE_WARN) {
      return failed(absl::StrCat("header of ", Quote(entry.path)));
    }
    if (has_data) {
      size_t written = 0;
      while (written < entry.data.size()) {
        const la_ssize_t n =
            archive_write_data(a.get(), entry.data.data() + written, entry.data.size() - written);
        if (n <= 0) return failed(absl::StrCat("data of ", Quote(entry.path)));
        written += static_cast<size_t>(n);
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return failed("close");
  return out;
}

}  // namespace pgxn::archive
