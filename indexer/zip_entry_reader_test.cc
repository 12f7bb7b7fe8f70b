#include "indexer/zip_entry_reader.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "gtest/gtest.h"
#include "indexer/docs/source_index.h"

namespace pgxn::indexer {
namespace {

struct Indexed {
  std::string zip;
  SourceIndex index;
};

Indexed Index(const std::vector<archive::ArchiveEntry>& entries) {
  Indexed out;
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  EXPECT_TRUE(zip.ok()) << zip.status();
  out.zip = *zip;
  absl::StatusOr<archive::ReadArchiveResult> read =
      archive::ReadArchive(out.zip, "t.zip", archive::ArchiveLimits());
  EXPECT_TRUE(read.ok()) << read.status();
  out.index = BuildSourceIndex(out.zip, read->entries);
  return out;
}

std::string Varied(size_t size) {
  std::string text;
  for (size_t i = 0; text.size() < size; ++i) {
    absl::StrAppend(&text, "line ", i * 7919 % 1000, "\n");
  }
  text.resize(size);
  return text;
}

TEST(ZipEntryReaderTest, ReadsEachEntryAlone) {
  const std::vector<std::string> contents = {"", "a", Varied(5000), Varied(3 << 20)};
  std::vector<archive::ArchiveEntry> entries = {archive::ArchiveEntry::Directory("t", 1700000000)};
  for (size_t i = 0; i < contents.size(); ++i) {
    entries.push_back(archive::ArchiveEntry::File(absl::StrCat("t/", i), contents[i], 1700000000));
  }
  const Indexed indexed = Index(entries);
  for (size_t i = 0; i < contents.size(); ++i) {
    const SourceEntry& entry = indexed.index.entries[i + 1];
    absl::StatusOr<std::string> read = ReadZipEntry(indexed.zip, entry.location, entry.size);
    ASSERT_TRUE(read.ok()) << entry.path << ": " << read.status();
    EXPECT_EQ(*read, contents[i]) << entry.path;
  }
}

TEST(ZipEntryReaderTest, ReadsOnlyTheEntryThroughARangeReader) {
  const std::string small = Varied(3000);
  const std::string large = Varied(2 << 20);
  const Indexed indexed = Index({archive::ArchiveEntry::File("t/large", large, 1700000000),
                                 archive::ArchiveEntry::File("t/small", small, 1700000000)});
  const SourceEntry& entry = indexed.index.entries[1];
  ASSERT_TRUE(entry.location.located);
  uint64_t bytes_read = 0;
  const ZipRangeReader read = [&](uint64_t offset, size_t length) -> absl::StatusOr<std::string> {
    bytes_read += length;
    return indexed.zip.substr(offset, length);
  };
  absl::StatusOr<std::string> content =
      ReadZipEntry(read, indexed.zip.size(), entry.location, entry.size);
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(*content, small);
  // The local header and the entry's compressed bytes, not the large entry.
  EXPECT_LE(bytes_read, 30 + entry.location.compressed_size);
  EXPECT_LT(bytes_read, indexed.zip.size() / 10);

  // A reader's error is the error; a reader that comes back short (a store
  // that lost the zip's tail) is corruption, not a short file.
  const ZipRangeReader failing = [](uint64_t, size_t) -> absl::StatusOr<std::string> {
    return absl::NotFoundError("gone");
  };
  EXPECT_TRUE(absl::IsNotFound(
      ReadZipEntry(failing, indexed.zip.size(), entry.location, entry.size).status()));
  const ZipRangeReader short_reader = [&](uint64_t offset,
                                          size_t length) -> absl::StatusOr<std::string> {
    return indexed.zip.substr(offset, length / 2);
  };
  EXPECT_TRUE(absl::IsDataLoss(
      ReadZipEntry(short_reader, indexed.zip.size(), entry.location, entry.size).status()));
}

TEST(ZipEntryReaderTest, RefusesBytesThatDoNotMatchTheIndex) {
  const std::string content = Varied(20000);
  const Indexed indexed = Index({archive::ArchiveEntry::File("t/a", content, 1700000000)});
  const SourceEntry& entry = indexed.index.entries[0];
  ASSERT_TRUE(entry.location.located);
  ASSERT_EQ(entry.location.method, kZipDeflated);

  // Each case changes the location, the size or the zip; each is refused.
  struct Case {
    std::string name;
    ZipLocation location;
    uint64_t size;
    std::string zip;
  };
  std::vector<Case> cases;
  auto add = [&](std::string name) {
    cases.push_back({std::move(name), entry.location, entry.size, indexed.zip});
    return &cases.back();
  };
  add("wrong crc")->location.crc32 ^= 1;
  add("smaller size")->size = entry.size - 1;
  add("larger size")->size = entry.size + 1;
  add("no local header")->location.header_offset += 1;
  add("offset beyond the zip")->location.header_offset = indexed.zip.size() + 10;
  add("data beyond the zip")->location.compressed_size = indexed.zip.size();
  add("cut stream")->location.compressed_size = entry.location.compressed_size / 2;
  add("unknown method")->location.method = 12;
  add("not located")->location.located = false;
  {
    Case* c = add("corrupt data");
    // A byte inside the deflate stream, past the local header.
    c->zip[entry.location.header_offset + 30 + 3 + entry.location.compressed_size / 2] ^= 0x55;
  }
  for (const Case& c : cases) {
    absl::StatusOr<std::string> read = ReadZipEntry(c.zip, c.location, c.size);
    EXPECT_FALSE(read.ok()) << c.name;
  }
  // And the untouched one reads.
  absl::StatusOr<std::string> read = ReadZipEntry(indexed.zip, entry.location, entry.size);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, content);
}

}  // namespace
}  // namespace pgxn::indexer
