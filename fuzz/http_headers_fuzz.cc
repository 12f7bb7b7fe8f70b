// Fuzzes the handling of a request's headers: what the HTTP server and the
// tree handler read of them for every GET (gateway/tree_handler.h: Range,
// If-Range, If-None-Match, If-Modified-Since; gateway/compression.h:
// Accept-Encoding; gateway/status_http.h: Accept) and what the Manager reads
// (gateway/basic_auth.h: Authorization), and HTTP-dates (gateway/http.h).
// Input: a first line "METHOD /target", then one header a line, "Name: value"
// (names lower-cased as the server does).
//
// Invariants: a parsed HTTP-date formats and parses back to itself; parsed
// credentials have a non-empty user without ':'; the tree handler answers
// with one of its statuses, a 206 with a slice of the file that its
// Content-Range names, a 200 to GET with the whole file; a gzipped body is a
// gzip member.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "gateway/basic_auth.h"
#include "gateway/compression.h"
#include "gateway/http.h"
#include "gateway/path.h"
#include "gateway/status_http.h"
#include "gateway/tree_handler.h"

namespace {

using pgxn::gateway::Request;
using pgxn::gateway::Response;

constexpr char kFilePath[] = "dist/pair.json";

// One file, as a store holds it, so every conditional and range rule runs.
class OneFileReader final : public pgxn::gateway::TreeReader {
 public:
  static const std::string& Content() {
    static const std::string* const content = new std::string(
        "{\"name\":\"pair\",\"releases\":{\"stable\":[{\"version\":\"0.1.0\"}]},"
        "\"abstract\":\"A key/value pair data type\"}\n");
    return *content;
  }
  absl::StatusOr<pgxn::gateway::TreeFile> ReadFile(absl::string_view path) const override {
    if (path != kFilePath) return absl::NotFoundError(path);
    pgxn::gateway::TreeFile file;
    file.content = Content();
    file.sha256_hex = "b5a2c96250612366ea272ffac6d9744aaf4b45aacd96aa7cfcb931ee3b558259";
    file.media_type = "application/json";
    file.modified_unix_seconds = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
    return file;
  }
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view, absl::string_view)>& visit) const override {
    visit(kFilePath, "b5a2c96250612366ea272ffac6d9744aaf4b45aacd96aa7cfcb931ee3b558259");
    return absl::OkStatus();
  }
};

void CheckHttpDate(absl::string_view value) {
  const absl::optional<absl::Time> time = pgxn::gateway::ParseHttpDate(value);
  if (!time.has_value()) return;
  const std::string formatted = pgxn::gateway::FormatHttpDate(*time);
  const absl::optional<absl::Time> again = pgxn::gateway::ParseHttpDate(formatted);
  FUZZ_CHECK(again.has_value() && *again == *time, "a parsed date formats and parses back");
}

void CheckTreeResponse(const Request& request, const Response& response) {
  const std::string& content = OneFileReader::Content();
  switch (response.status) {
    case 200:
      if (request.method == "GET") FUZZ_CHECK(response.body == content, "200 sends the file");
      break;
    case 206: {
      absl::string_view range = response.Header("Content-Range");
      FUZZ_CHECK(absl::ConsumePrefix(&range, "bytes "), "206 has a Content-Range");
      const std::pair<absl::string_view, absl::string_view> span_length =
          absl::StrSplit(range, '/');
      const std::pair<absl::string_view, absl::string_view> first_last =
          absl::StrSplit(span_length.first, '-');
      uint64_t first = 0, last = 0, length = 0;
      FUZZ_CHECK(absl::SimpleAtoi(first_last.first, &first) &&
                     absl::SimpleAtoi(first_last.second, &last) &&
                     absl::SimpleAtoi(span_length.second, &length),
                 "Content-Range is bytes FIRST-LAST/LENGTH");
      FUZZ_CHECK(first <= last && last < length && length == content.size(),
                 "the range lies inside the file");
      FUZZ_CHECK(response.body == content.substr(first, last - first + 1),
                 "206 sends the named range");
      break;
    }
    case 304:
      FUZZ_CHECK(response.body.empty(), "304 has no body");
      break;
    case 404:
    case 405:
    case 416:
      break;
    default:
      FUZZ_CHECK(false, "the tree handler answers 200, 206, 304, 404, 405 or 416");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [request_line, header_lines] =
      pgxn::fuzz::SplitFirstLine(pgxn::fuzz::AsText(data, size));
  Request request;
  const std::pair<absl::string_view, absl::string_view> method_target =
      absl::StrSplit(request_line, absl::MaxSplits(' ', 1));
  request.method = std::string(method_target.first);
  request.target = std::string(method_target.second);
  const size_t question = request.target.find('?');
  absl::StatusOr<std::string> path =
      pgxn::gateway::DecodeRequestPath(absl::string_view(request.target).substr(0, question));
  request.path = path.ok() ? *path : "/";
  for (absl::string_view line : absl::StrSplit(header_lines, '\n')) {
    const std::pair<absl::string_view, absl::string_view> name_value =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    request.headers.emplace_back(absl::AsciiStrToLower(name_value.first),
                                 std::string(absl::StripAsciiWhitespace(name_value.second)));
  }

  for (const auto& [name, value] : request.headers) CheckHttpDate(value);

  const absl::optional<pgxn::gateway::Credentials> credentials =
      pgxn::gateway::ParseBasicAuth(request.Header("authorization"));
  if (credentials.has_value()) {
    FUZZ_CHECK(!credentials->user.empty(), "the user is not empty");
    FUZZ_CHECK(credentials->user.find(':') == std::string::npos, "the user holds no ':'");
  }

  (void)pgxn::gateway::AcceptsJson(request);

  Response page;
  page.SetHeader("Content-Type", "text/html; charset=utf-8");
  page.SetHeader("ETag", "\"page\"");
  page.body = std::string(pgxn::gateway::kMinCompressBytes, 'x');
  const bool accepts_gzip = pgxn::gateway::AcceptsGzip(request);
  pgxn::gateway::CompressIfAccepted(request, &page);
  if (accepts_gzip) {
    FUZZ_CHECK(page.Header("Content-Encoding") == "gzip", "an accepted gzip is used");
    FUZZ_CHECK(page.body.size() >= 2 && page.body[0] == '\x1f' && page.body[1] == '\x8b',
               "a gzipped body is a gzip member");
  } else {
    FUZZ_CHECK(page.Header("Content-Encoding").empty(), "no gzip unless accepted");
  }

  const OneFileReader reader;
  request.path = std::string("/") + kFilePath;
  CheckTreeResponse(request, pgxn::gateway::ServeTreeFile(request, reader));
  (void)pgxn::gateway::ServeTreeListing(request, reader);
  return 0;
}
