// Symbolic links in distribution archives (symlinks.h), read through
// ReadArchive as an upload is read, and zip entries judged by the Unix mode
// their central directory records hold (zip_directory.h).
#include "archive/symlinks.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "archive/raw_archive_test_support.h"
#include "archive/zip_directory.h"
#include "gtest/gtest.h"

namespace pgxn::archive {
namespace {

const ArchiveEntry* Find(const ReadArchiveResult& read, const std::string& path) {
  for (const ArchiveEntry& e : read.entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

// A release laid out as `git archive` writes one whose README.md links to
// its doc, with a linked directory and links through links.
std::vector<RawEntry> LinkedRelease() {
  return {Dir("pair-0.1.0/"),
          Dir("pair-0.1.0/doc/"),
          File("pair-0.1.0/doc/pair.md", "# pair\n"),
          Link("pair-0.1.0/README.md", "doc/pair.md"),
          Link("pair-0.1.0/docs", "doc"),
          Link("pair-0.1.0/doc/index.md", "../docs/./pair.md"),
          Link("pair-0.1.0/Changes.md", "README.md"),
          File("pair-0.1.0/META.json", "{}")};
}

TEST(SymlinksTest, LinksInsideTheReleaseReadAsWhatTheyName) {
  for (Format format : {Format::kZip, Format::kPaxTar}) {
    const std::string label = format == Format::kZip ? "zip" : "tar";
    absl::StatusOr<ReadArchiveResult> read =
        ReadArchive(WriteRaw(LinkedRelease(), format), "pair.zip", ArchiveLimits());
    ASSERT_TRUE(read.ok()) << label << ": " << read.status();
    struct {
      const char* path;
      const char* target;
      const char* resolved;
      bool directory;
    } kLinks[] = {
        {"pair-0.1.0/README.md", "doc/pair.md", "pair-0.1.0/doc/pair.md", false},
        {"pair-0.1.0/docs", "doc", "pair-0.1.0/doc", true},
        {"pair-0.1.0/doc/index.md", "../docs/./pair.md", "pair-0.1.0/doc/pair.md", false},
        {"pair-0.1.0/Changes.md", "README.md", "pair-0.1.0/doc/pair.md", false},
    };
    for (const auto& link : kLinks) {
      const ArchiveEntry* e = Find(*read, link.path);
      ASSERT_NE(e, nullptr) << label << " " << link.path;
      EXPECT_EQ(e->type, ArchiveEntry::Type::kSymlink) << label << " " << link.path;
      EXPECT_EQ(e->link_target, link.target) << label << " " << link.path;
      EXPECT_EQ(e->resolved, link.resolved) << label << " " << link.path;
      EXPECT_EQ(e->resolves_to_directory, link.directory) << label << " " << link.path;
      EXPECT_EQ(e->ReadsAsFile(), !link.directory) << label << " " << link.path;
      EXPECT_EQ(e->data, link.directory ? "" : "# pair\n") << label << " " << link.path;
    }
    // `git archive`'s zips are published as they are, links included.
    EXPECT_EQ(read->publishable_as_is, format == Format::kZip) << label;
  }
}

TEST(SymlinksTest, WriteZipKeepsLinks) {
  std::vector<ArchiveEntry> entries = {
      ArchiveEntry::Directory("pair-0.1.0", 1300000000),
      ArchiveEntry::File("pair-0.1.0/doc.md", "# pair\n", 1300000000),
      ArchiveEntry::Symlink("pair-0.1.0/README.md", "doc.md", 1300000000)};
  absl::StatusOr<std::string> zip = WriteZip(entries);
  ASSERT_TRUE(zip.ok()) << zip.status();
  absl::StatusOr<ReadArchiveResult> read = ReadArchive(*zip, "pair.zip", ArchiveLimits());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->publishable_as_is);
  const ArchiveEntry* link = Find(*read, "pair-0.1.0/README.md");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, ArchiveEntry::Type::kSymlink);
  EXPECT_EQ(link->link_target, "doc.md");
  EXPECT_EQ(link->data, "# pair\n");
  absl::optional<std::vector<ZipDirectoryEntry>> directory = ReadZipDirectory(*zip);
  ASSERT_TRUE(directory.has_value());
  ASSERT_EQ(directory->size(), 3u);
  EXPECT_EQ((*directory)[2].name, "pair-0.1.0/README.md");
  EXPECT_EQ((*directory)[2].made_by_system, kZipMadeOnUnix);
  EXPECT_EQ((*directory)[2].unix_mode(), 0120777u);

  entries.push_back(ArchiveEntry::Symlink("pair-0.1.0/evil", "/etc/passwd", 1300000000));
  EXPECT_EQ(WriteZip(entries).status().message(),
            "Cannot write zip entry \"pair-0.1.0/evil\": it is a symbolic link to an absolute "
            "path, \"/etc/passwd\"");
}

TEST(SymlinksTest, RefusesEachBadLinkNamingIt) {
  const RawEntry readme = File("a/README.md", "x");
  struct {
    const char* label;
    std::vector<RawEntry> entries;
    std::string message;
  } kCases[] = {
      {"absolute",
       {readme, Link("a/l", "/etc/passwd")},
       "entry \"a/l\" is a symbolic link to an absolute path, \"/etc/passwd\""},
      {"escaping",
       {readme, Link("a/l", "../../etc/passwd")},
       "entry \"a/l\" is a symbolic link to \"../../etc/passwd\", outside \"a\""},
      {"to a sibling release",
       {readme, File("b/x", "1"), Link("a/l", "../b/x")},
       "entry \"a/l\" is a symbolic link to \"../b/x\", outside \"a\""},
      {"escaping through a linked directory",
       {readme, Link("a/l", "up/etc"), Link("a/up", "..")},
       "entry \"a/l\" is a symbolic link to \"up/etc\", outside \"a\""},
      {"dangling",
       {readme, Link("a/l", "doc/missing.md")},
       "entry \"a/l\" is a symbolic link to \"doc/missing.md\", which is not in the archive"},
      {"through a file",
       {readme, Link("a/l", "README.md/x")},
       "entry \"a/l\" is a symbolic link to \"README.md/x\", which is not in the archive"},
      {"loop",
       {readme, Link("a/l", "m"), Link("a/m", "l")},
       "entry \"a/l\" is a symbolic link that loops"},
      {"to itself", {readme, Link("a/l", "l")}, "entry \"a/l\" is a symbolic link that loops"},
      {"to its own directory",
       {readme, Link("a/d/l", ".."), File("a/d/x", "1")},
       "entry \"a/d/l\" is a symbolic link to \"..\", a directory that holds the link itself (a "
       "loop)"},
      {"backslash",
       {readme, Link("a/l", "..\\..\\etc")},
       "entry \"a/l\" is a symbolic link to a path with a backslash"},
      {"entry under a link",
       {readme, Link("a/d", "."), File("a/d/x", "1")},
       "entry \"a/d/x\" lies under \"a/d\", which is a symbolic link"},
  };
  for (const auto& c : kCases) {
    for (Format format : {Format::kZip, Format::kPaxTar}) {
      absl::StatusOr<ReadArchiveResult> read =
          ReadArchive(WriteRaw(c.entries, format), "t", ArchiveLimits());
      EXPECT_EQ(read.status().message(), absl::StrCat("\"t\" ", c.message))
          << c.label << (format == Format::kZip ? " (zip)" : " (tar)");
    }
  }
}

// ".." after a link climbs from where the link led, as on a real system:
// judging the target by its text alone would let this one out.
TEST(SymlinksTest, DotDotClimbsFromWhereALinkLed) {
  const std::vector<RawEntry> tree = {Dir("a/"),
                                      Dir("a/d1/"),
                                      Dir("a/d1/d2/"),
                                      Dir("a/x/"),
                                      File("a/y", "why"),
                                      File("a/d1/y", "no"),
                                      Link("a/d1/d2/s", "../../x")};
  std::vector<RawEntry> good = tree;
  good.push_back(Link("a/l", "d1/d2/s/../y"));
  absl::StatusOr<ReadArchiveResult> read =
      ReadArchive(WriteRaw(good, Format::kZip), "t", ArchiveLimits());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Find(*read, "a/l")->resolved, "a/y");
  EXPECT_EQ(Find(*read, "a/l")->data, "why");

  std::vector<RawEntry> bad = tree;
  bad.push_back(Link("a/l", "d1/d2/s/../../a/y"));
  EXPECT_EQ(ReadArchive(WriteRaw(bad, Format::kZip), "t", ArchiveLimits()).status().message(),
            "\"t\" entry \"a/l\" is a symbolic link to \"d1/d2/s/../../a/y\", outside \"a\"");
}

TEST(SymlinksTest, AFileIsNoDirectoryEvenAsDot) {
  for (const char* target : {"README.md/", "README.md/.", "./README.md/./"}) {
    EXPECT_EQ(
        ReadArchive(WriteRaw({File("a/README.md", "x"), Link("a/l", target)}, Format::kPaxTar), "t",
                    ArchiveLimits())
            .status()
            .message(),
        absl::StrCat("\"t\" entry \"a/l\" is a symbolic link to \"", target,
                     "\", which is not in the archive"))
        << target;
  }
}

// Deep paths walked by many links: refused after a bounded amount of work,
// not after seconds of it.
TEST(SymlinksTest, ResolvingIsBoundedWork) {
  std::string deep = "a";
  for (int i = 0; i < 1900; ++i) deep += "/d";
  std::vector<RawEntry> entries = {File(deep + "/f", "x")};
  const std::string target = deep.substr(2) + "/f";
  for (int i = 0; i < 400; ++i) entries.push_back(Link(absl::StrCat("a/l", i), target));
  EXPECT_EQ(
      ReadArchive(WriteRaw(entries, Format::kPaxTar), "t", ArchiveLimits()).status().message(),
      "\"t\" has symbolic links too deep to resolve");
}

TEST(SymlinksTest, LongChainsAreLoops) {
  std::vector<RawEntry> entries = {File("a/x", "1")};
  for (int i = 0; i <= kMaxLinkHops; ++i) {
    entries.push_back(Link(absl::StrCat("a/l", i), i == 0 ? "x" : absl::StrCat("l", i - 1)));
  }
  // kMaxLinkHops links to pass through from the last one: allowed.
  std::vector<RawEntry> allowed(entries.begin(), entries.end() - 1);
  absl::StatusOr<ReadArchiveResult> read =
      ReadArchive(WriteRaw(allowed, Format::kPaxTar), "t", ArchiveLimits());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->entries.back().data, "1");
  EXPECT_EQ(
      ReadArchive(WriteRaw(entries, Format::kPaxTar), "t", ArchiveLimits()).status().message(),
      absl::StrCat("\"t\" entry \"a/l", kMaxLinkHops, "\" is a symbolic link that loops"));
}

TEST(SymlinksTest, WhatLinksReadCountsAgainstTheTotalLimit) {
  std::vector<RawEntry> entries = {File("a/big", std::string(1000, 'x'))};
  for (int i = 0; i < 10; ++i) entries.push_back(Link(absl::StrCat("a/l", i), "big"));
  ArchiveLimits limits;
  limits.max_total_bytes = 5000;
  EXPECT_EQ(ReadArchive(WriteRaw(entries, Format::kPaxTar), "t", limits).status().message(),
            "\"t\" unpacks to more than the limit of 5000 bytes (at entry \"a/l4\")");
  limits.max_total_bytes = 11000;
  EXPECT_TRUE(ReadArchive(WriteRaw(entries, Format::kPaxTar), "t", limits).ok());
}

// libarchive reads a zip entry's Unix mode only when the zip says it was made
// on Unix; Debian's unzip honours the mode whatever the system. A link marked
// as made on MS-DOS is a link here too, checked as one, and such a zip is
// rewritten rather than published as it is.
TEST(ZipModesTest, ALinkIsALinkWhateverSystemMadeTheZip) {
  std::string zip = WriteRaw({File("a/README.md", "x"), Link("a/l", "/etc/passwd")}, Format::kZip);
  PatchZipRecord(zip, "a/l", /*made_by_system=*/0);
  EXPECT_EQ(ReadArchive(zip, "t.zip", ArchiveLimits()).status().message(),
            "\"t.zip\" entry \"a/l\" is a symbolic link to an absolute path, \"/etc/passwd\"");

  zip = WriteRaw({File("a/README.md", "x"), Link("a/l", "README.md")}, Format::kZip);
  PatchZipRecord(zip, "a/l", /*made_by_system=*/0);
  absl::StatusOr<ReadArchiveResult> read = ReadArchive(zip, "t.zip", ArchiveLimits());
  ASSERT_TRUE(read.ok()) << read.status();
  const ArchiveEntry* link = Find(*read, "a/l");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->type, ArchiveEntry::Type::kSymlink);
  EXPECT_EQ(link->link_target, "README.md");
  EXPECT_EQ(link->data, "x");
  EXPECT_FALSE(read->publishable_as_is);
}

// Debian's unzip names an entry from an Info-ZIP Unicode path field in the
// central record, which libarchive ignores: such a zip, or one whose local
// and central names differ, is rewritten, never published as it is.
TEST(ZipModesTest, AZipWhoseNamesReadDifferentlyIsRewritten) {
  const std::string zip = WriteRaw({File("a/x", "1"), Link("a/l", "x")}, Format::kZip);
  ASSERT_TRUE(ReadArchive(zip, "t.zip", ArchiveLimits())->publishable_as_is);

  // libarchive writes an "ux" (0x7875) field in both headers; the central
  // one, renamed 0x7075, is a Unicode path field that only unzip reads.
  std::string unicode = zip;
  const size_t central = unicode.find(std::string("PK\x01\x02", 4));
  ASSERT_NE(central, std::string::npos);
  const size_t ux = unicode.find(std::string("ux", 2), central);
  ASSERT_NE(ux, std::string::npos);
  unicode[ux] = 'u';
  unicode[ux + 1] = 'p';  // "up" = 0x7075 little-endian
  absl::StatusOr<ReadArchiveResult> read = ReadArchive(unicode, "t.zip", ArchiveLimits());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->publishable_as_is);

  std::string renamed = zip;
  const size_t local_name = renamed.find("a/x");
  ASSERT_LT(local_name, central);
  renamed[local_name + 2] = 'y';  // the local header says a/y, the central a/x
  read = ReadArchive(renamed, "t.zip", ArchiveLimits());
  if (read.ok()) {
    EXPECT_FALSE(read->publishable_as_is);
  }
}

TEST(ZipModesTest, DevicesAndFifosAreRefusedByTheirModeBits) {
  struct {
    int64_t mode;
    const char* why;
  } kCases[] = {{010644, "is a fifo"},
                {020644, "is a character device"},
                {060644, "is a block device"},
                {0140644, "is a socket"},
                {040755, "has a type its zip headers disagree on"}};
  for (const auto& c : kCases) {
    for (uint8_t system : {uint8_t{0}, kZipMadeOnUnix}) {
      // On Unix, libarchive itself takes the mode's word for a directory.
      if (c.mode == 040755 && system == kZipMadeOnUnix) continue;
      std::string zip = WriteRaw({File("a/x", "data")}, Format::kZip);
      PatchZipRecord(zip, "a/x", system, c.mode);
      EXPECT_EQ(ReadArchive(zip, "t.zip", ArchiveLimits()).status().message(),
                absl::StrCat("\"t.zip\" entry \"a/x\" ", c.why))
          << std::oct << c.mode << " made by " << int{system};
    }
  }
}

TEST(ZipModesTest, SetuidSetgidAndStickyBitsAreDropped) {
  for (unsigned int perm : {04755u, 02755u, 01777u}) {
    RawEntry file = File("a/x", "data");
    file.perm = perm;
    const std::string zip = WriteRaw({file}, Format::kZip);
    absl::StatusOr<ReadArchiveResult> read = ReadArchive(zip, "t.zip", ArchiveLimits());
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->entries[0].mode, perm & 0777) << std::oct << perm;
    EXPECT_FALSE(read->publishable_as_is) << std::oct << perm;
  }
}

TEST(ZipDirectoryTest, ReadsRecordsAndRefusesWhatIsNoDirectory) {
  const std::string zip = WriteRaw({Dir("a/"), File("a/x", "1")}, Format::kZip);
  absl::optional<std::vector<ZipDirectoryEntry>> directory = ReadZipDirectory(zip);
  ASSERT_TRUE(directory.has_value());
  ASSERT_EQ(directory->size(), 2u);
  EXPECT_EQ((*directory)[0].name, "a/");
  EXPECT_EQ((*directory)[0].unix_mode() & 0170000, 040000u);
  EXPECT_EQ((*directory)[1].name, "a/x");
  EXPECT_EQ((*directory)[1].unix_mode(), 0100644u);
  // Where each entry's bytes are: a local header at the offset, naming it.
  for (const ZipDirectoryEntry& entry : *directory) {
    ASSERT_LT(entry.local_header_offset + 30, zip.size()) << entry.name;
    EXPECT_EQ(zip.substr(entry.local_header_offset, 4), absl::string_view("PK\x03\x04", 4));
    EXPECT_EQ(zip.substr(entry.local_header_offset + 30, entry.name.size()), entry.name);
    EXPECT_EQ(entry.flags & 1, 0) << entry.name;
  }
  EXPECT_GT((*directory)[1].local_header_offset, (*directory)[0].local_header_offset);
  EXPECT_EQ((*directory)[1].uncompressed_size, 1u);
  EXPECT_EQ((*directory)[1].crc32, 0x83DCEFB7u);  // CRC-32 of "1"
  EXPECT_TRUE((*directory)[1].method == 0 || (*directory)[1].method == 8);
  if ((*directory)[1].method == 0) EXPECT_EQ((*directory)[1].compressed_size, 1u);
  EXPECT_FALSE(ReadZipDirectory("").has_value());
  EXPECT_FALSE(ReadZipDirectory(zip.substr(0, zip.size() - 1)).has_value());
  EXPECT_FALSE(ReadZipDirectory(zip.substr(zip.size() / 2)).has_value());
  EXPECT_FALSE(ReadZipDirectory(std::string(100, 'x')).has_value());
}

}  // namespace
}  // namespace pgxn::archive
