// `pgxnd export` (issue 16) against a running mirror below a real origin:
// the exported directory equals the mirror's /_tree byte for byte; after
// releases and a removal, a second run writes and deletes exactly the files
// that changed (the rest keep their inode and mtime); `rsync -a --delete`
// of it gives the same tree; --follow exports a release published after it
// started and exits 0 on SIGTERM, refusing another export into its
// directory meanwhile; a directory it did not write is refused.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kPassword[] = "a long enough password";

// Path → sha256 hex of every file under `dir`, as /_tree lists a node's
// tree; anything but a regular file or a directory is listed as "<other>".
std::map<std::string, std::string> TreeOf(const std::string& dir) {
  std::map<std::string, std::string> tree;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string path = entry.path().lexically_relative(dir).string();
    if (entry.is_symlink() || !(entry.is_regular_file() || entry.is_directory())) {
      tree[path] = "<other>";
    } else if (entry.is_regular_file()) {
      tree[path] = base::Sha256Hex(ReadWholeFile(entry.path().string()));
    } else if (fs::is_empty(entry.path())) {
      tree[path] = "<empty directory>";
    }
  }
  return tree;
}

// What changes when a file is written: its inode (a rename) and mtime.
struct Written {
  ino_t inode = 0;
  int64_t mtime_ns = 0;
  bool operator==(const Written&) const = default;
};
Written WrittenOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_ino, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

class ExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    const std::string data = dir_->path() + "/origin";
    origin_ = Node::Start("origin", data, {"--unsafe-no-fsync", "--stats-delay=0s"}).release();
    if (origin_ == nullptr) return;
    RunResult admin =
        RunProgram({PgxndPath(), "user", "add", "--data-dir", data, "root", "--email",
                    "root@example.com", "--name", "Root", "--admin", "--password-stdin"},
                   std::string(kPassword) + "\n");
    user_added_ = admin.exit_code == 0;
    if (!user_added_) std::fprintf(stderr, "user add --admin: %s\n", admin.output.c_str());
    mirror_ =
        Node::Start("mirror", dir_->path() + "/mirror", {"--upstream", origin_->grpc_address()})
            .release();
  }
  static void TearDownTestSuite() {
    delete mirror_;
    delete origin_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(origin_, nullptr);
    ASSERT_NE(mirror_, nullptr);
    ASSERT_TRUE(user_added_);
  }

  static void Publish(const std::string& prefix, int first, int count) {
    absl::Status published =
        PublishReleases(origin_->url(), "root", kPassword, prefix, first, count, 2);
    ASSERT_TRUE(published.ok()) << published;
    ASSERT_TRUE(mirror_->WaitForSeq(origin_->AppliedSeq()));
  }

  static RunResult Export(const std::string& to, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {PgxndPath(),    "export", "--data-dir",
                                     mirror_->dir(), "--to",   to};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv);
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static Node* mirror_;
  static bool user_added_;
};

base::TempDir* ExportTest::dir_ = nullptr;
Node* ExportTest::origin_ = nullptr;
Node* ExportTest::mirror_ = nullptr;
bool ExportTest::user_added_ = false;

TEST_F(ExportTest, SecondRunChangesExactlyWhatChangedAndRsyncCopiesIt) {
  Publish("exp", 0, 3);
  const std::string out = dir_->path() + "/export";
  const std::string copy = dir_->path() + "/copy";

  const std::map<std::string, std::string> before = mirror_->Tree();
  ASSERT_FALSE(before.empty());
  RunResult first = Export(out);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(first.output, absl::StrCat("Exported seq ", mirror_->AppliedSeq(), ": ", before.size(),
                                       " written, 0 deleted (full)\n"));
  EXPECT_EQ(TreeOf(out), before);
  EXPECT_TRUE(fs::exists(out + ".pgxnd-export"));
  std::map<std::string, Written> written;
  for (const auto& [path, sha256] : before) written[path] = WrittenOf(out + "/" + path);

  RunResult rsync = RunProgram({"rsync", "-a", "--delete", out + "/", copy + "/"});
  ASSERT_EQ(rsync.exit_code, 0) << rsync.output;
  EXPECT_EQ(TreeOf(copy), before);

  // More releases, and one removed.
  Publish("exp", 3, 2);
  HttpResult removed =
      HttpRequest("DELETE", origin_->url() + "/admin/distributions/exp1/1.0.0", "",
                  {BasicAuthHeader("root", kPassword), "Accept: application/json"});
  ASSERT_EQ(removed.status, 200) << removed.body;
  ASSERT_TRUE(mirror_->WaitForSeq(origin_->AppliedSeq()));
  const std::map<std::string, std::string> after = mirror_->Tree();
  std::vector<std::string> changed;
  std::vector<std::string> deleted;
  for (const auto& [path, sha256] : after) {
    auto it = before.find(path);
    if (it == before.end() || it->second != sha256) changed.push_back(path);
  }
  for (const auto& [path, sha256] : before) {
    if (!after.contains(path)) deleted.push_back(path);
  }
  ASSERT_FALSE(deleted.empty());
  ASSERT_TRUE(absl::c_any_of(
      deleted, [](const std::string& path) { return absl::StartsWith(path, "dist/exp1/1.0.0/"); }));

  RunResult second = Export(out);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output,
            absl::StrCat("Exported seq ", mirror_->AppliedSeq(), ": ", changed.size(), " written, ",
                         deleted.size(), " deleted (incremental)\n"));
  EXPECT_EQ(TreeOf(out), after);
  for (const auto& [path, sha256] : after) {
    const bool rewritten = absl::c_linear_search(changed, path);
    if (!rewritten) {
      EXPECT_EQ(WrittenOf(out + "/" + path), written[path]) << path << " was rewritten";
    } else if (written.contains(path)) {
      EXPECT_NE(WrittenOf(out + "/" + path).inode, written[path].inode) << path;
    }
  }

  std::string stamps;
  for (const auto& [path, sha256] : after) {
    absl::StrAppend(&stamps, path, " ", WrittenOf(out + "/" + path).mtime_ns, " ",
                    WrittenOf(copy + "/" + path).mtime_ns, "\n");
  }
  rsync = RunProgram({"rsync", "-a", "-i", "--delete", out + "/", copy + "/"});
  ASSERT_EQ(rsync.exit_code, 0) << rsync.output;
  EXPECT_EQ(TreeOf(copy), after) << stamps << rsync.output << second.output;

  // Nothing new: nothing written.
  RunResult third = Export(out);
  EXPECT_EQ(third.output, absl::StrCat("Exported seq ", mirror_->AppliedSeq(),
                                       ": 0 written, 0 deleted (incremental)\n"));
}

TEST_F(ExportTest, FollowExportsNewReleasesUntilSigterm) {
  Publish("followed", 0, 1);
  const std::string out = dir_->path() + "/followed";
  Process follow({PgxndPath(), "export", "--data-dir", mirror_->dir(), "--to", out, "--follow",
                  "--interval", "50ms"},
                 dir_->path() + "/follow.log");
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(ReadWholeFile(follow.log_path()), "(full)");
  })) << ReadWholeFile(follow.log_path());
  // It holds PATH: another export into it is refused.
  RunResult second = Export(out);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_EQ(second.output, absl::StrCat("pgxnd: Another pgxnd export is writing ", out,
                                        " (it holds ", out, ".pgxnd-export.lock)\n"));
  Publish("followed", 1, 1);
  const std::map<std::string, std::string> tree = mirror_->Tree();
  ASSERT_TRUE(tree.contains("dist/followed1/1.0.0/followed1-1.0.0.zip"));
  // The line is printed once the pass is done, after its files.
  EXPECT_TRUE(WaitUntil([&] {
    return absl::StrContains(ReadWholeFile(follow.log_path()), "(incremental)");
  })) << ReadWholeFile(follow.log_path());
  EXPECT_EQ(TreeOf(out), tree);
  EXPECT_EQ(follow.Stop(SIGTERM), 0) << ReadWholeFile(follow.log_path());
}

TEST_F(ExportTest, RefusesADirectoryItDidNotWrite) {
  Publish("refused", 0, 1);
  const std::string out = dir_->path() + "/someones";
  fs::create_directories(out);
  WriteWholeFile(out + "/precious.txt", "keep me");
  RunResult refused = Export(out);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.output,
            absl::StrCat("pgxnd: ", out, " is not empty and was not exported to (no ", out,
                         ".pgxnd-export); pass --full to replace what it holds with the tree\n"));
  EXPECT_EQ(ReadWholeFile(out + "/precious.txt"), "keep me");

  RunResult inside = Export(out, {"--state", out + "/state"});
  EXPECT_EQ(inside.exit_code, 2) << inside.output;

  RunResult full = Export(out, {"--full"});
  ASSERT_EQ(full.exit_code, 0) << full.output;
  EXPECT_TRUE(absl::StrContains(full.output, " 1 deleted (full)")) << full.output;
  EXPECT_EQ(TreeOf(out), mirror_->Tree());
}

}  // namespace
}  // namespace pgxn::testing
