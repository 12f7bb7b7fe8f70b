#include "gateway/tree_handler.h"

#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/scoped_fd.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

constexpr char kSha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr char kEtag[] = "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"";
constexpr int64_t kModified = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr char kModifiedText[] = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr char kContent[] = "0123456789";  // ten bytes

class FakeTree : public TreeReader {
 public:
  FakeTree() {
    files_["dist/pair.json"] = TreeFile{kContent, kSha, "application/json", kModified};
    files_["empty.txt"] = TreeFile{"", kSha, "text/plain; charset=utf-8", kModified};
    files_["bare"] = TreeFile{"abc", "", "application/octet-stream", 0};
  }

  absl::StatusOr<TreeFile> ReadFile(absl::string_view path) const override {
    last_path_ = std::string(path);
    if (path == "broken") return absl::UnavailableError("store is closed");
    auto it = files_.find(std::string(path));
    if (it == files_.end()) return absl::NotFoundError("no such file");
    return it->second;
  }

  absl::Status ForEachFile(
      const std::function<bool(absl::string_view, absl::string_view)>& visit) const override {
    for (const auto& [path, file] : files_) {
      if (!visit(path, file.sha256_hex)) break;
    }
    return absl::OkStatus();
  }

  const std::string& last_path() const { return last_path_; }

 private:
  std::map<std::string, TreeFile> files_;
  mutable std::string last_path_;
};

Request Get(std::string path, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request request;
  request.method = "GET";
  request.path = std::move(path);
  request.target = request.path;
  request.headers = std::move(headers);
  return request;
}

std::string Describe(const Request& request) {
  std::string out = request.method + " " + request.path;
  for (const auto& [name, value] : request.headers) out += " [" + name + ": " + value + "]";
  return out;
}

TEST(ServeTreeFileTest, ServesTheWholeFileWithValidators) {
  FakeTree tree;
  const Response response = ServeTreeFile(Get("/dist/pair.json"), tree);
  EXPECT_EQ(tree.last_path(), "dist/pair.json");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, kContent);
  EXPECT_EQ(response.Header("Content-Type"), "application/json");
  EXPECT_EQ(response.Header("ETag"), kEtag);
  EXPECT_EQ(response.Header("Last-Modified"), kModifiedText);
  EXPECT_EQ(response.Header("Accept-Ranges"), "bytes");
}

TEST(ServeTreeFileTest, HeadIsAnsweredLikeGet) {
  FakeTree tree;
  Request head = Get("/dist/pair.json", {{"range", "bytes=0-1"}});
  head.method = "HEAD";
  const Response response = ServeTreeFile(head, tree);
  EXPECT_EQ(response.status, 200);  // Range applies to GET only
  EXPECT_EQ(response.body, kContent);
}

TEST(ServeTreeFileTest, LeavesOutUnknownValidators) {
  FakeTree tree;
  const Response response = ServeTreeFile(
      Get("/bare", {{"if-modified-since", kModifiedText}, {"if-none-match", "*"}}), tree);
  // "*" matches any existing file, with or without an ETag.
  EXPECT_EQ(response.status, 304);
  const Response plain = ServeTreeFile(Get("/bare", {{"if-modified-since", kModifiedText}}), tree);
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("ETag"), "");
  EXPECT_EQ(plain.Header("Last-Modified"), "");
}

TEST(ServeTreeFileTest, MissingFilesAndErrors) {
  FakeTree tree;
  const struct {
    Request request;
    int status;
    std::string body;
  } kCases[] = {
      {Get("/"), 404, "Not found: /\n"},
      {Get(""), 404, "Not found: \n"},
      {Get("/dist/none.json"), 404, "Not found: /dist/none.json\n"},
      {Get("/tag/key value.json"), 404, "Not found: /tag/key value.json\n"},
      {Get("/broken"), 503, "store is closed"},
  };
  for (const auto& c : kCases) {
    const Response response = ServeTreeFile(c.request, tree);
    EXPECT_EQ(response.status, c.status) << Describe(c.request);
    EXPECT_EQ(response.body, c.body) << Describe(c.request);
    EXPECT_EQ(response.Header("Content-Type"), "text/plain; charset=utf-8") << Describe(c.request);
  }
}

TEST(ServeTreeFileTest, OtherMethodsAre405) {
  FakeTree tree;
  Request post = Get("/dist/pair.json");
  post.method = "POST";
  const Response response = ServeTreeFile(post, tree);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Header("Allow"), "GET, HEAD");
}

TEST(ServeTreeFileTest, ConditionalRequests) {
  FakeTree tree;
  const std::string kOtherEtag = "\"ffff\"";
  const struct {
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
  } kCases[] = {
      {{{"if-none-match", kEtag}}, 304},
      {{{"if-none-match", std::string("W/") + kEtag}}, 304},
      {{{"if-none-match", "*"}}, 304},
      {{{"if-none-match", kOtherEtag + ", " + kEtag}}, 304},
      {{{"if-none-match", kOtherEtag + "," + kEtag}}, 304},
      {{{"if-none-match", kOtherEtag}, {"if-none-match", kEtag}}, 304},
      {{{"if-none-match", kOtherEtag}}, 200},
      {{{"if-none-match", kSha}}, 200},  // unquoted: not an entity-tag
      {{{"if-none-match", "\"0123456789abcdef"}}, 200},
      {{{"if-none-match", ""}}, 200},
      // If-None-Match wins over If-Modified-Since.
      {{{"if-none-match", kOtherEtag}, {"if-modified-since", kModifiedText}}, 200},
      {{{"if-modified-since", kModifiedText}}, 304},
      {{{"if-modified-since", "Sun, 06 Nov 1994 08:49:38 GMT"}}, 304},
      {{{"if-modified-since", "Sun, 06 Nov 1994 08:49:36 GMT"}}, 200},
      {{{"if-modified-since", "Sunday, 06-Nov-94 08:49:37 GMT"}}, 304},
      {{{"if-modified-since", "not a date"}}, 200},
  };
  for (const auto& c : kCases) {
    const Request request = Get("/dist/pair.json", c.headers);
    const Response response = ServeTreeFile(request, tree);
    EXPECT_EQ(response.status, c.status) << Describe(request);
    if (c.status == 304) {
      EXPECT_EQ(response.body, "") << Describe(request);
      EXPECT_EQ(response.Header("ETag"), kEtag) << Describe(request);
      EXPECT_EQ(response.Header("Last-Modified"), kModifiedText) << Describe(request);
    } else {
      EXPECT_EQ(response.body, kContent) << Describe(request);
    }
  }
}

TEST(ServeTreeFileTest, Ranges) {
  FakeTree tree;
  const struct {
    std::string path;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
    std::string body;
    std::string content_range;
  } kCases[] = {
      {"/dist/pair.json", {{"range", "bytes=0-3"}}, 206, "0123", "bytes 0-3/10"},
      {"/dist/pair.json", {{"range", "bytes=2-2"}}, 206, "2", "bytes 2-2/10"},
      {"/dist/pair.json", {{"range", "bytes=7-"}}, 206, "789", "bytes 7-9/10"},
      {"/dist/pair.json", {{"range", "bytes=5-100"}}, 206, "56789", "bytes 5-9/10"},
      {"/dist/pair.json", {{"range", "bytes=-3"}}, 206, "789", "bytes 7-9/10"},
      {"/dist/pair.json", {{"range", "bytes=-100"}}, 206, kContent, "bytes 0-9/10"},
      {"/dist/pair.json", {{"range", "Bytes= 1 - 2 "}}, 206, "12", "bytes 1-2/10"},
      {"/dist/pair.json",
       {{"range", "bytes=0-99999999999999999999999"}},
       206,
       kContent,
       "bytes 0-9/10"},
      // Unsatisfiable.
      {"/dist/pair.json", {{"range", "bytes=10-"}}, 416, "", "bytes */10"},
      {"/dist/pair.json", {{"range", "bytes=10-20"}}, 416, "", "bytes */10"},
      {"/dist/pair.json", {{"range", "bytes=-0"}}, 416, "", "bytes */10"},
      {"/dist/pair.json", {{"range", "bytes=99999999999999999999999-"}}, 416, "", "bytes */10"},
      {"/empty.txt", {{"range", "bytes=0-"}}, 416, "", "bytes */0"},
      {"/empty.txt", {{"range", "bytes=-5"}}, 416, "", "bytes */0"},
      // Several ranges or malformed: the whole file.
      {"/dist/pair.json", {{"range", "bytes=0-1,3-4"}}, 200, kContent, ""},
      {"/dist/pair.json", {{"range", "bytes=3-1"}}, 200, kContent, ""},
      {"/dist/pair.json", {{"range", "bytes=a-b"}}, 200, kContent, ""},
      {"/dist/pair.json", {{"range", "bytes=-"}}, 200, kContent, ""},
      {"/dist/pair.json", {{"range", "bytes=1"}}, 200, kContent, ""},
      {"/dist/pair.json", {{"range", "bytes=+1-2"}}, 200, kContent, ""},
      {"/dist/pair.json", {{"range", "items=0-1"}}, 200, kContent, ""},
      {"/dist/pair.json", {{"range", ""}}, 200, kContent, ""},
      // If-Range.
      {"/dist/pair.json", {{"range", "bytes=0-1"}, {"if-range", kEtag}}, 206, "01", "bytes 0-1/10"},
      {"/dist/pair.json",
       {{"range", "bytes=0-1"}, {"if-range", kModifiedText}},
       206,
       "01",
       "bytes 0-1/10"},
      {"/dist/pair.json", {{"range", "bytes=0-1"}, {"if-range", "\"other\""}}, 200, kContent, ""},
      {"/dist/pair.json",
       {{"range", "bytes=0-1"}, {"if-range", std::string("W/") + kEtag}},
       200,
       kContent,
       ""},
      {"/dist/pair.json",
       {{"range", "bytes=0-1"}, {"if-range", "Mon, 07 Nov 1994 08:49:37 GMT"}},
       200,
       kContent,
       ""},
      {"/dist/pair.json", {{"range", "bytes=50-"}, {"if-range", "\"other\""}}, 200, kContent, ""},
      {"/bare", {{"range", "bytes=0-0"}, {"if-range", "\"\""}}, 200, "abc", ""},
      {"/bare", {{"range", "bytes=0-0"}}, 206, "a", "bytes 0-0/3"},
  };
  for (const auto& c : kCases) {
    const Request request = Get(c.path, c.headers);
    const Response response = ServeTreeFile(request, tree);
    EXPECT_EQ(response.status, c.status) << Describe(request);
    if (c.status != 416) {
      EXPECT_EQ(response.body, c.body) << Describe(request);
    }
    EXPECT_EQ(response.Header("Content-Range"), c.content_range) << Describe(request);
  }
}

// A large file the reader keeps on disk goes to the response as the open
// file with the range's offset and length (the server sendfiles it).
TEST(ServeTreeFileTest, AnOpenFileIsSentFromTheRangesOffset) {
  class OnDisk : public TreeReader {
   public:
    absl::StatusOr<TreeFile> ReadFile(absl::string_view) const override {
      TreeFile file;
      file.sha256_hex = kSha;
      file.media_type = "application/zip";
      file.size = 1000;
      file.file = std::make_shared<const base::ScopedFd>(::dup(0));
      return file;
    }
    absl::Status ForEachFile(
        const std::function<bool(absl::string_view, absl::string_view)>&) const override {
      return absl::OkStatus();
    }
  } tree;
  const Response whole = ServeTreeFile(Get("/dist/big.zip"), tree);
  EXPECT_EQ(whole.status, 200);
  ASSERT_NE(whole.file, nullptr);
  EXPECT_EQ(whole.file_offset, 0u);
  EXPECT_EQ(whole.stream_size, 1000u);
  EXPECT_TRUE(whole.body.empty());
  const Response part = ServeTreeFile(Get("/dist/big.zip", {{"range", "bytes=100-199"}}), tree);
  EXPECT_EQ(part.status, 206);
  ASSERT_NE(part.file, nullptr);
  EXPECT_EQ(part.file_offset, 100u);
  EXPECT_EQ(part.stream_size, 100u);
  EXPECT_EQ(part.Header("Content-Range"), "bytes 100-199/1000");
  EXPECT_EQ(ServeTreeFile(Get("/dist/big.zip", {{"range", "bytes=1000-"}}), tree).status, 416);
}

TEST(ServeTreeListingTest, ListsEveryFileInSha256sumFormat) {
  FakeTree tree;
  const Response response = ServeTreeListing(Get("/_tree"), tree);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body,
            absl::StrCat("  bare\n", kSha, "  dist/pair.json\n", kSha, "  empty.txt\n"));
}

// A tree of `count` files named f/00000 ... whose listing is large.
class ManyFilesTree : public TreeReader {
 public:
  explicit ManyFilesTree(int count) : count_(count) {}
  absl::StatusOr<TreeFile> ReadFile(absl::string_view) const override {
    return absl::NotFoundError("none");
  }
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view, absl::string_view)>& visit) const override {
    for (int i = 0; i < count_; ++i) {
      if (!visit(absl::StrCat("f/", absl::Dec(i, absl::kZeroPad5)), kSha)) break;
    }
    return absl::OkStatus();
  }
  std::string Listing() const {
    std::string listing;
    ForEachFile([&listing](absl::string_view path, absl::string_view sha) {
      absl::StrAppend(&listing, sha, "  ", path, "\n");
      return true;
    });
    return listing;
  }

 private:
  const int count_;
};

// The body a streamed response sends, read in pieces as the server would.
std::string Drain(const Response& response) {
  std::string body;
  while (body.size() < response.stream_size) {
    absl::StatusOr<std::string> piece = response.stream(body.size(), 4096);
    if (!piece.ok() || piece->empty()) break;
    body += *piece;
  }
  return body;
}

TEST(ServeTreeListingTest, ALargeListingIsStreamedFromOneCopy) {
  const ManyFilesTree tree(2000);  // 2000 lines of 73 bytes: 146 KB
  const Response response = ServeTreeListing(Get("/_tree"), tree);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
  ASSERT_TRUE(response.stream);
  EXPECT_EQ(response.stream_size, tree.Listing().size());
  EXPECT_EQ(Drain(response), tree.Listing());
}

TEST(ServeTreeListingTest, ListingsPastTheLimitGet503UntilOneEnds) {
  const ManyFilesTree large(2000);
  auto limit = std::make_shared<ConcurrencyLimit>(2);
  // Two large listings being sent hold both places.
  auto first = std::make_unique<Response>(ServeTreeListing(Get("/_tree"), large, limit));
  const Response second = ServeTreeListing(Get("/_tree"), large, limit);
  EXPECT_EQ(limit->running(), 2);
  const Response third = ServeTreeListing(Get("/_tree"), large, limit);
  EXPECT_EQ(third.status, 503);
  EXPECT_EQ(third.Header("Retry-After"), "1");
  EXPECT_EQ(third.body, "Busy: 2 tree listings are being sent; try again shortly\n");
  EXPECT_EQ(limit->refused(), 1u);
  EXPECT_EQ(limit->running(), 2);
  // The end of a response (its stream destroyed) gives its permit back.
  first.reset();
  EXPECT_EQ(limit->running(), 1);
  const Response fourth = ServeTreeListing(Get("/_tree"), large, limit);
  EXPECT_EQ(fourth.status, 200);
  EXPECT_EQ(Drain(fourth), large.Listing());
  // A small listing is a plain body: its permit is back once it is built.
  FakeTree small;
  auto limit_of_one = std::make_shared<ConcurrencyLimit>(1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ServeTreeListing(Get("/_tree"), small, limit_of_one).status, 200);
    EXPECT_EQ(limit_of_one->running(), 0);
  }
}

TEST(AddTreeRoutesTest, ListingAndFilesAreRoutedAndOtherRoutesWin) {
  Router router;
  router.Handle("GET", "/_status", [](const Request&) { return TextResponse(200, "status"); });
  AddTreeRoutes(&router, std::make_shared<FakeTree>());
  EXPECT_EQ(router.Dispatch(Get("/_status")).body, "status");
  EXPECT_EQ(router.Dispatch(Get("/dist/pair.json")).body, kContent);
  EXPECT_NE(router.Dispatch(Get("/_tree")).body.find("  dist/pair.json\n"), std::string::npos);
  EXPECT_EQ(router.Dispatch(Get("/nope.json")).status, 404);
}

}  // namespace
}  // namespace pgxn::gateway
