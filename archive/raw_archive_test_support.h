// Test support: archives written exactly as given, through libarchive's
// writer, so that tests can build the hostile archives WriteZip refuses to
// produce (absolute paths, links anywhere, devices, encryption). Header-only;
// for the archive library's tests.
#ifndef PGXN_ARCHIVE_RAW_ARCHIVE_TEST_SUPPORT_H_
#define PGXN_ARCHIVE_RAW_ARCHIVE_TEST_SUPPORT_H_

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace pgxn::archive {

enum class Format { kPaxTar, kUstarTar, kZip, kStoredZip, kRaw };
enum class Filter { kNone, kGzip, kBzip2 };

struct RawEntry {
  std::string path;
  unsigned int filetype = AE_IFREG;
  std::string data;
  std::string symlink;   // target, for AE_IFLNK
  std::string hardlink;  // target; makes the entry a hard link
  int64_t mtime = 1300000000;
  unsigned int perm = 0644;
};

inline la_ssize_t Append(struct archive*, void* out, const void* buffer, size_t length) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// Writes entries exactly as given: no path checks, any file type.
inline std::string WriteRaw(const std::vector<RawEntry>& entries, Format format,
                            Filter filter = Filter::kNone, const char* passphrase = nullptr) {
  std::string out;
  struct archive* a = archive_write_new();
  switch (format) {
    case Format::kPaxTar:
      archive_write_set_format_pax_restricted(a);
      break;
    case Format::kUstarTar:
      archive_write_set_format_ustar(a);
      break;
    case Format::kZip:
      archive_write_set_format_zip(a);
      break;
    case Format::kStoredZip:
      archive_write_set_format_zip(a);
      archive_write_zip_set_compression_store(a);
      break;
    case Format::kRaw:
      archive_write_set_format_raw(a);
      break;
  }
  if (filter == Filter::kGzip) archive_write_add_filter_gzip(a);
  if (filter == Filter::kBzip2) archive_write_add_filter_bzip2(a);
  if (passphrase != nullptr) {
    EXPECT_EQ(archive_write_set_options(a, "zip:encryption=zipcrypt"), ARCHIVE_OK)
        << archive_error_string(a);
    EXPECT_EQ(archive_write_set_passphrase(a, passphrase), ARCHIVE_OK);
  }
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open2(a, &out, nullptr, Append, nullptr, nullptr), ARCHIVE_OK)
      << archive_error_string(a);
  for (const RawEntry& r : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, r.path.c_str());
    archive_entry_set_filetype(e, r.filetype);
    archive_entry_set_perm(e, r.perm);
    archive_entry_set_mtime(e, r.mtime, 0);
    if (!r.symlink.empty()) archive_entry_copy_symlink(e, r.symlink.c_str());
    if (!r.hardlink.empty()) archive_entry_copy_hardlink(e, r.hardlink.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(r.data.size()));
    EXPECT_GE(archive_write_header(a, e), ARCHIVE_WARN)
        << r.path << ": " << archive_error_string(a);
    if (!r.data.empty()) {
      EXPECT_EQ(archive_write_data(a, r.data.data(), r.data.size()),
                static_cast<la_ssize_t>(r.data.size()))
          << r.path;
    }
    archive_entry_free(e);
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
  return out;
}

inline RawEntry File(std::string path, std::string data) {
  RawEntry e;
  e.path = std::move(path);
  e.data = std::move(data);
  return e;
}

inline RawEntry Dir(std::string path) {
  RawEntry e;
  e.path = std::move(path);
  e.filetype = AE_IFDIR;
  e.perm = 0755;
  return e;
}

inline RawEntry Special(std::string path, unsigned int filetype) {
  RawEntry e;
  e.path = std::move(path);
  e.filetype = filetype;
  return e;
}

inline RawEntry Link(std::string path, std::string target) {
  RawEntry e = Special(std::move(path), AE_IFLNK);
  e.symlink = std::move(target);
  e.perm = 0777;
  return e;
}

// Rewrites, in the zip's central directory, the record of the entry stored
// as `name`: its "version made by" system and, unless `unix_mode` is -1, the
// Unix mode in its external attributes. Fails the test if there is no such
// record.
inline void PatchZipRecord(std::string& zip, const std::string& name, uint8_t made_by_system,
                           int64_t unix_mode = -1) {
  const std::string signature("PK\x01\x02", 4);
  for (size_t at = zip.find(signature); at != std::string::npos; at = zip.find(signature, at + 1)) {
    if (zip.size() - at < 46) break;
    const size_t length = static_cast<unsigned char>(zip[at + 28]) |
                          (static_cast<size_t>(static_cast<unsigned char>(zip[at + 29])) << 8);
    if (zip.compare(at + 46, length, name) != 0) continue;
    zip[at + 5] = static_cast<char>(made_by_system);
    if (unix_mode >= 0) {
      zip[at + 40] = static_cast<char>(unix_mode & 0xFF);
      zip[at + 41] = static_cast<char>((unix_mode >> 8) & 0xFF);
    }
    return;
  }
  ADD_FAILURE() << "no central record for " << name;
}

}  // namespace pgxn::archive

#endif  // PGXN_ARCHIVE_RAW_ARCHIVE_TEST_SUPPORT_H_
