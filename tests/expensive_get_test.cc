// Expensive GETs on an indexer (issue 14, "Hardening"), through a real
// network: an origin on embedded Postgres, a mirror and an indexer, on port 0
// in a temp dir, and one large release uploaded as pgxn-release does: three
// 48 MB files, two thousand small ones and a 20 MB README.
//
// What an attacker did before: many /src/ requests of the large archive at
// once (each unpacked the whole archive: seconds of CPU and a gigabyte of
// memory, /_status waiting behind them), and searches whose hits built their
// excerpts from the whole 20 MB README. Here: listings and files come from
// the release's source index (a file inflates only its entry), at most a few
// large reads run at once (the rest get 503 with Retry-After), and excerpts
// come from a bounded prefix of the text. The checks are on behaviour and on
// liveness with generous bounds, never on how fast a thing is.
//
// The whole binary is one ctest test: the release is published once.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/digest.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

using Json = nlohmann::json;

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "a long enough password";
constexpr char kRelease[] = "/src/bigsrc/bigsrc-1.0.0/";
constexpr size_t kBigFileBytes = size_t{48} << 20;
constexpr int kBigFiles = 3;
constexpr int kSmallFiles = 2000;
constexpr size_t kReadmeBytes = size_t{20} << 20;
// A word only at the end of the README, far past any excerpt's prefix, and
// one early in it.
constexpr char kLateWord[] = "zanzibarquux";
constexpr char kEarlyWord[] = "earlyquokka";
constexpr char kReadmeStart[] = "The bigsrc extension holds a great deal of text.";
// Generous liveness bound for a cheap request while heavy ones run; the
// attack measured 2.2 s and 5.8 s on an idle machine.
constexpr absl::Duration kPrompt = absl::Seconds(10);
// The indexer's memory may grow this much under the load: two large reads
// at once hold their zip (28 MB) and entry (48 MB) each. (Before, eight
// requests unpacked the whole 164 MB archive each: +700 MB.)
constexpr int64_t kMaxGrowthBytes = int64_t{400} << 20;

// Text that compresses as source does: varied lines, `bytes` long.
std::string Rows(size_t bytes, int seed) {
  std::string text;
  text.reserve(bytes + 64);
  for (uint64_t i = 0; text.size() < bytes; ++i) {
    absl::StrAppend(&text, "INSERT INTO t", seed, " VALUES (", i, ", ",
                    (i * 2654435761u + static_cast<uint64_t>(seed)) % 1000003, ");\n");
  }
  text.resize(bytes);
  return text;
}

std::string Readme() {
  std::string text = absl::StrCat(kReadmeStart, "\n\n");
  // The early word some 10 KB in: inside the excerpt's prefix, beyond the
  // first words.
  absl::StrAppend(&text, Rows(10000, 99), "\nThe ", kEarlyWord, " lives here.\n");
  absl::StrAppend(&text, Rows(kReadmeBytes - text.size() - 100, 98));
  absl::StrAppend(&text, "\nAt the very end, the ", kLateWord, " word.\n");
  return text;
}

std::string BigFile(int i) { return Rows(kBigFileBytes, i); }

// The process whose command line runs `pgxnd indexer --data-dir DIR`.
pid_t PidOf(const std::string& data_dir) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> args = absl::StrSplit(cmdline, '\0');
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--data-dir" && args[i + 1] == data_dir) return pid;
    }
  }
  return 0;
}

// Resident memory of `pid` in bytes, from /proc; 0 if unreadable.
int64_t RssBytes(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t kb = 0;
    return absl::SimpleAtoi(rest, &kb) ? kb * 1024 : 0;
  }
  return 0;
}

// The highest resident memory of `pid` seen from its construction to its
// destruction, sampled on a thread of its own every few milliseconds.
class PeakRss {
 public:
  explicit PeakRss(pid_t pid) : pid_(pid), peak_(RssBytes(pid)) {
    thread_ = std::thread([this] {
      absl::MutexLock lock(&mu_);
      while (!mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Milliseconds(2))) {
        peak_ = std::max(peak_, RssBytes(pid_));
      }
    });
  }
  ~PeakRss() { Stop(); }
  // Stops sampling; the peak seen.
  int64_t Stop() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    return peak_ = std::max(peak_, RssBytes(pid_));
  }

 private:
  const pid_t pid_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int64_t peak_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class ExpensiveGetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    if (!AddUser(dir_->path() + "/origin", kUser, kPassword)) {
      setup_error_ = "pgxnd user add failed";
      return;
    }
    Chain chain = StartChain(dir_->path());
    origin_ = chain.origin.release();
    mirror_ = chain.mirror.release();
    indexer_ = chain.indexer.release();
    if (indexer_ == nullptr) return;
    std::vector<DistFile> files = {{"README.md", Readme()}};
    for (int i = 0; i < kBigFiles; ++i) {
      files.push_back({absl::StrCat("data/big", i, ".sql"), BigFile(i)});
    }
    for (int i = 0; i < kSmallFiles; ++i) {
      files.push_back({absl::StrCat("sql/f", i, ".sql"), absl::StrCat("SELECT ", i, ";\n")});
    }
    const std::string zip =
        MakeDistZip(MakeMeta("bigsrc", "1.0.0", "A release with a great deal in it"), files);
    UploadResult upload = UploadZip(origin_->url(), kUser, kPassword, zip, "bigsrc-1.0.0.zip");
    if (upload.status != 200) {
      setup_error_ = absl::StrCat("upload: ", upload.status, " ", upload.body);
      return;
    }
    if (!indexer_->WaitForSeq(origin_->AppliedSeq())) {
      setup_error_ =
          absl::StrCat("indexer stuck at ", indexer_->AppliedSeq(), "\n", indexer_->Log());
      return;
    }
    indexer_pid_ = PidOf(indexer_->dir());
    if (indexer_pid_ == 0) setup_error_ = "cannot find the indexer's process";
  }

  static void TearDownTestSuite() {
    delete indexer_;
    delete mirror_;
    delete origin_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    ASSERT_NE(indexer_, nullptr);
  }

  // GET /_status answers 200 within kPrompt.
  static void ExpectStatusPrompt(const std::string& when) {
    const absl::Time start = absl::Now();
    HttpResult status = indexer_->Get("/_status");
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(status.status, 200) << when << ": " << status.error;
    EXPECT_LT(took, kPrompt) << when << ": /_status took " << took;
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static Node* mirror_;
  static Node* indexer_;
  static pid_t indexer_pid_;
  static std::string setup_error_;
};

base::TempDir* ExpensiveGetTest::dir_ = nullptr;
Node* ExpensiveGetTest::origin_ = nullptr;
Node* ExpensiveGetTest::mirror_ = nullptr;
Node* ExpensiveGetTest::indexer_ = nullptr;
pid_t ExpensiveGetTest::indexer_pid_ = 0;
std::string ExpensiveGetTest::setup_error_;

TEST_F(ExpensiveGetTest, LargeFilesAndListingsAnswerAsBefore) {
  HttpResult listing = indexer_->Get(absl::StrCat(kRelease, "sql/"));
  ASSERT_EQ(listing.status, 200) << listing.body;
  EXPECT_TRUE(absl::StartsWith(listing.Header("content-type"), "text/html")) << listing.body;
  EXPECT_TRUE(absl::StrContains(listing.body, "f1999.sql")) << listing.body.substr(0, 500);

  HttpResult json = HttpGet(indexer_->url() + kRelease + "data/", {"Accept: application/json"});
  ASSERT_EQ(json.status, 200) << json.body;
  EXPECT_EQ(Json::parse(json.body),
            Json::parse(absl::StrCat(R"([{"name":"big0.sql","type":"file","size":)", kBigFileBytes,
                                     R"(},{"name":"big1.sql","type":"file","size":)", kBigFileBytes,
                                     R"(},{"name":"big2.sql","type":"file","size":)", kBigFileBytes,
                                     "}]")));

  const std::string big1 = BigFile(1);
  const std::string etag = absl::StrCat("\"", base::Sha256Hex(big1), "\"");
  HttpResult file = indexer_->Get(absl::StrCat(kRelease, "data/big1.sql"));
  ASSERT_EQ(file.status, 200) << file.body.substr(0, 200);
  EXPECT_EQ(file.body.size(), big1.size());
  EXPECT_TRUE(file.body == big1) << "the bytes of data/big1.sql differ";
  EXPECT_EQ(file.Header("etag"), etag);
  EXPECT_EQ(file.Header("content-type"), "text/plain; charset=utf-8");

  HttpResult small = indexer_->Get(absl::StrCat(kRelease, "sql/f7.sql"));
  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(small.body, "SELECT 7;\n");

  HttpResult range = HttpGet(indexer_->url() + kRelease + "data/big1.sql", {"Range: bytes=10-19"});
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.body, big1.substr(10, 10));

  HttpResult revalidated =
      HttpGet(indexer_->url() + kRelease + "data/big1.sql", {"If-None-Match: " + etag});
  EXPECT_EQ(revalidated.status, 304);
  EXPECT_EQ(revalidated.body, "");
}

TEST_F(ExpensiveGetTest, ConcurrentLargeReadsLeaveStatusPromptAndMemoryBounded) {
  const int64_t before = RssBytes(indexer_pid_);
  ASSERT_GT(before, 0);
  PeakRss peak_rss(indexer_pid_);

  // Twelve clients read the large files (HEAD: the node does all the work of
  // a GET, the client receives no body) and list the release, over and over,
  // until enough large reads were served and some were refused at the limit.
  absl::Mutex mu;
  int served = 0, refused = 0, listed = 0, other = 0;
  std::string other_example;
  bool stop = false;
  std::vector<std::thread> clients;
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0;; ++i) {
        {
          absl::MutexLock lock(&mu);
          if (stop) return;
        }
        const bool list = (c + i) % 4 == 0;
        const std::string url =
            list ? absl::StrCat(indexer_->url(), kRelease, "sql/")
                 : absl::StrCat(indexer_->url(), kRelease, "data/big", (c + i) % kBigFiles, ".sql");
        HttpResult result = HttpGet(url, {}, /*head=*/!list);
        absl::MutexLock lock(&mu);
        if (list && result.status == 200) {
          ++listed;
        } else if (!list && result.status == 200) {
          ++served;
        } else if (!list && result.status == 503 && result.Header("retry-after") == "1") {
          ++refused;
        } else {
          ++other;
          other_example = absl::StrCat(url, ": ", result.status, " ", result.error);
        }
      }
    });
  }

  int statuses = 0;
  const bool enough = WaitUntil([&] {
    ExpectStatusPrompt(absl::StrCat("/_status #", ++statuses, " under load"));
    absl::MutexLock lock(&mu);
    return served >= 24 && refused >= 1 && listed >= 12;
  });
  {
    absl::MutexLock lock(&mu);
    stop = true;
  }
  for (std::thread& client : clients) client.join();
  const int64_t peak = peak_rss.Stop();

  EXPECT_TRUE(enough) << "served " << served << " large reads, refused " << refused << ", listed "
                      << listed;
  EXPECT_EQ(other, 0) << "e.g. " << other_example;
  EXPECT_LT(peak - before, kMaxGrowthBytes)
      << "resident memory grew from " << before << " to " << peak << " bytes";
  std::printf("indexer resident memory: %lld MB, at most %lld MB under the load\n",
              static_cast<long long>(before >> 20), static_cast<long long>(peak >> 20));
  ExpectStatusPrompt("/_status after the load");
}

TEST_F(ExpensiveGetTest, SearchExcerptsComeFromTheReadmesPrefix) {
  // Found by a word at the end of the README; the excerpt is its start.
  HttpResult late = indexer_->Get(absl::StrCat("/search/dists/?q=", kLateWord));
  ASSERT_EQ(late.status, 200) << late.body;
  const Json late_hits = Json::parse(late.body).at("hits");
  ASSERT_EQ(late_hits.size(), 1u) << late.body;
  const std::string late_excerpt = late_hits[0].at("excerpt");
  EXPECT_TRUE(absl::StartsWith(late_excerpt, kReadmeStart)) << late_excerpt;
  EXPECT_FALSE(absl::StrContains(late_excerpt, kLateWord)) << late_excerpt;

  // A word in the prefix is shown where it is.
  HttpResult early = indexer_->Get(absl::StrCat("/search/dists/?q=", kEarlyWord));
  ASSERT_EQ(early.status, 200) << early.body;
  const Json early_hits = Json::parse(early.body).at("hits");
  ASSERT_EQ(early_hits.size(), 1u) << early.body;
  const std::string early_excerpt = early_hits[0].at("excerpt");
  EXPECT_TRUE(absl::StrContains(early_excerpt, absl::StrCat("<strong>", kEarlyWord, "</strong>")))
      << early_excerpt;

  // Twelve such searches at once, repeatedly, while /_status answers and
  // memory stays put.
  const int64_t before = RssBytes(indexer_pid_);
  PeakRss peak_rss(indexer_pid_);
  std::vector<std::thread> searchers;
  absl::Mutex mu;
  int failed = 0;
  for (int s = 0; s < 12; ++s) {
    searchers.emplace_back([&, s] {
      for (int i = 0; i < 5; ++i) {
        HttpResult r = indexer_->Get(
            absl::StrCat("/search/all/?q=", (s + i) % 2 == 0 ? kLateWord : kEarlyWord));
        if (r.status != 200) {
          absl::MutexLock lock(&mu);
          ++failed;
        }
      }
    });
  }
  for (int i = 0; i < 5; ++i) {
    ExpectStatusPrompt(absl::StrCat("/_status during searches #", i));
  }
  for (std::thread& searcher : searchers) searcher.join();
  const int64_t peak = peak_rss.Stop();
  EXPECT_EQ(failed, 0);
  EXPECT_LT(peak - before, kMaxGrowthBytes / 4)
      << "resident memory grew from " << before << " to " << peak << " bytes";
}

// The site's page of a large text file shows its size without its text, and
// its listing the files.
TEST_F(ExpensiveGetTest, TheSitesSourcePagesOfALargeRelease) {
  HttpResult page = HttpGet(indexer_->site_url() + kRelease + "data/big0.sql");
  ASSERT_EQ(page.status, 200) << page.body.substr(0, 500);
  EXPECT_TRUE(absl::StrContains(page.body, "?raw=1")) << page.body.substr(0, 2000);
  EXPECT_LT(page.body.size(), size_t{1} << 20);
  HttpResult listing = HttpGet(indexer_->site_url() + kRelease + "sql/");
  ASSERT_EQ(listing.status, 200);
  EXPECT_TRUE(absl::StrContains(listing.body, "f1999.sql"));
}

}  // namespace
}  // namespace pgxn::testing
