#include "replica/store_tree.h"

#include <unistd.h>

#include <string>

#include "base/temp_dir.h"
#include "feed/test_events.h"
#include "gtest/gtest.h"

namespace pgxn::replica {
namespace {

class StoreTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->PinOriginKey(feed::TestChain::Key().public_key).ok());
  }

  void Apply(std::vector<v1::Op> ops) {
    absl::StatusOr<bool> applied = store_->Apply(chain_.Next(std::move(ops)));
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  std::string Served(const StoreTree& tree, const std::string& path) {
    absl::StatusOr<gateway::TreeFile> file = tree.OpenFile(path);
    if (!file.ok()) return "<" + std::string(absl::StatusCodeToString(file.status().code())) + ">";
    return file->content;
  }

  base::TempDir dir_;
  std::unique_ptr<Store> store_;
  feed::TestChain chain_;
};

// The cache must never outlive the file it holds: every applied event, a
// clear and a bootstrap are seen by the next read.
TEST_F(StoreTreeTest, ServesEachFileAsTheStoreHoldsItNow) {
  StoreTree tree(store_.get());
  Apply({feed::PutOp("dist/pair.json", "v1"), feed::PutOp("index.json", "{}")});
  EXPECT_EQ(Served(tree, "dist/pair.json"), "v1");
  EXPECT_EQ(Served(tree, "dist/pair.json"), "v1");  // from the cache now
  Apply({feed::PutOp("dist/pair.json", "v2")});
  EXPECT_EQ(Served(tree, "dist/pair.json"), "v2");
  absl::StatusOr<gateway::TreeFile> whole = tree.ReadFile("dist/pair.json");
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->content, "v2");
  EXPECT_EQ(Served(tree, "index.json"), "{}");
  Apply({feed::DeleteOp("index.json")});
  EXPECT_EQ(Served(tree, "index.json"), "<NOT_FOUND>");
  EXPECT_EQ(Served(tree, "index.json"), "<NOT_FOUND>");  // remembered as missing now
  Apply({feed::PutOp("index.json", "{\"back\":1}")});
  EXPECT_EQ(Served(tree, "index.json"), "{\"back\":1}");  // not any more
  ASSERT_TRUE(store_->Clear().ok());
  EXPECT_EQ(Served(tree, "dist/pair.json"), "<NOT_FOUND>");
}

TEST_F(StoreTreeTest, TheCachedFileKeepsItsHeaders) {
  StoreTree tree(store_.get());
  Apply({feed::PutOp("dist/pair.json", "{}")});
  absl::StatusOr<gateway::TreeFile> first = tree.OpenFile("dist/pair.json");
  absl::StatusOr<gateway::TreeFile> second = tree.OpenFile("dist/pair.json");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(second->sha256_hex, first->sha256_hex);
  EXPECT_EQ(second->media_type, "application/json");
  EXPECT_EQ(second->modified_unix_seconds, first->modified_unix_seconds);
  EXPECT_FALSE(second->sha256_hex.empty());
}

TEST_F(StoreTreeTest, LargeFilesAreStreamedNotCached) {
  StoreTree tree(store_.get());
  const std::string big(StoreTree::kStreamAbove + 1, 'z');
  Apply({feed::PutOp("dist/big.zip", big)});
  absl::StatusOr<gateway::TreeFile> file = tree.OpenFile("dist/big.zip");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->content.empty());
  ASSERT_TRUE(file->read);
  EXPECT_EQ(file->size, big.size());
}

// With a file cache, a large file is streamed until its copy is made, then
// sent from the copy; a path whose content changed is never sent the old copy.
TEST_F(StoreTreeTest, LargeFilesAreSentFromTheFileCacheOnceCopied) {
  base::TempDir cache_dir;
  absl::StatusOr<std::unique_ptr<FileCache>> files = FileCache::Open(
      cache_dir.path() + "/files", 16 << 20,
      [this](absl::string_view sha256, uint64_t offset, size_t length) {
        return store_->ReadBlobRange(sha256, offset, length);
      });
  ASSERT_TRUE(files.ok()) << files.status();
  StoreTree tree(store_.get(), files->get());
  const std::string first(StoreTree::kStreamAbove + 100, 'a');
  Apply({feed::PutOp("dist/big.zip", first)});
  absl::StatusOr<gateway::TreeFile> file = tree.OpenFile("dist/big.zip");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->read) << "the first request streams while the copy is made";
  EXPECT_EQ(file->file, nullptr);
  (*files)->WaitIdle();
  file = tree.OpenFile("dist/big.zip");
  ASSERT_TRUE(file.ok());
  ASSERT_NE(file->file, nullptr);
  EXPECT_FALSE(file->read);
  EXPECT_EQ(file->size, first.size());
  std::string copy(first.size(), '\0');
  ASSERT_EQ(::pread(file->file->get(), copy.data(), copy.size(), 0),
            static_cast<ssize_t>(copy.size()));
  EXPECT_EQ(copy, first);

  const std::string second(StoreTree::kStreamAbove + 100, 'b');
  Apply({feed::PutOp("dist/big.zip", second)});
  file = tree.OpenFile("dist/big.zip");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->file, nullptr) << "the old copy is not the file any more";
  ASSERT_TRUE(file->read);
  absl::StatusOr<std::string> piece = file->read(0, 10);
  ASSERT_TRUE(piece.ok());
  EXPECT_EQ(*piece, "bbbbbbbbbb");
}

}  // namespace
}  // namespace pgxn::replica
