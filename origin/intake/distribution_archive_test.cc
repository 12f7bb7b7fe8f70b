#include "origin/intake/distribution_archive.h"

// Tars, and zips with paths WriteZip would refuse to write, come from
// libarchive's writer directly, as authors' tools make them.
#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "origin/intake/meta_validator.h"

namespace pgxn::origin {
namespace {

using ::pgxn::archive::ArchiveEntry;
using ::pgxn::archive::ArchiveFormat;
using ::pgxn::archive::ArchiveLimits;
using ::pgxn::archive::ReadArchive;
using ::pgxn::archive::ReadArchiveResult;
using ::pgxn::archive::WriteZip;
using Json = nlohmann::json;

la_ssize_t Append(struct archive*, void* out, const void* buffer, size_t length) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

enum class Kind { kTar, kTgz, kZip };

// An archive of the entries with their paths exactly as given (unlike
// WriteZip, which refuses paths that are not in normal form).
std::string WriteRaw(const std::vector<ArchiveEntry>& entries, Kind kind) {
  std::string out;
  struct archive* a = archive_write_new();
  if (kind == Kind::kZip) {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
  }
  if (kind == Kind::kTgz) archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open2(a, &out, nullptr, Append, nullptr, nullptr), ARCHIVE_OK);
  for (const ArchiveEntry& entry : entries) {
    const bool dir = entry.type == ArchiveEntry::Type::kDirectory;
    const bool link = entry.type == ArchiveEntry::Type::kSymlink;
    struct archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, (dir ? entry.path + "/" : entry.path).c_str());
    archive_entry_set_filetype(e, dir ? AE_IFDIR : link ? AE_IFLNK : AE_IFREG);
    if (link) archive_entry_copy_symlink(e, entry.link_target.c_str());
    archive_entry_set_perm(e, entry.mode);
    archive_entry_set_mtime(e, entry.mtime, 0);
    archive_entry_set_size(e, static_cast<la_int64_t>(entry.data.size()));
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << entry.path;
    if (!entry.data.empty()) archive_write_data(a, entry.data.data(), entry.data.size());
    archive_entry_free(e);
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

std::string WriteTar(const std::vector<ArchiveEntry>& entries, bool gzip) {
  return WriteRaw(entries, gzip ? Kind::kTgz : Kind::kTar);
}

ArchiveEntry F(std::string path, std::string data, int64_t mtime = 1300000000,
               uint32_t mode = 0644) {
  return ArchiveEntry::File(std::move(path), std::move(data), mtime, mode);
}

ArchiveEntry D(std::string path) { return ArchiveEntry::Directory(std::move(path), 1300000000); }

std::string Zip(const std::vector<ArchiveEntry>& entries) {
  absl::StatusOr<std::string> zip = WriteZip(entries);
  EXPECT_TRUE(zip.ok()) << zip.status();
  return zip.ok() ? *zip : "";
}

const char kMeta[] = R"({"name": "pair", "version": "0.1.0"})";

TEST(OpenDistributionTest, FindsMetaAndReadme) {
  const struct {
    std::string name;
    std::string bytes;
    ArchiveFormat format;
    std::string top_dir;
    std::string meta_path;
    absl::optional<std::string> readme;
  } kCases[] = {
      {"pair-0.1.0.zip",
       Zip({D("pair-0.1.0"), F("pair-0.1.0/META.json", kMeta),
            F("pair-0.1.0/README.md", "# pair")}),
       ArchiveFormat::kZip, "pair-0.1.0", "pair-0.1.0/META.json", "# pair"},
      {"root.zip", Zip({F("META.json", kMeta), F("README", "plain"), F("sql/pair.sql", "")}),
       ArchiveFormat::kZip, "", "META.json", "plain"},
      {"no-dir-entry.zip", Zip({F("x/sql/pair.sql", ""), F("x/META.json", kMeta)}),
       ArchiveFormat::kZip, "x", "x/META.json", absl::nullopt},
      {"pair.tar.gz",
       WriteTar({D("pair-0.1.0"), F("pair-0.1.0/META.json", kMeta), F("pair-0.1.0/README", "r")},
                true),
       ArchiveFormat::kTar, "pair-0.1.0", "pair-0.1.0/META.json", "r"},
      {"pair.tar", WriteTar({F("META.json", kMeta)}, false), ArchiveFormat::kTar, "", "META.json",
       absl::nullopt},
      {"root-meta-wins.zip", Zip({F("META.json", kMeta), F("d/META.json", "[]")}),
       ArchiveFormat::kZip, "", "META.json", absl::nullopt},
      {"first-readme.zip",
       Zip({F("d/META.json", kMeta), F("d/README.txt", "first"), F("d/README", "second")}),
       ArchiveFormat::kZip, "d", "d/META.json", "first"},
      {"readme-rules.zip",
       Zip({F("d/META.json", kMeta), F("d/doc/README", "nested"), F("d/Readme.md", "case"),
            F("d/README.md.txt", "two extensions"), F("d/README.", "empty extension"),
            F("d/READMEFIRST", "longer name")}),
       ArchiveFormat::kZip, "d", "d/META.json", absl::nullopt},
      {"readme-dir.zip", Zip({F("d/META.json", kMeta), D("d/README"), F("d/README/x", "")}),
       ArchiveFormat::kZip, "d", "d/META.json", absl::nullopt},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<DistributionArchive> dist = OpenDistribution(c.bytes, c.name, ArchiveLimits());
    ASSERT_TRUE(dist.ok()) << c.name << ": " << dist.status();
    EXPECT_EQ(dist->format, c.format) << c.name;
    EXPECT_EQ(dist->top_dir, c.top_dir) << c.name;
    EXPECT_EQ(dist->meta_path, c.meta_path) << c.name;
    EXPECT_EQ(dist->meta, Json::parse(kMeta)) << c.name;
    EXPECT_EQ(dist->readme, c.readme) << c.name;
  }
}

std::string Nested(int depth) {
  std::string s = "{\"x_deep\": ";
  for (int i = 1; i < depth; ++i) s += "[";
  s += "\"[{\\\"\"";  // brackets inside a string do not count
  for (int i = 1; i < depth; ++i) s += "]";
  return s + "}";
}

TEST(OpenDistributionTest, AcceptsNestingUpToTheLimit) {
  absl::StatusOr<DistributionArchive> dist =
      OpenDistribution(Zip({F("d/META.json", Nested(kMaxMetaDepth))}), "deep.zip", ArchiveLimits());
  ASSERT_TRUE(dist.ok()) << dist.status();
  EXPECT_TRUE(dist->meta.contains("x_deep"));
}

TEST(OpenDistributionTest, AcceptsMetaOfExactlyTheLimit) {
  std::string meta = "{\"x_pad\": \"\"}";
  meta.insert(meta.size() - 2, std::string(kMaxMetaBytes - meta.size(), 'p'));
  ASSERT_EQ(meta.size(), kMaxMetaBytes);
  absl::StatusOr<DistributionArchive> dist =
      OpenDistribution(Zip({F("d/META.json", meta)}), "max.zip", ArchiveLimits());
  ASSERT_TRUE(dist.ok()) << dist.status();
}

TEST(OpenDistributionTest, RefusesBadUploadsWithAClearMessage) {
  const struct {
    std::string name;
    std::string bytes;
    std::string message;  // exact, or a prefix when it ends in "..."
  } kCases[] = {
      {"garbage.zip", "PK not really", "\"garbage.zip\" doesn't look like a distribution archive"},
      {"evil.tar", WriteTar({F("../evil", "x")}, false),
       "\"evil.tar\" entry \"../evil\" has a \"..\" path segment"},
      {"none.zip", Zip({F("d/x.sql", "")}), "Cannot find a \"META.json\" in \"none.zip\""},
      {"empty.tar", WriteTar({}, false), "Cannot find a \"META.json\" in \"empty.tar\""},
      {"deep.zip", Zip({F("a/b/META.json", kMeta)}),
       "Cannot find a \"META.json\" in \"deep.zip\": the only one, \"a/b/META.json\", is deeper "
       "than the distribution's top directory, where it must be"},
      {"template.zip", Zip({F("d/META.json.in", kMeta), F("d/x.sql", "")}),
       "Cannot find a \"META.json\" in \"template.zip\": \"d/META.json.in\" is a template; release "
       "the archive your build makes, with the META.json it generates"},
      {"two-tops.zip", Zip({F("a/META.json", kMeta), F("b/x", "")}),
       "Cannot find a \"META.json\" in \"two-tops.zip\": the only one, \"a/META.json\", is deeper "
       "than the distribution's top directory, where it must be"},
      {"top-file.zip", Zip({F("a/META.json", kMeta), F("README", "")}),
       "Cannot find a \"META.json\" in \"top-file.zip\": the only one, \"a/META.json\", is deeper "
       "than the distribution's top directory, where it must be"},
      {"meta-dir.zip", Zip({D("META.json"), F("META.json/x", "")}),
       "Cannot find a \"META.json\" in \"meta-dir.zip\""},
      {"lowercase.zip", Zip({F("meta.json", kMeta)}),
       "Cannot find a \"META.json\" in \"lowercase.zip\""},
      {"huge.zip", Zip({F("d/META.json", std::string(kMaxMetaBytes + 1, ' '))}),
       "The META.json in \"huge.zip\" is larger than the limit of 1048576 bytes"},
      {"nested.zip", Zip({F("d/META.json", Nested(kMaxMetaDepth + 1))}),
       "Cannot parse JSON from \"d/META.json\": nested deeper than 64 levels"},
      {"bomb.zip", Zip({F("d/META.json", std::string(100000, '['))}),
       "Cannot parse JSON from \"d/META.json\": nested deeper than 64 levels"},
      {"broken.zip", Zip({F("d/META.json", "{\"name\": ")}),
       "Cannot parse JSON from \"d/META.json\": parse error at line 1, column 10: ..."},
      {"empty-meta.zip", Zip({F("d/META.json", "")}),
       "Cannot parse JSON from \"d/META.json\": parse error at line 1, column 1: ..."},
      {"latin1.zip", Zip({F("d/META.json", "{\"name\": \"caf\xE9\"}")}),
       "Cannot parse JSON from \"d/META.json\": parse error at line 1, column 15: syntax error "
       "while parsing value - invalid string: ill-formed UTF-8 byte; last read: "
       "'\\\"caf\xEF\xBF\xBD\\\"'"},
      {"overflow.zip", Zip({F("d/META.json", "{\"x_n\": 1e400}")}),
       "Cannot parse JSON from \"d/META.json\": number overflow parsing '1e400'"},
      {"array.zip", Zip({F("d/META.json", "[1, 2]")}),
       "\"d/META.json\" in \"array.zip\" must hold a JSON object, not an array"},
      {"string.zip", Zip({F("META.json", "\"pair\"")}),
       "\"META.json\" in \"string.zip\" must hold a JSON object, not a string"},
      {"null.zip", Zip({F("META.json", "null")}),
       "\"META.json\" in \"null.zip\" must hold a JSON object, not null"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<DistributionArchive> dist = OpenDistribution(c.bytes, c.name, ArchiveLimits());
    ASSERT_FALSE(dist.ok()) << c.name << " was accepted";
    EXPECT_EQ(dist.status().code(), absl::StatusCode::kFailedPrecondition) << c.name;
    if (absl::EndsWith(c.message, "...")) {
      const std::string prefix = c.message.substr(0, c.message.size() - 3);
      EXPECT_TRUE(absl::StartsWith(dist.status().message(), prefix))
          << c.name << ": " << dist.status().message();
    } else {
      EXPECT_EQ(std::string(dist.status().message()), c.message) << c.name;
    }
  }
}

TEST(NormalizedZipTest, KeepsAZipAlreadyUnderItsPrefix) {
  const std::string original =
      Zip({D("pair-0.1.0"), F("pair-0.1.0/META.json", kMeta), F("pair-0.1.0/a", "b")});
  absl::StatusOr<DistributionArchive> dist =
      OpenDistribution(original, "pair-0.1.0.zip", ArchiveLimits());
  ASSERT_TRUE(dist.ok()) << dist.status();
  absl::StatusOr<std::string> zip = NormalizedZip(*dist, original, "pair", "0.1.0");
  ASSERT_TRUE(zip.ok()) << zip.status();
  EXPECT_EQ(*zip, original);
}

TEST(NormalizedZipTest, RepacksUnderTheLowercasePrefix) {
  const struct {
    std::string label;
    std::string bytes;
    std::string name;
    std::string version;
    std::vector<ArchiveEntry> want;
  } kCases[] = {
      {"zip with a differently named top directory",
       Zip({D("pair"), F("pair/META.json", kMeta, 1400000000, 0600),
            F("pair/sql/pair.sql", "sql", 1500000000, 0755)}),
       "pair",
       "0.1.0",
       {D("pair-0.1.0"), F("pair-0.1.0/META.json", kMeta, 1400000000, 0600),
        F("pair-0.1.0/sql/pair.sql", "sql", 1500000000, 0755)}},
      {"zip with a capitalised top directory",
       Zip({F("Pair-0.1.0/META.json", kMeta)}),
       "Pair",
       "0.1.0",
       {F("pair-0.1.0/META.json", kMeta)}},
      {"zip with files at the root",
       Zip({F("META.json", kMeta), D("sql"), F("sql/pair.sql", "sql")}),
       "pair",
       "0.1.0",
       {F("pair-0.1.0/META.json", kMeta), D("pair-0.1.0/sql"),
        F("pair-0.1.0/sql/pair.sql", "sql")}},
      {"tar.gz already under its prefix",
       WriteTar({D("pgTAP-0.25.0"), F("pgTAP-0.25.0/META.json", kMeta)}, true),
       "pgTAP",
       "0.25.0-BETA",
       {D("pgtap-0.25.0-beta"), F("pgtap-0.25.0-beta/META.json", kMeta)}},
      {"zip from a tool that writes Windows separators",
       WriteRaw({F("pair-0.1.0\\META.json", kMeta), F("pair-0.1.0\\sql\\pair.sql", "sql")},
                Kind::kZip),
       "pair",
       "0.1.0",
       {F("pair-0.1.0/META.json", kMeta), F("pair-0.1.0/sql/pair.sql", "sql")}},
      {"zip with ./ names",
       WriteRaw({F("./pair-0.1.0/META.json", kMeta)}, Kind::kZip),
       "pair",
       "0.1.0",
       {F("pair-0.1.0/META.json", kMeta)}},
      {"tar under the exact prefix",
       WriteTar({D("pair-0.1.0"), F("pair-0.1.0/META.json", kMeta)}, false),
       "pair",
       "0.1.0",
       {D("pair-0.1.0"), F("pair-0.1.0/META.json", kMeta)}},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<DistributionArchive> dist = OpenDistribution(c.bytes, "up", ArchiveLimits());
    ASSERT_TRUE(dist.ok()) << c.label << ": " << dist.status();
    absl::StatusOr<std::string> zip = NormalizedZip(*dist, c.bytes, c.name, c.version);
    ASSERT_TRUE(zip.ok()) << c.label << ": " << zip.status();
    EXPECT_NE(*zip, c.bytes) << c.label;
    absl::StatusOr<ReadArchiveResult> read = ReadArchive(*zip, "normalised.zip", ArchiveLimits());
    ASSERT_TRUE(read.ok()) << c.label << ": " << read.status();
    EXPECT_EQ(read->format, ArchiveFormat::kZip) << c.label;
    ASSERT_EQ(read->entries.size(), c.want.size()) << c.label;
    for (size_t i = 0; i < c.want.size(); ++i) {
      EXPECT_EQ(read->entries[i].path, c.want[i].path) << c.label;
      EXPECT_EQ(read->entries[i].type, c.want[i].type) << c.label << " " << c.want[i].path;
      EXPECT_EQ(read->entries[i].data, c.want[i].data) << c.label << " " << c.want[i].path;
      EXPECT_EQ(read->entries[i].mtime, c.want[i].mtime) << c.label << " " << c.want[i].path;
      EXPECT_EQ(read->entries[i].mode, c.want[i].mode) << c.label << " " << c.want[i].path;
    }
    // Normalising the normalised zip keeps it byte for byte.
    absl::StatusOr<DistributionArchive> again = OpenDistribution(*zip, "again", ArchiveLimits());
    ASSERT_TRUE(again.ok()) << c.label << ": " << again.status();
    absl::StatusOr<std::string> same = NormalizedZip(*again, *zip, c.name, c.version);
    ASSERT_TRUE(same.ok()) << c.label << ": " << same.status();
    EXPECT_EQ(*same, *zip) << c.label;
  }
}

ArchiveEntry L(std::string path, std::string target) {
  return ArchiveEntry::Symlink(std::move(path), std::move(target), 1300000000);
}

// `git archive` keeps links: a README.md linking to the doc, or a META.json
// linking to a generated one, reads as its target; the zip is stored as
// uploaded, or rewritten with the links kept and still resolving.
TEST(NormalizedZipTest, LinksReadAsTheirTargetsAndAreKept) {
  const std::vector<ArchiveEntry> entries = {D("Pair-0.1.0"),
                                             F("Pair-0.1.0/doc/pair.md", "# pair doc"),
                                             F("Pair-0.1.0/build/META.json", kMeta),
                                             L("Pair-0.1.0/META.json", "build/META.json"),
                                             L("Pair-0.1.0/README.md", "doc/pair.md"),
                                             L("Pair-0.1.0/docs", "doc")};
  for (const bool tar : {false, true}) {
    const std::string label = tar ? "tar" : "zip";
    const std::string original = WriteRaw(entries, tar ? Kind::kTar : Kind::kZip);
    absl::StatusOr<DistributionArchive> dist =
        OpenDistribution(original, "pair-0.1.0.zip", ArchiveLimits());
    ASSERT_TRUE(dist.ok()) << label << ": " << dist.status();
    EXPECT_EQ(dist->meta, Json::parse(kMeta)) << label;
    EXPECT_EQ(dist->meta_path, "Pair-0.1.0/META.json") << label;
    EXPECT_EQ(dist->readme, "# pair doc") << label;
    absl::StatusOr<std::string> zip = NormalizedZip(*dist, original, "pair", "0.1.0");
    ASSERT_TRUE(zip.ok()) << label << ": " << zip.status();
    absl::StatusOr<ReadArchiveResult> stored = ReadArchive(*zip, "stored.zip", ArchiveLimits());
    ASSERT_TRUE(stored.ok()) << label << ": " << stored.status();
    EXPECT_TRUE(stored->publishable_as_is) << label;
    ASSERT_EQ(stored->entries.size(), entries.size()) << label;
    const ArchiveEntry& readme = stored->entries[4];
    EXPECT_EQ(readme.path, "pair-0.1.0/README.md") << label;
    EXPECT_EQ(readme.type, ArchiveEntry::Type::kSymlink) << label;
    EXPECT_EQ(readme.link_target, "doc/pair.md") << label;
    EXPECT_EQ(readme.resolved, "pair-0.1.0/doc/pair.md") << label;
    EXPECT_EQ(readme.data, "# pair doc") << label;
    EXPECT_TRUE(stored->entries[5].resolves_to_directory) << label;
  }
  // Already under its prefix: the author's bytes, links and all.
  std::vector<ArchiveEntry> lower = {D("pair-0.1.0"), F("pair-0.1.0/META.json", kMeta),
                                     F("pair-0.1.0/doc.md", "d"),
                                     L("pair-0.1.0/README.md", "doc.md")};
  const std::string original = WriteRaw(lower, Kind::kZip);
  absl::StatusOr<DistributionArchive> dist =
      OpenDistribution(original, "pair-0.1.0.zip", ArchiveLimits());
  ASSERT_TRUE(dist.ok()) << dist.status();
  EXPECT_EQ(NormalizedZip(*dist, original, "pair", "0.1.0").value_or(""), original);
}

TEST(NormalizedZipTest, RefusesNamesThatCannotBeADirectory) {
  const std::string bytes = Zip({F("META.json", kMeta)});
  absl::StatusOr<DistributionArchive> dist = OpenDistribution(bytes, "x.zip", ArchiveLimits());
  ASSERT_TRUE(dist.ok()) << dist.status();
  const struct {
    std::string name, version, message;
  } kCases[] = {
      {"a/b", "1.0.0", "Distribution name \"a/b\" cannot be used as a directory name"},
      {"a\\b", "1.0.0", "Distribution name \"a\\\\b\" cannot be used as a directory name"},
      {"", "1.0.0", "Distribution name \"\" cannot be used as a directory name"},
      {"pair", "", "Distribution version \"\" cannot be used as a directory name"},
      {"pair", "1.0.0\n", "Distribution version \"1.0.0\\n\" cannot be used as a directory name"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::string> zip = NormalizedZip(*dist, bytes, c.name, c.version);
    ASSERT_FALSE(zip.ok()) << c.message;
    EXPECT_EQ(zip.status().code(), absl::StatusCode::kFailedPrecondition) << c.message;
    EXPECT_EQ(std::string(zip.status().message()), c.message);
  }
}

// End to end with real metadata: the pgTAP release as its author would have
// uploaded it (the Manager's additions removed, meta-spec put back).
TEST(OpenDistributionTest, RealMetadataGoesFromTarballToStoredZip) {
  std::ifstream in(std::filesystem::path(PGXN_FIXTURES) / "root-mirror/dist/pgTAP/0.25.0/META.json",
                   std::ios::binary);
  ASSERT_TRUE(in) << "fixture missing";
  std::stringstream text;
  text << in.rdbuf();
  Json meta = Json::parse(text.str());
  for (const char* key : {"user", "date", "sha1"}) meta.erase(key);
  meta["meta-spec"] = {{"version", "1.0.0"}};
  const std::string upload = WriteTar(
      {D("pgtap-0.25.0"), F("pgtap-0.25.0/META.json", meta.dump(3)),
       F("pgtap-0.25.0/README.md", "pgTAP\n=====\n"), F("pgtap-0.25.0/pgtap.sql", "SELECT 1;\n")},
      true);

  absl::StatusOr<DistributionArchive> dist =
      OpenDistribution(upload, "pgtap-0.25.0.tar.gz", ArchiveLimits());
  ASSERT_TRUE(dist.ok()) << dist.status();
  EXPECT_EQ(dist->meta, meta);
  EXPECT_EQ(ValidateMeta(dist->meta), std::vector<std::string>{});
  EXPECT_EQ(dist->readme, "pgTAP\n=====\n");

  absl::StatusOr<std::string> zip = NormalizedZip(*dist, upload, meta["name"].get<std::string>(),
                                                  meta["version"].get<std::string>());
  ASSERT_TRUE(zip.ok()) << zip.status();
  absl::StatusOr<DistributionArchive> stored = OpenDistribution(*zip, "stored", ArchiveLimits());
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->format, ArchiveFormat::kZip);
  EXPECT_EQ(stored->top_dir, "pgtap-0.25.0");
  EXPECT_EQ(stored->meta, meta);
}

}  // namespace
}  // namespace pgxn::origin
