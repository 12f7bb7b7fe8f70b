// Backing up an origin while it runs and restoring it into a new data
// directory (pgxnd origin backup / restore): the restored origin continues the
// same log, so a mirror that followed the old one follows it on, verifying
// every event; a refused restore leaves nothing behind.
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/process.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "keeper";
constexpr char kPassword[] = "a long enough password";

RunResult Pgxnd(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {PgxndPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

TEST(BackupTest, ARestoredOriginContinuesTheLogItsMirrorsFollow) {
  base::TempDir dir;
  const std::string old_dir = dir.path() + "/origin";
  const std::string backup = dir.path() + "/backup";
  const std::string new_dir = dir.path() + "/restored";
  std::unique_ptr<Node> origin = Node::Start("origin", old_dir, {"--unsafe-no-fsync"});
  ASSERT_NE(origin, nullptr);
  ASSERT_TRUE(AddUser(old_dir, kUser, kPassword));
  ASSERT_TRUE(PublishReleases(origin->url(), kUser, kPassword, "kept", 0, 3, 1).ok());
  std::unique_ptr<Node> mirror =
      Node::Start("mirror", dir.path() + "/mirror", {"--upstream", origin->grpc_address()});
  ASSERT_NE(mirror, nullptr);
  const uint64_t head = origin->AppliedSeq();
  ASSERT_TRUE(mirror->WaitForSeq(head));
  const std::string epoch = origin->Status()["epoch"];

  // Backed up while the origin runs.
  RunResult made = Pgxnd({"origin", "backup", "--data-dir", old_dir, "--to", backup});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_TRUE(absl::StrContains(made.output, absl::StrCat("head seq ", head))) << made.output;
  const nlohmann::json manifest = nlohmann::json::parse(ReadWholeFile(backup + "/backup.json"));
  EXPECT_EQ(manifest["epoch"], epoch);
  EXPECT_EQ(manifest["head_seq"], head);
  EXPECT_EQ(manifest["origin_key"], origin->Status()["origin_key"]);
  struct stat key_info;
  ASSERT_EQ(::stat((backup + "/origin.key").c_str(), &key_info), 0);
  EXPECT_EQ(key_info.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(backup + ".partial"));
  RunResult again = Pgxnd({"origin", "backup", "--data-dir", old_dir, "--to", backup});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(again.output, "exists")) << again.output;

  // The old origin is gone; the new one takes its place (its Feed address,
  // so the mirror, which knows only that, reconnects to it).
  const std::string feed_address = origin->grpc_address();
  const auto tree = origin->Tree();
  ASSERT_EQ(origin->Stop(SIGTERM), 0);
  origin.reset();

  RunResult restored = Pgxnd({"origin", "restore", "--data-dir", new_dir, "--from", backup});
  ASSERT_EQ(restored.exit_code, 0) << restored.output;
  EXPECT_TRUE(absl::StrContains(restored.output, absl::StrCat("head seq ", head)))
      << restored.output;
  RunResult twice = Pgxnd({"origin", "restore", "--data-dir", new_dir, "--from", backup});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(twice.output, "already holds an origin")) << twice.output;
  RunResult checked = Pgxnd({"origin", "rebuild", "--data-dir", new_dir});
  EXPECT_EQ(checked.exit_code, 0) << checked.output;

  std::unique_ptr<Node> successor =
      Node::Start("origin", new_dir, {"--unsafe-no-fsync", "--grpc", feed_address});
  ASSERT_NE(successor, nullptr);
  EXPECT_EQ(successor->Status()["epoch"], epoch);
  EXPECT_EQ(successor->Tree(), tree);
  // Accounts came along: the same author publishes the next release, and the
  // mirror verifies it as the next link of the chain it holds.
  ASSERT_TRUE(PublishReleases(successor->url(), kUser, kPassword, "kept", 3, 1, 1).ok());
  const uint64_t next = successor->AppliedSeq();
  EXPECT_GT(next, head);
  ASSERT_TRUE(mirror->WaitForSeq(next)) << mirror->Log();
  EXPECT_EQ(mirror->Tree(), successor->Tree());
  EXPECT_EQ(mirror->Get("/dist/kept3.json").status, 200);
  EXPECT_EQ(mirror->Status()["last_error"], "") << mirror->Log();
}

TEST(BackupTest, ARefusedRestoreLeavesNothingBehind) {
  base::TempDir dir;
  const std::string fake = dir.path() + "/not-a-backup";
  std::filesystem::create_directories(fake);
  WriteWholeFile(fake + "/pgxn.dump", "not a dump");
  WriteWholeFile(fake + "/origin.key", "not a key");
  WriteWholeFile(fake + "/backup.json",
                 R"({"epoch": "e", "head_seq": 1, "head_hash": "00", "origin_key": "k"})");
  const std::string target = dir.path() + "/target";
  RunResult refused = Pgxnd({"origin", "restore", "--data-dir", target, "--from", fake});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(refused.output, "pg_restore failed")) << refused.output;
  EXPECT_FALSE(std::filesystem::exists(target));

  RunResult missing =
      Pgxnd({"origin", "restore", "--data-dir", target, "--from", dir.path() + "/nowhere"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(missing.output, "is not a pgxnd backup")) << missing.output;
  RunResult nothing = Pgxnd({"origin", "backup", "--data-dir", target, "--to", dir.path() + "/b"});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(nothing.output, "nothing to back up")) << nothing.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/b"));
}

}  // namespace
}  // namespace pgxn::testing
