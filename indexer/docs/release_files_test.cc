#include "indexer/docs/release_files.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "archive/archive.h"
#include "gtest/gtest.h"

namespace pgxn::indexer {
namespace {

using Json = nlohmann::json;

Json PairMeta() {
  return Json::parse(R"({
    "name": "pair", "version": "0.1.1", "abstract": "A key/value pair data type",
    "user": "theory", "date": "2010-10-29T22:44:42Z", "release_status": "stable",
    "provides": {
      "pair": {"file": "sql/pair.sql", "version": "0.1.1", "docfile": "doc/pair.md",
               "abstract": "A key/value pair data type"},
      "pair_util": {"file": "sql/util.sql", "version": "0.1.1", "abstract": "Pair utilities"}
    },
    "no_index": {"directory": ["test"], "file": "doc/secret.md"}
  })");
}

std::string PairZip() {
  std::vector<archive::ArchiveEntry> entries;
  auto add = [&](const std::string& path, const std::string& data) {
    archive::ArchiveEntry entry;
    entry.path = "pair-0.1.1/" + path;
    entry.data = data;
    entry.mode = 0644;
    entries.push_back(entry);
  };
  add("README.md", "# pair 0.1.1\n\nSee [the docs](doc/pair.md).\n");
  add("Changes", "0.1.1 fixed things\n");
  add("Makefile", "EXTENSION = pair\n");
  add("META.json", "{}");
  add("pair.control", "default_version = '0.1.1'\n");
  add("doc/pair.md", "pair\n====\n\nSynopsis\n--------\n\n    SELECT pair('a', 'b');\n");
  add("doc/pair_util.md", "# pair_util\n\nHelpers.\n");
  add("doc/secret.md", "# not indexed\n");
  add("test/sql/base.md", "# test fixture, not indexed\n");
  add("sql/pair.sql", "CREATE TYPE pair;\n");
  add("doc/notes.txt", "plain text that is not a README\n");
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  EXPECT_TRUE(zip.ok()) << zip.status();
  return zip.ok() ? *zip : "";
}

TEST(ReleaseFilesTest, ReadReleaseFilesFindsDocsAndSpecialFiles) {
  absl::StatusOr<ReleaseFiles> files = ReadReleaseFiles(PairMeta(), PairZip());
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::string> docpaths;
  for (const ReleaseDoc& doc : files->docs) docpaths.push_back(doc.docpath);
  // The docfile first, then the other markup files and READMEs in archive
  // order; no_index and plain .txt files left out.
  EXPECT_EQ(docpaths, (std::vector<std::string>{"doc/pair", "README", "doc/pair_util"}));
  EXPECT_EQ(files->docs[0].title, "pair");
  EXPECT_EQ(files->docs[0].abstract, "A key/value pair data type");
  EXPECT_EQ(files->docs[1].title, "pair 0.1.1");
  EXPECT_EQ(files->docs[1].abstract, "");
  // pair_util names no docfile: doc/pair_util.md is its doc, titled for it.
  EXPECT_EQ(files->docs[2].title, "pair_util");
  EXPECT_EQ(files->docs[2].abstract, "Pair utilities");
  EXPECT_NE(files->docs[0].html.find("id=\"pgxndoc\""), std::string::npos);
  EXPECT_NE(files->docs[0].text.find("SELECT pair"), std::string::npos);
  // The README's link to the docfile points at its page.
  EXPECT_NE(files->docs[1].html.find("href=\"doc/pair.html\""), std::string::npos)
      << files->docs[1].html;
  // In PGXN's order, not the archive's.
  EXPECT_EQ(files->special_files, (std::vector<std::string>{"Changes", "README.md", "META.json",
                                                            "Makefile", "pair.control"}));
}

TEST(ReleaseFilesTest, ReadReleaseFilesFindsTheLowerCasedTopDirectory) {
  // The origin stores "pgTAP 0.25.0" under "pgtap-0.25.0/".
  archive::ArchiveEntry readme;
  readme.path = "pgtap-0.25.0/README.md";
  readme.data = "# pgTAP\n";
  readme.mode = 0644;
  absl::StatusOr<std::string> zip = archive::WriteZip({readme});
  ASSERT_TRUE(zip.ok()) << zip.status();
  Json meta = PairMeta();
  meta["name"] = "pgTAP";
  meta["version"] = "0.25.0";
  meta.erase("provides");
  absl::StatusOr<ReleaseFiles> files = ReadReleaseFiles(meta, *zip);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->docs.size(), 1u);
  EXPECT_EQ(files->docs[0].docpath, "README");
  EXPECT_EQ(files->special_files, std::vector<std::string>{"README.md"});
}

// A release laid out as real ones are: special files in any case, with an
// extension, templates beside them, and READMEs below the top.
std::string LayoutZip() {
  std::vector<archive::ArchiveEntry> entries;
  for (const char* path :
       {"MANIFEST", "Makefile.in", "CHANGELOG.md", "Changes.old.txt", "readme.rst", "README.txt",
        "LICENSE.in", "Copying", "INSTALL.md", "AUTHORS", "META.json", "Pair.control",
        "debian/README.Debian", "expected/README", "doc/README.md", "sql/README"}) {
    archive::ArchiveEntry entry;
    entry.path = absl::StrCat("pair-0.1.1/", path);
    entry.data = absl::StrCat("# ", path, "\n");
    entry.mode = 0644;
    entries.push_back(entry);
  }
  absl::StatusOr<std::string> zip = archive::WriteZip(entries);
  EXPECT_TRUE(zip.ok()) << zip.status();
  return zip.ok() ? *zip : "";
}

TEST(ReleaseFilesTest, SpecialFilesFollowPgxnsPatternsAndOrder) {
  Json meta = PairMeta();
  meta.erase("no_index");
  absl::StatusOr<ReleaseFiles> files = ReadReleaseFiles(meta, LayoutZip());
  ASSERT_TRUE(files.ok()) << files.status();
  // One of each pattern, the first in archive order; Makefile.in and
  // LICENSE.in stand in for the files they make; "Changes.old.txt" has two
  // extensions and is none of them.
  EXPECT_EQ(files->special_files,
            (std::vector<std::string>{"CHANGELOG.md", "readme.rst", "LICENSE.in", "Copying",
                                      "INSTALL.md", "AUTHORS", "META.json", "Makefile.in",
                                      "MANIFEST", "Pair.control"}));
}

TEST(ReleaseFilesTest, OnlyTheTopLevelReadmeIsADocByItsName) {
  Json meta = PairMeta();
  meta.erase("no_index");
  absl::StatusOr<ReleaseFiles> files = ReadReleaseFiles(meta, LayoutZip());
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::string> paths;
  for (const ReleaseDoc& doc : files->docs) paths.push_back(doc.path);
  // The top-level READMEs whatever their markup, and the files in a markup
  // (Markdown here); not debian/README.Debian, expected/README or
  // sql/README, which are READMEs by name only.
  EXPECT_EQ(paths, (std::vector<std::string>{"CHANGELOG.md", "readme.rst", "README.txt",
                                             "INSTALL.md", "doc/README.md"}));
}

TEST(ReleaseFilesTest, ReadReleaseFilesRefusesWhatIsNotAZip) {
  EXPECT_FALSE(ReadReleaseFiles(PairMeta(), "not a zip").ok());
}

TEST(ReleaseFilesTest, MetaPathsBecomeArchivePaths) {
  EXPECT_EQ(ArchivePathOf("./doc/x.md"), "doc/x.md");
  EXPECT_EQ(ArchivePathOf("test/"), "test");
  EXPECT_EQ(ArchivePathOf("././a//"), "a");
  EXPECT_EQ(ArchivePathOf("sql/pair.sql"), "sql/pair.sql");
}

}  // namespace
}  // namespace pgxn::indexer
