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
