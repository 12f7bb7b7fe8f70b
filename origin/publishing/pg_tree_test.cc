#include "origin/publishing/pg_tree.h"

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "gateway/tree_handler.h"
#include "gtest/gtest.h"
#include "origin/testing/test_postgres.h"

namespace pgxn::origin {
namespace {

// Bytes that neither compress nor repeat, so a misplaced piece shows.
std::string Noise(size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

// What a client receives for `response`: its body, or its stream read to
// the end the way the HTTP server reads it (64 KiB at a time).
std::string Received(const gateway::Response& response) {
  if (!response.stream) return response.body;
  std::string all;
  while (all.size() < response.stream_size) {
    const size_t want = std::min<uint64_t>(64 * 1024, response.stream_size - all.size());
    absl::StatusOr<std::string> piece = response.stream(all.size(), want);
    EXPECT_TRUE(piece.ok()) << piece.status();
    if (!piece.ok() || piece->empty()) break;
    all += *piece;
  }
  return all;
}

gateway::Request Get(const std::string& path, std::string range = "") {
  gateway::Request request;
  request.method = "GET";
  request.path = request.target = path;
  if (!range.empty()) request.headers.emplace_back("range", std::move(range));
  return request;
}

class PgTreeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new TestPostgres();
    if (!pg_->ok()) return;
    large_ = new std::string(Noise(3 * 1024 * 1024 + 77, 14));
    auto conn = pg_->Connect();
    auto event = Publish(
        *conn, EventHeader{feed::EventKind::kMeta, "test", "", ""},
        [](absl::Time) {
          return absl::StatusOr<std::vector<FileChange>>(std::vector<FileChange>{
              {"dist/big/1.0.0/big-1.0.0.zip", *large_, ""},
              {"dist/small.json", "{\"small\":true}", ""},
          });
        },
        TestPublishing());
    published_ = event.ok();
  }
  static void TearDownTestSuite() {
    delete pg_;
    delete large_;
  }
  void SetUp() override {
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    ASSERT_TRUE(published_);
  }

  static TestPostgres* pg_;
  static std::string* large_;
  static bool published_;
};

TestPostgres* PgTreeTest::pg_ = nullptr;
std::string* PgTreeTest::large_ = nullptr;
bool PgTreeTest::published_ = false;

TEST_F(PgTreeTest, SmallFileComesWhole) {
  PgPool pool(pg_->dsn(), 2);
  PgTree tree(&pool);
  absl::StatusOr<gateway::TreeFile> file = tree.OpenFile("dist/small.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_FALSE(file->read);
  EXPECT_EQ(file->content, "{\"small\":true}");
  EXPECT_EQ(file->media_type, "application/json");
  EXPECT_EQ(file->sha256_hex.size(), 64u);
  EXPECT_TRUE(absl::IsNotFound(tree.OpenFile("dist/none.json").status()));
}

TEST_F(PgTreeTest, LargeFileIsReadAPieceAtATimeWithoutHoldingAConnection) {
  // One connection, acquired with a short wait: a reader that kept it
  // between pieces would make the Acquire below fail.
  PgPool pool(pg_->dsn(), 1, absl::Seconds(5));
  PgTree tree(&pool);
  absl::StatusOr<gateway::TreeFile> file = tree.OpenFile("dist/big/1.0.0/big-1.0.0.zip");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE(file->read);
  EXPECT_TRUE(file->content.empty());
  EXPECT_EQ(file->size, large_->size());
  EXPECT_EQ(file->media_type, "application/zip");
  const absl::StatusOr<gateway::TreeFile> whole = tree.ReadFile("dist/big/1.0.0/big-1.0.0.zip");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(file->sha256_hex, whole->sha256_hex);
  EXPECT_EQ(file->modified_unix_seconds, whole->modified_unix_seconds);

  for (const auto& [offset, length] : std::vector<std::pair<uint64_t, size_t>>{
           {0, 1}, {0, 65536}, {1, 65536}, {2000000, 7}, {large_->size() - 10, 10}}) {
    absl::StatusOr<std::string> piece = file->read(offset, length);
    ASSERT_TRUE(piece.ok()) << offset << ": " << piece.status();
    EXPECT_TRUE(*piece == large_->substr(offset, length)) << offset << "+" << length;
    auto lease = pool.Acquire();
    EXPECT_TRUE(lease.ok()) << "after the piece at " << offset << ": " << lease.status();
  }
  // Past the end is an error, not a short piece.
  EXPECT_FALSE(file->read(large_->size() - 10, 20).ok());
}

TEST_F(PgTreeTest, ServedLargeFileIsByteIdenticalWholeAndInRanges) {
  PgPool pool(pg_->dsn(), 2);
  PgTree tree(&pool);
  const std::string path = "/dist/big/1.0.0/big-1.0.0.zip";
  const gateway::Response whole = gateway::ServeTreeFile(Get(path), tree);
  ASSERT_EQ(whole.status, 200);
  EXPECT_TRUE(whole.stream) << "a large file is streamed, not read whole";
  EXPECT_TRUE(Received(whole) == *large_);

  const size_t size = large_->size();
  const struct {
    std::string range;
    size_t first;
    size_t length;
  } cases[] = {
      {"bytes=0-99", 0, 100},
      {"bytes=1000000-2000000", 1000000, 1000001},
      {"bytes=3000000-", 3000000, size - 3000000},
      {"bytes=-5000", size - 5000, 5000},
  };
  for (const auto& c : cases) {
    const gateway::Response part = gateway::ServeTreeFile(Get(path, c.range), tree);
    ASSERT_EQ(part.status, 206) << c.range;
    EXPECT_EQ(part.Header("Content-Range"),
              absl::StrCat("bytes ", c.first, "-", c.first + c.length - 1, "/", size))
        << c.range;
    EXPECT_TRUE(Received(part) == large_->substr(c.first, c.length)) << c.range;
  }
}

TEST_F(PgTreeTest, BlobsAreStoredOutOfLineUncompressedSoTheyCanBeSliced) {
  auto conn = pg_->Connect();
  auto storage = conn->Exec(
      "SELECT attstorage FROM pg_attribute"
      " WHERE attrelid = 'blobs'::regclass AND attname = 'content'");
  ASSERT_TRUE(storage.ok()) << storage.status();
  ASSERT_EQ(storage->rows(), 1);
  EXPECT_EQ(storage->GetString(0, 0), "e");  // EXTERNAL
}

// Shared buffers (hit or read) `query` touches for the large blob, from
// EXPLAIN (ANALYZE, BUFFERS); -1 on failure.
int64_t BlocksTouched(PgConnection& conn, const std::string& query, const std::string& sha256) {
  auto plan =
      conn.Exec("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, PgParams().Bytes(sha256));
  if (!plan.ok() || plan->rows() != 1) return -1;
  const nlohmann::json doc = nlohmann::json::parse(plan->GetString(0, 0), nullptr, false);
  if (!doc.is_array() || doc.empty()) return -1;
  const nlohmann::json& top = doc[0]["Plan"];
  return top.value("Shared Hit Blocks", int64_t{-1}) + top.value("Shared Read Blocks", int64_t{0});
}

TEST_F(PgTreeTest, APieceReadsItsOwnPagesNotTheWholeBlob) {
  auto conn = pg_->Connect();
  auto sha =
      conn->Exec("SELECT sha256 FROM tree_files WHERE path = 'dist/big/1.0.0/big-1.0.0.zip'");
  ASSERT_TRUE(sha.ok() && sha->rows() == 1);
  const std::string sha256 = sha->GetString(0, 0);
  const int64_t piece = BlocksTouched(
      *conn, "SELECT substring(content from 2000001 for 65536) FROM blobs WHERE sha256 = $1",
      sha256);
  const int64_t whole =
      BlocksTouched(*conn, "SELECT md5(content) FROM blobs WHERE sha256 = $1", sha256);
  std::cout << "blocks for a 64 KiB piece: " << piece << "; for the whole " << large_->size()
            << "-byte blob: " << whole << "\n";
  ASSERT_GT(piece, 0);
  // 3 MiB is some 400 pages of TOAST chunks; a 64 KiB piece reads about 9
  // of them plus the TOAST index's pages for its 32 chunks.
  EXPECT_GT(whole, 300);
  EXPECT_LT(piece * 4, whole);
}

}  // namespace
}  // namespace pgxn::origin
