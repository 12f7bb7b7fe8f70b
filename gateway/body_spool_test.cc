#include "gateway/body_spool.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "base/temp_dir.h"
#include "gateway/spool_testing.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

using testing::EntriesIn;
using testing::FilesHeldIn;

// `size` bytes that differ from one position to the next, so a misplaced
// piece shows.
std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 7 + i / 251) % 256);
  return bytes;
}

TEST(BodySpoolTest, BodyUpToTheThresholdStaysInMemory) {
  base::TempDir dir;
  BodySpool spool(BodySpoolOptions{8, dir.path()});
  ASSERT_TRUE(spool.Append("abcd").ok());
  ASSERT_TRUE(spool.Append("efgh").ok());
  EXPECT_FALSE(spool.spooled());
  EXPECT_EQ(spool.memory_bytes(), 8u);
  EXPECT_EQ(spool.spooled_bytes(), 0u);
  EXPECT_EQ(FilesHeldIn(getpid(), dir.path()), 0);
  absl::StatusOr<RequestBody> body = spool.Finish();
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->view(), "abcdefgh");
}

TEST(BodySpoolTest, BodyPastTheThresholdMovesToAnUnlinkedFile) {
  base::TempDir dir;
  const std::string bytes = Pattern(300'000);
  BodySpool spool(BodySpoolOptions{1000, dir.path()});
  // In pieces of odd sizes: the first ones in memory, then the move, then
  // straight to the file.
  for (size_t at = 0; at < bytes.size(); at += 777) {
    ASSERT_TRUE(spool.Append(absl::string_view(bytes).substr(at, 777)).ok()) << at;
    if (at + 777 <= 1000) {
      EXPECT_FALSE(spool.spooled()) << at;
    }
  }
  EXPECT_TRUE(spool.spooled());
  EXPECT_EQ(spool.memory_bytes(), 0u);
  EXPECT_EQ(spool.spooled_bytes(), bytes.size());
  // The file has no name: nothing in the directory, one descriptor.
  EXPECT_EQ(EntriesIn(dir.path()), 0);
  EXPECT_EQ(FilesHeldIn(getpid(), dir.path()), 1);

  absl::StatusOr<RequestBody> body = spool.Finish();
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(spool.spooled_bytes(), 0u);
  ASSERT_EQ(body->size(), bytes.size());
  EXPECT_TRUE(body->view() == bytes);
  // Copies share the mapping; the last one takes the file with it.
  RequestBody copy = *body;
  body = RequestBody();
  EXPECT_TRUE(copy.view() == bytes);
  EXPECT_GE(FilesHeldIn(getpid(), dir.path()), 1);
  copy = RequestBody();
  EXPECT_EQ(FilesHeldIn(getpid(), dir.path()), 0);
}

TEST(BodySpoolTest, AnnouncedLargeBodyGoesToTheFileFromItsFirstByte) {
  base::TempDir dir;
  BodySpool spool(BodySpoolOptions{1000, dir.path()});
  spool.Expect(5000);
  ASSERT_TRUE(spool.Append("xyz").ok());
  EXPECT_TRUE(spool.spooled());
  EXPECT_EQ(spool.memory_bytes(), 0u);
  EXPECT_EQ(spool.spooled_bytes(), 3u);
}

TEST(BodySpoolTest, DroppedSpoolTakesItsFileWithIt) {
  base::TempDir dir;
  {
    BodySpool spool(BodySpoolOptions{10, dir.path()});
    ASSERT_TRUE(spool.Append(Pattern(100)).ok());
    BodySpool moved = std::move(spool);
    EXPECT_TRUE(moved.spooled());
    EXPECT_FALSE(spool.spooled());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(FilesHeldIn(getpid(), dir.path()), 1);
  }
  EXPECT_EQ(FilesHeldIn(getpid(), dir.path()), 0);
}

TEST(BodySpoolTest, DirectoryThatCannotTakeAFileIsUnavailable) {
  base::TempDir dir;
  const std::string missing = dir.path() + "/no/such/dir";
  BodySpool spool(BodySpoolOptions{4, missing});
  ASSERT_TRUE(spool.Append("1234").ok());  // still in memory
  const absl::Status status = spool.Append("5");
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_EQ(status.message(), "Cannot create a request body's temp file in " + missing +
                                  ": No such file or directory");
  // Nothing more is taken: the body is incomplete.
  EXPECT_EQ(spool.Append("6"), status);
  EXPECT_EQ(spool.Finish().status(), status);
  EXPECT_EQ(spool.memory_bytes(), 0u);
  EXPECT_FALSE(OpenUnlinkedTempFile(missing).ok());
}

TEST(BodySpoolTest, EmptySpoolFinishesWithAnEmptyBody) {
  BodySpool spool;
  absl::StatusOr<RequestBody> body = spool.Finish();
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(body->empty());
}

}  // namespace
}  // namespace pgxn::gateway
