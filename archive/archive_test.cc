#include "archive/archive.h"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "archive/raw_archive_test_support.h"
#include "gtest/gtest.h"

namespace pgxn::archive {
namespace {

ArchiveEntry Entry(std::string path, std::string data, int64_t mtime = 1300000000,
                   uint32_t mode = 0644) {
  return ArchiveEntry::File(std::move(path), std::move(data), mtime, mode);
}

ArchiveEntry DirEntry(std::string path, int64_t mtime = 1300000000, uint32_t mode = 0755) {
  return ArchiveEntry::Directory(std::move(path), mtime, mode);
}

void ExpectSameEntries(const std::vector<ArchiveEntry>& got, const std::vector<ArchiveEntry>& want,
                       const std::string& label) {
  ASSERT_EQ(got.size(), want.size()) << label;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].path, want[i].path) << label << " #" << i;
    EXPECT_EQ(got[i].type, want[i].type) << label << " " << want[i].path;
    EXPECT_EQ(got[i].data, want[i].data) << label << " " << want[i].path;
    EXPECT_EQ(got[i].mtime, want[i].mtime) << label << " " << want[i].path;
    EXPECT_EQ(got[i].mode, want[i].mode) << label << " " << want[i].path;
  }
}

std::string BinaryBytes() {
  std::string s;
  for (int i = 0; i < 3000; ++i) s += static_cast<char>(i * 7 % 256);
  return s;
}

TEST(WriteZipTest, RoundTripsThroughReadArchive) {
  const struct {
    std::string name;
    std::vector<ArchiveEntry> entries;
  } kCases[] = {
      {"one file", {Entry("META.json", "{}")}},
      {"layout with directories",
       {DirEntry("pair-0.1.0"), Entry("pair-0.1.0/META.json", "{\"name\":\"pair\"}"),
        DirEntry("pair-0.1.0/sql", 1400000000, 0700),
        Entry("pair-0.1.0/sql/pair.sql", "CREATE TYPE pair;\n", 1500000000, 0600),
        Entry("pair-0.1.0/configure", "#!/bin/sh\n", 1300000000, 0755)}},
      {"empty and binary files",
       {Entry("empty", ""), Entry("binary", BinaryBytes()),
        Entry("large", std::string(300000, 'z'))}},
      {"UTF-8 names", {Entry("d\xC3\xA5t\xC3\xA5/r\xC3\xA9sum\xC3\xA9.txt", "x")}},
      {"old and far mtimes", {Entry("a", "1", 315532800), Entry("b", "2", 4102444800)}},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::string> zip = WriteZip(c.entries);
    ASSERT_TRUE(zip.ok()) << c.name << ": " << zip.status();
    absl::StatusOr<ReadArchiveResult> read = ReadArchive(*zip, "t.zip", ArchiveLimits());
    ASSERT_TRUE(read.ok()) << c.name << ": " << read.status();
    EXPECT_EQ(read->format, ArchiveFormat::kZip) << c.name;
    EXPECT_TRUE(read->publishable_as_is) << c.name;
    ExpectSameEntries(read->entries, c.entries, c.name);
  }
}

TEST(WriteZipTest, SameEntriesGiveSameBytesLater) {
  const std::vector<ArchiveEntry> entries = {DirEntry("a"), Entry("a/b.txt", "hello"),
                                             Entry("a/c", BinaryBytes(), 1, 0600)};
  absl::StatusOr<std::string> first = WriteZip(entries);
  ASSERT_TRUE(first.ok()) << first.status();
  // Anything taken from the clock would differ once the clock is in a later
  // two-second slot (zip's times have that resolution) by both its fine and
  // its coarse reading (time(), which can lag a tick behind).
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const int64_t slot = std::chrono::duration_cast<std::chrono::seconds>(now).count() / 2;
  while (std::time(nullptr) / 2 <= slot) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  absl::StatusOr<std::string> second = WriteZip(entries);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*first, *second);
  EXPECT_TRUE(absl::StartsWith(*first, "PK\x03\x04"));
}

TEST(WriteZipTest, DeflatesFiles) {
  absl::StatusOr<std::string> zip = WriteZip({Entry("zeros", std::string(1 << 20, '\0'))});
  ASSERT_TRUE(zip.ok()) << zip.status();
  EXPECT_LT(zip->size(), 10000u);
}

TEST(WriteZipTest, RefusesPathsReadArchiveWouldRefuse) {
  const struct {
    std::vector<ArchiveEntry> entries;
    std::string message;
  } kCases[] = {
      {{Entry("", "x")}, "Cannot write zip entry \"\": its path is not in normal form"},
      {{Entry("/etc/passwd", "x")}, "Cannot write zip entry \"/etc/passwd\": has an absolute path"},
      {{Entry("../evil", "x")}, "Cannot write zip entry \"../evil\": has a \"..\" path segment"},
      {{Entry("a/./b", "x")}, "Cannot write zip entry \"a/./b\": its path is not in normal form"},
      {{DirEntry("a/")}, "Cannot write zip entry \"a/\": its path is not in normal form"},
      {{Entry("a\\b", "x")}, "Cannot write zip entry \"a\\\\b\": has a backslash in its path"},
      {{Entry("a", "1"), Entry("a", "2")}, "Cannot write zip entry \"a\": duplicate path"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::string> zip = WriteZip(c.entries);
    ASSERT_FALSE(zip.ok()) << c.message;
    EXPECT_EQ(zip.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(std::string(zip.status().message()), c.message);
  }
}

TEST(ReadArchiveTest, ReadsTarWithEachCompression) {
  const std::vector<RawEntry> raw = {
      Dir("./"),
      Dir("./widget-1.0.0/"),
      File("./widget-1.0.0/META.json", "{\"name\":\"widget\"}"),
      File("widget-1.0.0/./README", "Read me\n"),
      File("widget-1.0.0/bin", BinaryBytes()),
  };
  const std::vector<ArchiveEntry> want = {
      DirEntry("widget-1.0.0"),
      Entry("widget-1.0.0/META.json", "{\"name\":\"widget\"}"),
      Entry("widget-1.0.0/README", "Read me\n"),
      Entry("widget-1.0.0/bin", BinaryBytes()),
  };
  const struct {
    std::string name;
    Format format;
    Filter filter;
  } kCases[] = {
      {"w.tar", Format::kPaxTar, Filter::kNone},
      {"w.tar.gz", Format::kPaxTar, Filter::kGzip},
      {"w.tar.bz2", Format::kPaxTar, Filter::kBzip2},
      {"w.ustar.tgz", Format::kUstarTar, Filter::kGzip},
  };
  for (const auto& c : kCases) {
    const std::string bytes = WriteRaw(raw, c.format, c.filter);
    absl::StatusOr<ReadArchiveResult> read = ReadArchive(bytes, c.name, ArchiveLimits());
    ASSERT_TRUE(read.ok()) << c.name << ": " << read.status();
    EXPECT_EQ(read->format, ArchiveFormat::kTar) << c.name;
    EXPECT_FALSE(read->publishable_as_is) << c.name;
    ExpectSameEntries(read->entries, want, c.name);
  }
}

TEST(ReadArchiveTest, ReadsZipWrittenByOtherTools) {
  const std::string bytes =
      WriteRaw({Dir("pair-0.1.0/"), File("pair-0.1.0/META.json", "{}")}, Format::kZip);
  absl::StatusOr<ReadArchiveResult> read = ReadArchive(bytes, "pair.zip", ArchiveLimits());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->format, ArchiveFormat::kZip);
  EXPECT_TRUE(read->publishable_as_is);
  ExpectSameEntries(read->entries, {DirEntry("pair-0.1.0"), Entry("pair-0.1.0/META.json", "{}")},
                    "pair.zip");
}

TEST(ReadArchiveTest, ReportsZipPathsRewrittenOnReading) {
  const struct {
    std::string label;
    std::vector<RawEntry> raw;
    Format format;
    std::string first_path;
    bool verbatim;
  } kCases[] = {
      {"normal names", {Dir("p/"), File("p/META.json", "{}")}, Format::kZip, "p", true},
      {"normal names, stored",
       {File("p/META.json", "{}")},
       Format::kStoredZip,
       "p/META.json",
       true},
      {"dot-slash prefix", {File("./p/META.json", "{}")}, Format::kZip, "p/META.json", false},
      {"dot segment", {File("p/./META.json", "{}")}, Format::kZip, "p/META.json", false},
      {"Windows separators", {File("p\\META.json", "{}")}, Format::kZip, "p/META.json", false},
      {"root entry skipped",
       {Dir("./"), File("META.json", "{}")},
       Format::kZip,
       "META.json",
       false},
      // Only ever errs towards repacking.
      {"stored data that looks like a header",
       {File("p/META.json", std::string("PK\x01\x02", 4) + std::string(24, '\0') +
                                std::string("\x02\x00", 2) + std::string(16, '\0') + "ab")},
       Format::kStoredZip,
       "p/META.json",
       false},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<ReadArchiveResult> read =
        ReadArchive(WriteRaw(c.raw, c.format), "p.zip", ArchiveLimits());
    ASSERT_TRUE(read.ok()) << c.label << ": " << read.status();
    ASSERT_FALSE(read->entries.empty()) << c.label;
    EXPECT_EQ(read->entries[0].path, c.first_path) << c.label;
    EXPECT_EQ(read->publishable_as_is, c.verbatim) << c.label;
  }
}

std::string RandomBytes(size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<RawEntry> ManyFiles(int n) {
  std::vector<RawEntry> out;
  for (int i = 0; i < n; ++i) out.push_back(File(absl::StrCat("d/f", i), "x"));
  return out;
}

TEST(ReadArchiveTest, RefusesHostileArchivesNamingFileAndEntry) {
  ArchiveLimits small;
  small.max_entries = 5;
  small.max_entry_bytes = 1 << 20;
  small.max_total_bytes = 1 << 20;
  const std::string chunk(300 * 1024, 'q');
  std::string valid_zip =
      WriteRaw({File("a/META.json", "{}"), File("a/b", BinaryBytes())}, Format::kZip);
  const struct {
    std::string name;
    std::string bytes;
    ArchiveLimits limits;
    std::string message;  // exact, or a prefix when it ends in "..."
  } kCases[] = {
      {"empty.zip", "", {}, "\"empty.zip\" doesn't look like a distribution archive"},
      // Found by fuzz/archive_fuzz: an end record without entries after a
      // stray byte, which libarchive reads as a zip of nothing.
      {"nothing.zip",
       "n" + std::string("PK\x05\x06") + std::string(18, '\0'),
       {},
       "\"nothing.zip\" doesn't look like a distribution archive"},
      {"garbage.zip",
       RandomBytes(4096),
       {},
       "\"garbage.zip\" doesn't look like a distribution archive"},
      {"text.tar", "hello, world\n", {}, "\"text.tar\" doesn't look like a distribution archive"},
      {"junk.tar",
       std::string(512, 'x'),
       {},
       "\"junk.tar\" doesn't look like a distribution archive"},
      {"plain.gz",
       WriteRaw({File("data", "not an archive inside")}, Format::kRaw, Filter::kGzip),
       {},
       "\"plain.gz\" doesn't look like a distribution archive"},
      {"zip.gz",
       WriteRaw({File("a/META.json", "{}")}, Format::kZip, Filter::kGzip),
       {},
       "\"zip.gz\" doesn't look like a distribution archive"},
      {"truncated.zip",
       valid_zip.substr(0, valid_zip.size() / 2),
       {},
       "\"truncated.zip\" doesn't look like a distribution archive..."},
      {"link.tar",
       WriteRaw({File("a/x", "1"),
                 [] {
                   RawEntry e = Special("a/link", AE_IFLNK);
                   e.symlink = "/etc/passwd";
                   return e;
                 }()},
                Format::kPaxTar),
       {},
       "\"link.tar\" entry \"a/link\" is a symbolic link to an absolute path, \"/etc/passwd\""},
      {"link.zip",
       WriteRaw({[] {
                  RawEntry e = Special("a/link", AE_IFLNK);
                  e.symlink = "../../etc/passwd";
                  return e;
                }()},
                Format::kZip),
       {},
       "\"link.zip\" entry \"a/link\" is a symbolic link to \"../../etc/passwd\", outside \"a\""},
      {"hard.tar",
       WriteRaw({File("a/x", "1"),
                 [] {
                   RawEntry e = File("a/y", "");
                   e.hardlink = "a/x";
                   return e;
                 }()},
                Format::kPaxTar),
       {},
       "\"hard.tar\" entry \"a/y\" is a hard link"},
      {"fifo.tar",
       WriteRaw({Special("a/fifo", AE_IFIFO)}, Format::kPaxTar),
       {},
       "\"fifo.tar\" entry \"a/fifo\" is a fifo"},
      {"chr.tar",
       WriteRaw({Special("a/null", AE_IFCHR)}, Format::kPaxTar),
       {},
       "\"chr.tar\" entry \"a/null\" is a character device"},
      {"blk.tar",
       WriteRaw({Special("a/sda", AE_IFBLK)}, Format::kPaxTar),
       {},
       "\"blk.tar\" entry \"a/sda\" is a block device"},
      {"dotdot.tar",
       WriteRaw({File("../evil", "x")}, Format::kPaxTar),
       {},
       "\"dotdot.tar\" entry \"../evil\" has a \"..\" path segment"},
      {"dotdot.zip",
       WriteRaw({File("a/../../evil", "x")}, Format::kZip),
       {},
       "\"dotdot.zip\" entry \"a/../../evil\" has a \"..\" path segment"},
      {"abs.tar",
       WriteRaw({File("/etc/passwd", "root:x:0:0")}, Format::kPaxTar),
       {},
       "\"abs.tar\" entry \"/etc/passwd\" has an absolute path"},
      {"abs.zip",
       WriteRaw({File("/etc/passwd", "root:x:0:0")}, Format::kZip),
       {},
       "\"abs.zip\" entry \"/etc/passwd\" has an absolute path"},
      // libarchive turns a zip's backslashes into slashes, so this is a ".." case.
      {"backslash.zip",
       WriteRaw({File("a\\..\\..\\evil", "x")}, Format::kZip),
       {},
       "\"backslash.zip\" entry \"a/../../evil\" has a \"..\" path segment"},
      {"backslash.tar",
       WriteRaw({File("a\\..\\..\\evil", "x")}, Format::kPaxTar),
       {},
       "\"backslash.tar\" entry \"a\\\\..\\\\..\\\\evil\" has a backslash in its path"},
      {"double-slash.tar",
       WriteRaw({File("a//b", "x")}, Format::kPaxTar),
       {},
       "\"double-slash.tar\" entry \"a//b\" has an empty path segment"},
      {"newline.tar",
       WriteRaw({File("a/b\nc", "x")}, Format::kPaxTar),
       {},
       "\"newline.tar\" entry \"a/b\\nc\" has a control character in its name"},
      {"latin1.tar",
       WriteRaw({File("a/caf\xE9", "x")}, Format::kUstarTar),
       {},
       "\"latin1.tar\" entry \"a/caf\xEF\xBF\xBD\" has a name that is not valid UTF-8"},
      {"long.tar",
       WriteRaw({File(std::string(5000, 'n'), "x")}, Format::kPaxTar),
       {},
       "\"long.tar\" entry \"" + std::string(200, 'n') + "...\" has a path longer than 4096 bytes"},
      {"dup.tar",
       WriteRaw({File("a/b", "1"), File("a/b", "2")}, Format::kPaxTar),
       {},
       "\"dup.tar\" has more than one entry named \"a/b\""},
      {"dup-normalised.tar",
       WriteRaw({File("a/b", "1"), File("./a/./b", "2")}, Format::kPaxTar),
       {},
       "\"dup-normalised.tar\" has more than one entry named \"a/b\""},
      {"dup-dir.zip",
       WriteRaw({Dir("a/"), File("a", "2")}, Format::kZip),
       {},
       "\"dup-dir.zip\" has more than one entry named \"a\""},
      {"under-file.tar",
       WriteRaw({File("a", "1"), File("a/b", "2")}, Format::kPaxTar),
       {},
       "\"under-file.tar\" entry \"a/b\" lies under \"a\", which is a file"},
      {"many.tar", WriteRaw(ManyFiles(6), Format::kPaxTar), small,
       "\"many.tar\" has more than 5 entries"},
      {"big.tgz",
       WriteRaw({File("a/big", std::string((1 << 20) + 1, '\0'))}, Format::kPaxTar, Filter::kGzip),
       small, "\"big.tgz\" entry \"a/big\" is larger than the limit of 1048576 bytes"},
      {"total.tar",
       WriteRaw({File("a/1", chunk), File("a/2", chunk), File("a/3", chunk), File("a/4", chunk)},
                Format::kPaxTar),
       small, "\"total.tar\" unpacks to more than the limit of 1048576 bytes (at entry \"a/4\")"},
      {"encrypted.zip",
       WriteRaw({File("a/secret", "x")}, Format::kZip, Filter::kNone, "pw"),
       {},
       "\"encrypted.zip\" entry \"a/secret\" is encrypted"},
      {"quote\"d\n.zip", "", {}, "\"quote\\\"d\\n.zip\" doesn't look like a distribution archive"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<ReadArchiveResult> read = ReadArchive(c.bytes, c.name, c.limits);
    ASSERT_FALSE(read.ok()) << c.name << " was accepted";
    EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition) << c.name;
    if (absl::EndsWith(c.message, "...")) {  // the rest is libarchive's own words
      EXPECT_TRUE(
          absl::StartsWith(read.status().message(), c.message.substr(0, c.message.size() - 3)))
          << c.name << ": " << read.status().message();
    } else {
      EXPECT_EQ(std::string(read.status().message()), c.message) << absl::CEscape(c.name);
    }
  }
}

TEST(ReadArchiveTest, ZipBombIsStoppedAtTheLimit) {
  const std::string zeros(100 << 20, '\0');
  absl::StatusOr<std::string> bomb = WriteZip({Entry("bomb/zeros", zeros)});
  ASSERT_TRUE(bomb.ok()) << bomb.status();
  ASSERT_LT(bomb->size(), 200u * 1024) << "the bomb should be small";
  ArchiveLimits limits;
  limits.max_entry_bytes = 1 << 20;
  absl::StatusOr<ReadArchiveResult> read = ReadArchive(*bomb, "bomb.zip", limits);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(read.status().message()),
            "\"bomb.zip\" entry \"bomb/zeros\" is larger than the limit of 1048576 bytes");
}

// Overwrites the 4-byte little-endian uncompressed size of every local and
// central header, so the headers claim `claimed` bytes.
std::string WithClaimedSize(std::string zip, uint32_t claimed) {
  auto put = [&](size_t at) {
    for (int i = 0; i < 4; ++i) zip[at + i] = static_cast<char>((claimed >> (8 * i)) & 0xFF);
  };
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos;
       at = zip.find("PK\x01\x02", at + 4)) {
    put(at + 24);
  }
  for (size_t at = zip.find("PK\x03\x04"); at != std::string::npos;
       at = zip.find("PK\x03\x04", at + 4)) {
    put(at + 22);
  }
  return zip;
}

TEST(ReadArchiveTest, NeverTrustsTheSizeHeadersClaim) {
  absl::StatusOr<std::string> zip = WriteZip({Entry("liar/zeros", std::string(8 << 20, '\0'))});
  ASSERT_TRUE(zip.ok()) << zip.status();
  ArchiveLimits limits;
  limits.max_entry_bytes = 1 << 20;
  limits.max_total_bytes = 1 << 20;
  absl::StatusOr<ReadArchiveResult> read =
      ReadArchive(WithClaimedSize(*zip, 1000), "liar.zip", limits);
  // The headers claim 1000 bytes, so only counting what comes out of the
  // decompressor can stop this.
  ASSERT_FALSE(read.ok()) << "a lying zip unpacked to " << read->entries.at(0).data.size();
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(read.status().message()),
            "\"liar.zip\" entry \"liar/zeros\" is larger than the limit of 1048576 bytes");
}

TEST(ReadArchiveTest, LimitsAreInclusive) {
  ArchiveLimits limits;
  limits.max_entries = 3;
  limits.max_entry_bytes = 1000;
  limits.max_total_bytes = 2000;
  const std::string bytes = WriteRaw(
      {Dir("a/"), File("a/x", std::string(1000, 'x')), File("a/y", std::string(1000, 'y'))},
      Format::kPaxTar, Filter::kGzip);
  absl::StatusOr<ReadArchiveResult> read = ReadArchive(bytes, "edge.tgz", limits);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->entries.size(), 3u);
}

}  // namespace
}  // namespace pgxn::archive
