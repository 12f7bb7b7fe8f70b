#include "indexer/docs/source_index.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "base/digest.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

using Type = archive::ArchiveEntry::Type;

std::vector<archive::ArchiveEntry> Entries() {
  return {archive::ArchiveEntry::Directory("pair-0.1.0", 1700000000),
          archive::ArchiveEntry::File("pair-0.1.0/README.md", "# pair\n", 1700000000),
          archive::ArchiveEntry::File("pair-0.1.0/logo.png",
                                      std::string("\x89PNG\r\n\x1a\n\0\0", 10), 1700000000),
          archive::ArchiveEntry::File("pair-0.1.0/big.txt", std::string(100000, 'x'), 1700000000),
          archive::ArchiveEntry::Symlink("pair-0.1.0/README", "README.md", 1700000000)};
}

// The zip WriteZip makes of Entries(), and its entries as ReadArchive reads
// them (links resolved, their data filled in).
struct Read {
  std::string zip;
  std::vector<archive::ArchiveEntry> entries;
};

Read ReadBack(const std::vector<archive::ArchiveEntry>& entries) {
  Read read;
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  EXPECT_TRUE(zip.ok()) << zip.status();
  read.zip = *zip;
  absl::StatusOr<archive::ReadArchiveResult> result =
      archive::ReadArchive(read.zip, "pair-0.1.0.zip", archive::ArchiveLimits());
  EXPECT_TRUE(result.ok()) << result.status();
  read.entries = std::move(result->entries);
  return read;
}

TEST(SourceIndexTest, DescribesEveryEntryWithoutItsBytes) {
  const Read read = ReadBack(Entries());
  const SourceIndex index = BuildSourceIndex(read.zip, read.entries);
  EXPECT_EQ(index.zip_sha256, base::Sha256(read.zip));
  ASSERT_EQ(index.entries.size(), 5u);
  const struct {
    std::string path;
    Type type;
    uint64_t size;
    std::string media_type;
    std::string content;
  } kWant[] = {
      {"pair-0.1.0", Type::kDirectory, 0, "", ""},
      {"pair-0.1.0/README.md", Type::kFile, 7, "text/plain; charset=utf-8", "# pair\n"},
      {"pair-0.1.0/logo.png", Type::kFile, 10, "image/png",
       std::string("\x89PNG\r\n\x1a\n\0\0", 10)},
      {"pair-0.1.0/big.txt", Type::kFile, 100000, "text/plain; charset=utf-8",
       std::string(100000, 'x')},
      {"pair-0.1.0/README", Type::kSymlink, 7, "text/plain; charset=utf-8", "# pair\n"},
  };
  for (size_t i = 0; i < index.entries.size(); ++i) {
    const SourceEntry& e = index.entries[i];
    EXPECT_EQ(e.path, kWant[i].path) << i;
    EXPECT_EQ(e.type, kWant[i].type) << e.path;
    EXPECT_EQ(e.size, kWant[i].size) << e.path;
    EXPECT_EQ(e.media_type, kWant[i].media_type) << e.path;
    if (kWant[i].type == Type::kDirectory) {
      EXPECT_FALSE(e.location.located) << e.path;
      continue;
    }
    EXPECT_EQ(e.sha256, base::Sha256(kWant[i].content)) << e.path;
    EXPECT_TRUE(e.location.located) << e.path;
  }
  // The link reads as README.md: its bytes are that entry's.
  EXPECT_EQ(index.entries[4].link_target, "README.md");
  EXPECT_EQ(index.entries[4].resolved, "pair-0.1.0/README.md");
  EXPECT_EQ(index.entries[4].location.header_offset, index.entries[1].location.header_offset);
  // WriteZip deflates: the large file takes far less than its size.
  EXPECT_EQ(index.entries[3].location.method, kZipDeflated);
  EXPECT_LT(index.entries[3].location.compressed_size, 1000u);
}

TEST(SourceIndexTest, EncodingRoundTrips) {
  const Read read = ReadBack(Entries());
  const SourceIndex index = BuildSourceIndex(read.zip, read.entries);
  const std::string encoded = EncodeSourceIndex(index);
  // Far smaller than the bytes it describes.
  EXPECT_LT(encoded.size(), 1000u);
  absl::StatusOr<SourceIndex> decoded = DecodeSourceIndex(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->zip_sha256, index.zip_sha256);
  ASSERT_EQ(decoded->entries.size(), index.entries.size());
  for (size_t i = 0; i < index.entries.size(); ++i) {
    const SourceEntry& a = index.entries[i];
    const SourceEntry& b = decoded->entries[i];
    EXPECT_EQ(a.path, b.path);
    EXPECT_EQ(a.type, b.type) << a.path;
    EXPECT_EQ(a.resolves_to_directory, b.resolves_to_directory) << a.path;
    EXPECT_EQ(a.link_target, b.link_target) << a.path;
    EXPECT_EQ(a.resolved, b.resolved) << a.path;
    EXPECT_EQ(a.size, b.size) << a.path;
    EXPECT_EQ(a.sha256, b.sha256) << a.path;
    EXPECT_EQ(a.media_type, b.media_type) << a.path;
    EXPECT_EQ(a.location.located, b.location.located) << a.path;
    EXPECT_EQ(a.location.header_offset, b.location.header_offset) << a.path;
    EXPECT_EQ(a.location.compressed_size, b.location.compressed_size) << a.path;
    EXPECT_EQ(a.location.method, b.location.method) << a.path;
    EXPECT_EQ(a.location.crc32, b.location.crc32) << a.path;
  }
}

TEST(SourceIndexTest, RefusesWhatIsNoEncoding) {
  const Read read = ReadBack(Entries());
  const std::string encoded = EncodeSourceIndex(BuildSourceIndex(read.zip, read.entries));
  for (const std::string& bad :
       {std::string(), std::string("\x02", 1), encoded.substr(0, encoded.size() - 1), encoded + "x",
        std::string("\x01\x00\xff\xff\xff\xff\x0f", 7)}) {
    EXPECT_FALSE(DecodeSourceIndex(bad).ok()) << absl::CEscape(bad);
  }
}

TEST(SourceIndexTest, BytesWithoutACentralDirectoryLeaveEntriesUnlocated) {
  const Read read = ReadBack(Entries());
  // The entries as read, but the zip cut before its central directory.
  const SourceIndex index = BuildSourceIndex(read.zip.substr(0, 100), read.entries);
  ASSERT_EQ(index.entries.size(), 5u);
  for (const SourceEntry& e : index.entries) {
    EXPECT_FALSE(e.location.located) << e.path;
  }
  // What is served about them is still known.
  EXPECT_EQ(index.entries[1].media_type, "text/plain; charset=utf-8");
  EXPECT_EQ(index.entries[1].size, 7u);
}

TEST(SourceIndexTest, MediaTypesByContentThenExtension) {
  const struct {
    std::string path, content, type;
  } kCases[] = {
      {"a.sql", "select 1;\n", "text/plain; charset=utf-8"},
      {"a.html", "<script>x</script>", "text/plain; charset=utf-8"},
      {"logo.svg", "<svg/>", "image/svg+xml"},
      {"LOGO.PNG", std::string("\x89PNG\0", 5), "image/png"},
      {"doc.pdf", std::string("%PDF\xff", 5), "application/pdf"},
      {"x.bin", std::string("a\0b", 3), "application/octet-stream"},
      {"latin1.txt", "caf\xE9", "application/octet-stream"},
      {"dir.png/file", std::string("\0", 1), "application/octet-stream"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(SourceMediaType(c.path, c.content), c.type) << c.path;
  }
}

}  // namespace
}  // namespace pgxn::indexer
