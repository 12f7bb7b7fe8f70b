#include "replica/tree_export.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/files.h"
#include "base/temp_dir.h"
#include "feed/test_events.h"
#include "gtest/gtest.h"

namespace pgxn::replica {
namespace {

namespace fs = std::filesystem;

// Path → content of every regular file under `dir`, and "<dir>" for each
// directory (so that an empty one left behind shows).
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string path = entry.path().lexically_relative(dir).string();
    if (entry.is_directory()) {
      files[path] = "<dir>";
    } else {
      files[path] = base::ReadFile(entry.path().string()).value_or("<unreadable>");
    }
  }
  return files;
}

// What identifies one write of a file: a rewrite renames a new inode onto it.
ino_t Inode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

time_t MtimeSeconds(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_mtim.tv_sec : 0;
}

mode_t Mode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

class TreeExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PinOriginKey(feed::TestChain::Key().public_key).ok());
  }

  void Apply(std::vector<v1::Op> ops) {
    absl::StatusOr<bool> applied = store_->Apply(chain_.Next(std::move(ops)));
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  ExportResult Export(const absl::optional<ExportMark>& last) {
    absl::StatusOr<ExportResult> result = ExportTree(*store_, out_, last);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ExportResult{};
  }

  base::TempDir dir_;
  const std::string out_ = dir_.path() + "/out";
  std::unique_ptr<Store> store_;
  feed::TestChain chain_;
};

TEST(TreeDeltaTest, TheLastOpOnAPathWins) {
  feed::TestChain chain;
  TreeDelta delta;
  AddToDelta(chain.Next({feed::PutOp("a", "1"), feed::PutOp("b", "1"), feed::PutOp("c", "1")}),
             &delta);
  AddToDelta(chain.Next({feed::DeleteOp("a"), feed::PutOp("b", "22")}), &delta);
  AddToDelta(chain.Next({feed::PutOp("c", "333"), feed::DeleteOp("c"), feed::DeleteOp("d")}),
             &delta);
  AddToDelta(chain.Next({feed::PutOp("d", "4444")}), &delta);
  const TreeDelta expected = {
      {"a", absl::nullopt},
      {"b", ExportFile{base::Sha256("22"), 2}},
      {"c", absl::nullopt},
      {"d", ExportFile{base::Sha256("4444"), 4}},
  };
  EXPECT_EQ(delta, expected);
}

TEST(ExportMarkTest, RoundTripsAndRefusesWhatIsNotAMark) {
  base::TempDir dir;
  const std::string file = dir.path() + "/out.pgxnd-export";
  EXPECT_TRUE(absl::IsNotFound(ReadExportMark(file).status()));
  const ExportMark mark{std::string("\x00\xff"
                                    "epoch",
                                    7),
                        42};
  ASSERT_TRUE(WriteExportMark(file, mark).ok());
  absl::StatusOr<ExportMark> read = ReadExportMark(file);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, mark);
  for (const char* bad : {"", "{}", "[1]", "{\"epoch\": \"zz\", \"seq\": 1}",
                          "{\"epoch\": \"00\", \"seq\": -1}", "{\"epoch\": \"00\"}"}) {
    ASSERT_TRUE(base::WriteFileAtomically(file, bad, 0644).ok());
    EXPECT_EQ(ReadExportMark(file).status(),
              absl::InvalidArgumentError("Export state file " + file +
                                         " is not {\"epoch\": HEX, \"seq\": N}; remove it to "
                                         "export all"))
        << bad;
  }
}

TEST_F(TreeExportTest, FirstExportWritesTheWholeTree) {
  Apply({feed::PutOp("index.json", "{}"), feed::PutOp("dist/pair/pair-0.1.0.zip", "zip")});
  const ExportResult result = Export(absl::nullopt);
  EXPECT_EQ(ExportSummary(result), "Exported seq 1: 2 written, 0 deleted (full)");
  EXPECT_EQ(result.mark, (ExportMark{chain_.tip().epoch, 1}));
  const std::map<std::string, std::string> expected = {
      {"dist", "<dir>"},
      {"dist/pair", "<dir>"},
      {"dist/pair/pair-0.1.0.zip", "zip"},
      {"index.json", "{}"},
  };
  EXPECT_EQ(Files(out_), expected);
  EXPECT_EQ(Mode(out_ + "/index.json"), 0644u);
  EXPECT_EQ(Mode(out_ + "/dist/pair"), 0755u);
}

TEST_F(TreeExportTest, NextExportWritesAndDeletesExactlyWhatTheLogChanged) {
  Apply({feed::PutOp("index.json", "{}"), feed::PutOp("dist/pair/pair.json", "p1"),
         feed::PutOp("dist/gone/gone.json", "g"), feed::PutOp("stats/dist.json", "s1")});
  const ExportResult first = Export(absl::nullopt);
  const ino_t index_inode = Inode(out_ + "/index.json");
  const ino_t stats_inode = Inode(out_ + "/stats/dist.json");
  const time_t pair_mtime = MtimeSeconds(out_ + "/dist/pair/pair.json");
  ASSERT_NE(index_inode, 0u);

  Apply({feed::PutOp("dist/pair/pair.json", "p2"), feed::PutOp("dist/new/new.json", "n")});
  Apply({feed::DeleteOp("dist/gone/gone.json"), feed::PutOp("stats/dist.json", "s2")});
  // Put back with the content the export already holds: not rewritten.
  Apply({feed::PutOp("stats/dist.json", "s1")});
  const ExportResult second = Export(first.mark);
  EXPECT_EQ(ExportSummary(second), "Exported seq 4: 2 written, 1 deleted (incremental)");
  const std::map<std::string, std::string> expected = {
      {"dist", "<dir>"},      {"dist/new", "<dir>"},         {"dist/new/new.json", "n"},
      {"dist/pair", "<dir>"}, {"dist/pair/pair.json", "p2"}, {"index.json", "{}"},
      {"stats", "<dir>"},     {"stats/dist.json", "s1"},
  };
  EXPECT_EQ(Files(out_), expected);
  EXPECT_EQ(Inode(out_ + "/index.json"), index_inode);
  EXPECT_EQ(Inode(out_ + "/stats/dist.json"), stats_inode);
  // Rewritten with the same size, most likely within the same second: rsync
  // must still see a new mtime.
  EXPECT_GT(MtimeSeconds(out_ + "/dist/pair/pair.json"), pair_mtime);

  // Nothing new: nothing written.
  EXPECT_EQ(ExportSummary(Export(second.mark)),
            "Exported seq 4: 0 written, 0 deleted (incremental)");
}

TEST_F(TreeExportTest, AFileMayBecomeADirectoryAndBack) {
  Apply({feed::PutOp("a", "file")});
  const ExportResult first = Export(absl::nullopt);
  Apply({feed::DeleteOp("a"), feed::PutOp("a/b", "below")});
  const ExportResult second = Export(first.mark);
  EXPECT_EQ(ExportSummary(second), "Exported seq 2: 1 written, 1 deleted (incremental)");
  EXPECT_EQ(Files(out_), (std::map<std::string, std::string>{{"a", "<dir>"}, {"a/b", "below"}}));
  Apply({feed::DeleteOp("a/b"), feed::PutOp("a", "file again")});
  EXPECT_EQ(ExportSummary(Export(second.mark)),
            "Exported seq 3: 1 written, 1 deleted (incremental)");
  EXPECT_EQ(Files(out_), (std::map<std::string, std::string>{{"a", "file again"}}));
}

TEST_F(TreeExportTest, FullExportRewritesOnlyWhatDiffersAndRemovesTheRest) {
  Apply({feed::PutOp("index.json", "{}"), feed::PutOp("dist/pair/pair.json", "p1"),
         feed::PutOp("dist/pair/other.json", "o1")});
  const ExportResult first = Export(absl::nullopt);
  const ino_t index_inode = Inode(out_ + "/index.json");
  // Someone changed the directory behind the export's back.
  ASSERT_TRUE(base::WriteFileAtomically(out_ + "/dist/pair/pair.json", "XX", 0644).ok());
  ASSERT_TRUE(base::MakeDirectories(out_ + "/stray/deep").ok());
  ASSERT_TRUE(base::WriteFileAtomically(out_ + "/stray/deep/file", "x", 0644).ok());
  ASSERT_TRUE(base::WriteFileAtomically(out_ + "/index.json.tmp.123", "half", 0644).ok());
  fs::create_symlink("/etc", out_ + "/dist/link");
  ASSERT_TRUE(fs::remove(out_ + "/dist/pair/other.json"));

  // No mark: a full export.
  const ExportResult full = Export(absl::nullopt);
  EXPECT_EQ(ExportSummary(full), "Exported seq 1: 2 written, 3 deleted (full)");
  const std::map<std::string, std::string> expected = {
      {"dist", "<dir>"},
      {"dist/pair", "<dir>"},
      {"dist/pair/other.json", "o1"},
      {"dist/pair/pair.json", "p1"},
      {"index.json", "{}"},
  };
  EXPECT_EQ(Files(out_), expected);
  EXPECT_EQ(Inode(out_ + "/index.json"), index_inode);
  EXPECT_TRUE(fs::exists("/etc"));

  // A mark of another epoch, or ahead of the node, cannot be continued.
  EXPECT_FALSE(Export(ExportMark{"another epoch", 1}).incremental);
  EXPECT_FALSE(Export(ExportMark{first.mark.epoch, 2}).incremental);
  EXPECT_TRUE(Export(first.mark).incremental);
  // Nor can one whose directory is gone.
  fs::remove_all(out_);
  const ExportResult again = Export(first.mark);
  EXPECT_EQ(ExportSummary(again), "Exported seq 1: 3 written, 0 deleted (full)");
  EXPECT_EQ(Files(out_), expected);
}

TEST_F(TreeExportTest, ALogThatStartsAfterTheMarkMeansAFullExport) {
  Apply({feed::PutOp("a", "1"), feed::PutOp("b", "1")});
  const ExportResult first = Export(absl::nullopt);
  Apply({feed::PutOp("a", "2")});
  v1::Event head = chain_.Next({feed::DeleteOp("b"), feed::PutOp("c", "3")});
  // Another node bootstrapped from a snapshot at `head`: its log starts
  // there, so it cannot tell what changed after seq 1.
  auto bootstrapped = Store::Open(dir_.path() + "/bootstrapped");
  ASSERT_TRUE(bootstrapped.ok()) << bootstrapped.status();
  ASSERT_TRUE((*bootstrapped)->PinOriginKey(feed::TestChain::Key().public_key).ok());
  std::vector<v1::Op> files = {feed::PutOp("a", "2"), feed::PutOp("c", "3")};
  size_t next = 0;
  ASSERT_TRUE((*bootstrapped)
                  ->Bootstrap(head,
                              [&]() -> absl::StatusOr<v1::Op> {
                                if (next == files.size()) return absl::NotFoundError("end");
                                return files[next++];
                              })
                  .ok());
  ASSERT_EQ((*bootstrapped)->LogStart(), 3u);
  absl::StatusOr<ExportResult> result = ExportTree(**bootstrapped, out_, first.mark);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(ExportSummary(*result), "Exported seq 3: 2 written, 1 deleted (full)");
  EXPECT_EQ(Files(out_), (std::map<std::string, std::string>{{"a", "2"}, {"c", "3"}}));
  // From the start of its log on, it can.
  EXPECT_TRUE(ExportTree(**bootstrapped, out_, result->mark)->incremental);
}

TEST_F(TreeExportTest, TheRootMayBeASymlinkToADirectory) {
  Apply({feed::PutOp("dist/a.json", "1")});
  ASSERT_TRUE(base::MakeDirectories(dir_.path() + "/real").ok());
  fs::create_directory_symlink(dir_.path() + "/real", out_);
  const ExportResult first = Export(absl::nullopt);
  Apply({feed::PutOp("dist/a.json", "2")});
  EXPECT_TRUE(Export(first.mark).incremental);
  EXPECT_TRUE(fs::is_symlink(out_));
  EXPECT_EQ(Files(dir_.path() + "/real"),
            (std::map<std::string, std::string>{{"dist", "<dir>"}, {"dist/a.json", "2"}}));
}

TEST_F(TreeExportTest, ACancelledExportStopsBetweenFiles) {
  Apply({feed::PutOp("a", "1"), feed::PutOp("b", "1"), feed::PutOp("c", "1")});
  int asked = 0;
  absl::StatusOr<ExportResult> result =
      ExportTree(*store_, out_, absl::nullopt, [&asked] { return ++asked > 2; });
  EXPECT_EQ(result.status(), absl::CancelledError("The export into " + out_ + " was interrupted"));
  EXPECT_EQ(Files(out_), (std::map<std::string, std::string>{{"a", "1"}, {"b", "1"}}));
  // The next one, not cancelled, finishes it.
  EXPECT_EQ(ExportSummary(Export(absl::nullopt)), "Exported seq 1: 1 written, 0 deleted (full)");
}

TEST_F(TreeExportTest, AnEmptyStoreIsNotExported) {
  ASSERT_TRUE(base::MakeDirectories(out_).ok());
  ASSERT_TRUE(base::WriteFileAtomically(out_ + "/index.json", "{}", 0644).ok());
  absl::StatusOr<ExportResult> result = ExportTree(*store_, out_, absl::nullopt);
  EXPECT_EQ(result.status(),
            absl::FailedPreconditionError("The node holds no events yet; nothing to export"));
  EXPECT_EQ(Files(out_), (std::map<std::string, std::string>{{"index.json", "{}"}}));
}

TEST_F(TreeExportTest, AnExportOfANonDirectoryFails) {
  Apply({feed::PutOp("a", "1")});
  ASSERT_TRUE(base::WriteFileAtomically(out_, "a file", 0644).ok());
  absl::StatusOr<ExportResult> result = ExportTree(*store_, out_, absl::nullopt);
  EXPECT_EQ(result.status(), absl::FailedPreconditionError(out_ + " is not a directory"));
}

}  // namespace
}  // namespace pgxn::replica
