#include "gateway/tree_handler.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/types/optional.h"
#include "gateway/recent_feed.h"
#include "gateway/status_http.h"
#include "gateway/topic_feed.h"

namespace pgxn::gateway {
namespace {

// Every value of the (repeatable, comma-separated) header `name`, joined.
std::string CombinedHeader(const Request& request, absl::string_view name) {
  std::vector<absl::string_view> values;
  for (const auto& [key, value] : request.headers) {
    if (absl::EqualsIgnoreCase(key, name)) values.push_back(value);
  }
  return absl::StrJoin(values, ", ");
}

bool HasHeader(const Request& request, absl::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (absl::EqualsIgnoreCase(key, name)) return true;
  }
  return false;
}

// If-None-Match: "*" or a list of entity-tags, compared weakly (a W/ prefix on
// either side is ignored). `etag` is ours, quoted.
bool NoneMatchHits(absl::string_view header, absl::string_view etag) {
  absl::string_view rest = absl::StripAsciiWhitespace(header);
  if (rest == "*") return true;
  while (!rest.empty()) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    if (absl::ConsumePrefix(&rest, ",")) continue;
    absl::ConsumePrefix(&rest, "W/");
    if (!absl::StartsWith(rest, "\"")) return false;  // malformed: no match
    const size_t close = rest.find('"', 1);
    if (close == absl::string_view::npos) return false;
    if (!etag.empty() && rest.substr(0, close + 1) == etag) return true;
    rest.remove_prefix(close + 1);
  }
  return false;
}

// If-Range holds one strong entity-tag or an HTTP-date; only an exact match
// lets the Range through.
bool IfRangeHolds(absl::string_view header, absl::string_view etag, int64_t modified) {
  header = absl::StripAsciiWhitespace(header);
  if (absl::StartsWith(header, "W/")) return false;
  if (absl::StartsWith(header, "\"")) return !etag.empty() && header == etag;
  absl::optional<absl::Time> date = ParseHttpDate(header);
  return date.has_value() && modified > 0 && absl::ToUnixSeconds(*date) == modified;
}

// Digits to an integer that saturates instead of overflowing: a first byte
// beyond any file is still a well-formed (unsatisfiable) range.
bool ParseSaturating(absl::string_view digits, uint64_t& out) {
  if (digits.empty()) return false;
  out = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
    out = out > (kMax - digit) / 10 ? kMax : out * 10 + digit;
  }
  return true;
}

struct ByteRange {
  enum Kind { kIgnore, kUnsatisfiable, kSatisfiable } kind = kIgnore;
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

ByteRange ParseRange(absl::string_view header, uint64_t length) {
  ByteRange range;
  absl::string_view spec = absl::StripAsciiWhitespace(header);
  if (spec.size() < 6 || !absl::EqualsIgnoreCase(spec.substr(0, 6), "bytes=")) return range;
  spec = absl::StripAsciiWhitespace(spec.substr(6));
  if (absl::StrContains(spec, ',')) return range;  // several ranges: send it all
  const size_t dash = spec.find('-');
  if (dash == absl::string_view::npos) return range;
  const absl::string_view first_text = absl::StripAsciiWhitespace(spec.substr(0, dash));
  const absl::string_view last_text = absl::StripAsciiWhitespace(spec.substr(dash + 1));
  uint64_t first = 0;
  uint64_t last = 0;
  if (first_text.empty()) {
    // -n: the last n bytes.
    if (!ParseSaturating(last_text, last)) return range;
    if (last == 0 || length == 0) {
      range.kind = ByteRange::kUnsatisfiable;
      return range;
    }
    range.kind = ByteRange::kSatisfiable;
    range.first = length - std::min(last, length);
    range.last = length - 1;
    return range;
  }
  if (!ParseSaturating(first_text, first)) return range;
  if (last_text.empty()) {
    last = std::numeric_limits<uint64_t>::max();
  } else if (!ParseSaturating(last_text, last) || last < first) {
    return range;
  }
  if (first >= length) {
    range.kind = ByteRange::kUnsatisfiable;
    return range;
  }
  range.kind = ByteRange::kSatisfiable;
  range.first = first;
  range.last = std::min(last, length - 1);
  return range;
}

// `length` bytes of `file` from `first`: copied when the file was read whole,
// otherwise sent from its open file or streamed from its reader.
void SetBody(Response& response, TreeFile& file, uint64_t first, uint64_t length) {
  if (file.file != nullptr) {
    response.file = std::move(file.file);
    response.file_offset = first;
    response.stream_size = length;
    return;
  }
  if (!file.read) {
    response.body = first == 0 && length == file.content.size()
                        ? std::move(file.content)
                        : file.content.substr(first, length);
    return;
  }
  response.stream_size = length;
  response.stream = [read = std::move(file.read), first](uint64_t offset, size_t max_bytes) {
    return read(first + offset, max_bytes);
  };
}

Response NotFound(const Request& request) {
  return TextResponse(404, absl::StrCat("Not found: ", request.path, "\n"));
}

}  // namespace

Response ServeTreeFile(const Request& request, const TreeReader& reader) {
  if (request.method != "GET" && request.method != "HEAD") {
    Response response = TextResponse(
        405, absl::StrCat("Method not allowed: ", request.method, " ", request.path, "\n"));
    response.SetHeader("Allow", "GET, HEAD");
    return response;
  }
  absl::string_view path = request.path;
  absl::ConsumePrefix(&path, "/");
  if (path.empty()) return NotFound(request);

  absl::StatusOr<TreeFile> file = reader.OpenFile(path);
  if (absl::IsNotFound(file.status())) return NotFound(request);
  if (!file.ok()) return ErrorResponse(file.status(), request);

  const std::string etag =
      file->sha256_hex.empty() ? "" : absl::StrCat("\"", file->sha256_hex, "\"");
  const int64_t modified = file->modified_unix_seconds;
  Response response;
  if (!etag.empty()) response.SetHeader("ETag", etag);
  if (modified > 0)
    response.SetHeader("Last-Modified", FormatHttpDate(absl::FromUnixSeconds(modified)));
  response.SetHeader("Accept-Ranges", "bytes");

  bool not_modified = false;
  if (HasHeader(request, "if-none-match")) {
    not_modified = NoneMatchHits(CombinedHeader(request, "if-none-match"), etag);
  } else if (modified > 0 && HasHeader(request, "if-modified-since")) {
    absl::optional<absl::Time> since = ParseHttpDate(request.Header("if-modified-since"));
    not_modified = since.has_value() && modified <= absl::ToUnixSeconds(*since);
  }
  if (not_modified) {
    response.status = 304;
    return response;
  }

  response.SetHeader("Content-Type", file->media_type);
  const uint64_t length = file->large() ? file->size : file->content.size();
  if (request.method == "GET" && HasHeader(request, "range") &&
      (!HasHeader(request, "if-range") ||
       IfRangeHolds(request.Header("if-range"), etag, modified))) {
    const ByteRange range = ParseRange(request.Header("range"), length);
    if (range.kind == ByteRange::kUnsatisfiable) {
      response.status = 416;
      response.SetHeader("Content-Type", "text/plain; charset=utf-8");
      response.SetHeader("Content-Range", absl::StrCat("bytes */", length));
      response.body = absl::StrCat("Range not satisfiable: ", request.Header("range"),
                                   " for a file of ", length, " bytes\n");
      return response;
    }
    if (range.kind == ByteRange::kSatisfiable) {
      response.status = 206;
      response.SetHeader("Content-Range",
                         absl::StrCat("bytes ", range.first, "-", range.last, "/", length));
      SetBody(response, *file, range.first, range.last - range.first + 1);
      return response;
    }
  }
  response.status = 200;
  SetBody(response, *file, 0, length);
  return response;
}

Response ServeTreeListing(const Request& request, const TreeReader& reader,
                          std::shared_ptr<ConcurrencyLimit> limit) {
  // The permit, kept with the limit it belongs to (members go in reverse
  // order: the permit first), by this call or by the stream of a listing
  // being sent.
  struct Held {
    std::shared_ptr<ConcurrencyLimit> limit;
    std::optional<ConcurrencyLimit::Permit> permit;
  };
  auto held = std::make_shared<Held>();
  if (limit != nullptr) {
    held->permit = limit->TryAcquire();
    if (!held->permit.has_value()) {
      Response busy =
          TextResponse(503, absl::StrCat("Busy: ", limit->max(),
                                         " tree listings are being sent; try again shortly\n"));
      busy.SetHeader("Retry-After", "1");
      return busy;
    }
    held->limit = std::move(limit);
  }
  auto listing = std::make_shared<std::string>();
  absl::Status status =
      reader.ForEachFile([&listing](absl::string_view path, absl::string_view sha256_hex) {
        absl::StrAppend(listing.get(), sha256_hex, "  ", path, "\n");
        return true;
      });
  if (!status.ok()) return ErrorResponse(status, request);
  constexpr size_t kLargestBody = 64 * 1024;
  if (listing->size() <= kLargestBody) return TextResponse(200, std::move(*listing));
  Response response = TextResponse(200, "");
  response.stream_size = listing->size();
  response.stream = [listing = std::shared_ptr<const std::string>(std::move(listing)),
                     held = std::move(held)](uint64_t offset,
                                             size_t max_bytes) -> absl::StatusOr<std::string> {
    if (offset >= listing->size()) return absl::OutOfRangeError("past the listing's end");
    return listing->substr(offset, max_bytes);
  };
  return response;
}

namespace {

// The one file ServeGeneratedFile serves, whatever path is asked.
class GeneratedFileReader final : public TreeReader {
 public:
  explicit GeneratedFileReader(const std::function<absl::StatusOr<TreeFile>()>& make)
      : make_(make) {}
  absl::StatusOr<TreeFile> ReadFile(absl::string_view) const override { return make_(); }
  absl::Status ForEachFile(
      const std::function<bool(absl::string_view, absl::string_view)>&) const override {
    return absl::OkStatus();
  }

 private:
  const std::function<absl::StatusOr<TreeFile>()>& make_;
};

}  // namespace

Response ServeGeneratedFile(const Request& request,
                            const std::function<absl::StatusOr<TreeFile>()>& make) {
  return ServeTreeFile(request, GeneratedFileReader(make));
}

void AddTreeRoutes(Router* router, std::shared_ptr<const TreeReader> reader) {
  auto limit = std::make_shared<ConcurrencyLimit>(kMaxTreeListingsInFlight);
  router->Handle("GET", "/_tree", [reader, limit](const Request& request) {
    return ServeTreeListing(request, *reader, limit);
  });
  router->Handle("GET", kRecentFeedPath,
                 [reader](const Request& request) { return ServeRecentFeed(request, *reader); });
  router->HandlePrefix("GET", kTopicFeedPrefix, [reader](const Request& request) {
    return ServeTopicFeed(request, *reader);
  });
  router->HandlePrefix(
      "GET", "/", [reader](const Request& request) { return ServeTreeFile(request, *reader); });
}

}  // namespace pgxn::gateway
