#include "replica/file_cache.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"

namespace pgxn::replica {
namespace {

// Contents by raw SHA-256, read a range at a time as Store::ReadBlobRange
// does; counts the bytes read.
class FakeBlobs {
 public:
  std::string Add(const std::string& content) {
    const std::string sha256 = base::Sha256(content);
    absl::MutexLock lock(&mu_);
    blobs_[sha256] = content;
    return sha256;
  }
  // Makes the content with this hash read back as `content` (a damaged store).
  void Damage(const std::string& sha256, const std::string& content) {
    absl::MutexLock lock(&mu_);
    blobs_[sha256] = content;
  }
  FileCache::Reader reader() {
    return [this](absl::string_view sha256, uint64_t offset,
                  size_t length) -> absl::StatusOr<std::string> {
      absl::MutexLock lock(&mu_);
      const auto found = blobs_.find(sha256);
      if (found == blobs_.end()) return absl::NotFoundError("no such blob");
      if (offset >= found->second.size()) return std::string();
      return found->second.substr(offset, length);
    };
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> blobs_ ABSL_GUARDED_BY(mu_);
};

std::string ReadAll(int fd, size_t size) {
  std::string out(size, '\0');
  const ssize_t got = ::pread(fd, out.data(), size, 0);
  out.resize(got < 0 ? 0 : static_cast<size_t>(got));
  return out;
}

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

std::string Content(char fill, size_t size) {
  std::string content(size, fill);
  for (size_t i = 0; i < size; i += 997) content[i] = static_cast<char>(i % 251);
  return content;
}

TEST(FileCacheTest, AMissIsCopiedInTheBackgroundAndThenFound) {
  base::TempDir dir;
  FakeBlobs blobs;
  // Several copy chunks, the last one short.
  const std::string content = Content('z', 3 * 64 * 1024 + 17);
  const std::string sha256 = blobs.Add(content);
  absl::StatusOr<std::unique_ptr<FileCache>> cache =
      FileCache::Open(dir.path() + "/files", 1 << 20, blobs.reader());
  ASSERT_TRUE(cache.ok()) << cache.status();

  EXPECT_EQ((*cache)->Find(sha256, content.size()), nullptr);  // a miss queues it
  (*cache)->WaitIdle();
  std::shared_ptr<const base::ScopedFd> fd = (*cache)->Find(sha256, content.size());
  ASSERT_NE(fd, nullptr);
  EXPECT_EQ(ReadAll(fd->get(), content.size() + 1), content);
  EXPECT_EQ(Names(dir.path() + "/files"), std::set<std::string>{base::HexEncode(sha256)});
  const FileCache::Stats stats = (*cache)->stats();
  EXPECT_EQ(stats.files, 1u);
  EXPECT_EQ(stats.bytes, content.size());
  EXPECT_EQ(stats.copied, 1u);
  EXPECT_EQ(stats.failed, 0u);
  // Asked with another size: not that content.
  EXPECT_EQ((*cache)->Find(sha256, content.size() - 1), nullptr);
}

TEST(FileCacheTest, ContentThatDoesNotMatchItsHashIsNeverServedNorLeftOnDisk) {
  base::TempDir dir;
  FakeBlobs blobs;
  const std::string content = Content('a', 100000);
  const std::string sha256 = blobs.Add(content);
  std::string damaged = content;
  damaged[5000] ^= 1;
  blobs.Damage(sha256, damaged);
  absl::StatusOr<std::unique_ptr<FileCache>> cache =
      FileCache::Open(dir.path() + "/files", 1 << 20, blobs.reader());
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ((*cache)->Find(sha256, content.size()), nullptr);
  (*cache)->WaitIdle();
  EXPECT_EQ((*cache)->Find(sha256, content.size()), nullptr);
  (*cache)->WaitIdle();
  EXPECT_EQ((*cache)->stats().failed, 1u);  // and not tried again at once
  EXPECT_EQ((*cache)->stats().bytes, 0u);
  EXPECT_TRUE(Names(dir.path() + "/files").empty());
}

TEST(FileCacheTest, TheLeastRecentlyServedGoFirstAndOpenCopiesStayReadable) {
  base::TempDir dir;
  FakeBlobs blobs;
  const size_t size = 300 * 1024;
  std::string contents[4];
  std::string hashes[4];
  for (int i = 0; i < 4; ++i) {
    contents[i] = Content(static_cast<char>('a' + i), size);
    hashes[i] = blobs.Add(contents[i]);
  }
  // Room for three.
  absl::StatusOr<std::unique_ptr<FileCache>> cache =
      FileCache::Open(dir.path() + "/files", 3 * size, blobs.reader());
  ASSERT_TRUE(cache.ok()) << cache.status();
  FileCache& files = **cache;
  for (int i = 0; i < 3; ++i) {
    files.Find(hashes[i], size);
    files.WaitIdle();
  }
  // 0 is served again (and a response keeps 1 open); 1 is then the least
  // recently served.
  ASSERT_NE(files.Find(hashes[0], size), nullptr);
  std::shared_ptr<const base::ScopedFd> sending = files.Find(hashes[1], size);
  ASSERT_NE(sending, nullptr);
  ASSERT_NE(files.Find(hashes[2], size), nullptr);
  ASSERT_NE(files.Find(hashes[0], size), nullptr);
  files.Find(hashes[3], size);
  files.WaitIdle();
  EXPECT_EQ(files.stats().files, 3u);
  EXPECT_LE(files.stats().bytes, 3 * size);
  EXPECT_EQ(Names(dir.path() + "/files"),
            (std::set<std::string>{base::HexEncode(hashes[0]), base::HexEncode(hashes[2]),
                                   base::HexEncode(hashes[3])}));
  EXPECT_EQ(ReadAll(sending->get(), size), contents[1]);  // unlinked, still open
  // Gone from the cache: its next request misses (and copies it again).
  EXPECT_EQ(files.Find(hashes[1], size), nullptr);
}

TEST(FileCacheTest, OpenEmptiesTheDirectoryAndTooLargeFilesAreNotCopied) {
  base::TempDir dir;
  const std::string files_dir = dir.path() + "/files";
  std::filesystem::create_directories(files_dir + "/stale");
  std::ofstream(files_dir + "/.partial-0123") << "half a file from before a crash";
  std::ofstream(files_dir + "/0123") << "a copy from before";
  FakeBlobs blobs;
  const std::string content = Content('q', 2000);
  const std::string sha256 = blobs.Add(content);
  absl::StatusOr<std::unique_ptr<FileCache>> cache =
      FileCache::Open(files_dir, 1000, blobs.reader());
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_TRUE(Names(files_dir).empty());
  EXPECT_EQ((*cache)->Find(sha256, content.size()), nullptr);
  (*cache)->WaitIdle();
  EXPECT_EQ((*cache)->Find(sha256, content.size()), nullptr);
  EXPECT_EQ((*cache)->stats().copied, 0u);
  EXPECT_FALSE(FileCache::Open(files_dir, 0, blobs.reader()).ok());
}

}  // namespace
}  // namespace pgxn::replica
