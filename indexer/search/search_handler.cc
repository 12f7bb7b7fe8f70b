#include "indexer/search/search_handler.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/path.h"
#include "gateway/status_http.h"

namespace pgxn::indexer {
namespace {

constexpr absl::string_view kSearchPrefix = "/search/";
constexpr absl::string_view kAllIndexes = "all";

// The last value of `name` (PGXN reads repeated parameters that way), or
// nullopt if absent.
std::optional<std::string> LastParam(const gateway::QueryParams& params, absl::string_view name) {
  std::optional<std::string> value;
  for (const auto& [key, v] : params) {
    if (key == name) value = v;
  }
  return value;
}

gateway::Response BadRequest(absl::string_view message) {
  return gateway::TextResponse(400, absl::StrCat("Bad request: ", message));
}

// An `o` or `l` value: absent or empty is 0 (PGXN ignores a false value, and 0
// means the default for both); otherwise only digits.
std::optional<uint64_t> ParseCount(const std::optional<std::string>& value) {
  if (!value.has_value() || value->empty()) return 0;
  for (char c : *value) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  uint64_t n;
  if (!absl::SimpleAtoi(*value, &n)) return std::nullopt;  // beyond 64 bits
  return n;
}

}  // namespace

gateway::Response HandleSearch(const gateway::Request& request, const SearchIndex& index) {
  if (request.method != "GET" && request.method != "HEAD") {
    gateway::Response response = gateway::TextResponse(405, "Method not allowed");
    response.SetHeader("Allow", "GET, HEAD");
    return response;
  }
  absl::string_view in_name = request.path;
  if (!absl::ConsumePrefix(&in_name, kSearchPrefix)) return gateway::TextResponse(404, "not found");
  absl::ConsumeSuffix(&in_name, "/");
  std::optional<SearchIn> in;
  if (in_name != kAllIndexes) {
    absl::StatusOr<SearchIn> parsed = ParseSearchIn(in_name);
    if (!parsed.ok()) return gateway::TextResponse(404, "not found");
    in = *parsed;
  }

  const absl::StatusOr<gateway::QueryParams> params = gateway::ParseQuery(request.query);
  if (!params.ok()) return BadRequest(absl::StrCat(params.status().message(), "."));
  const std::optional<std::string> q = LastParam(*params, "q");
  if (!q.has_value() || q->empty() || *q == "*" || *q == "?") {
    return BadRequest("Invalid or missing \"q\" query param.");
  }
  const std::optional<uint64_t> offset = ParseCount(LastParam(*params, "o"));
  if (!offset.has_value()) return BadRequest("invalid \"o\" query param.");
  // SearchIndex applies PGXN's limit rule (0 or too large: the default).
  const std::optional<uint64_t> limit = ParseCount(LastParam(*params, "l"));
  if (!limit.has_value()) return BadRequest("invalid \"l\" query param.");

  const absl::StatusOr<nlohmann::json> result = in.has_value()
                                                    ? index.Search(*in, *q, *offset, *limit)
                                                    : index.SearchAll(*q, *offset, *limit);
  if (!result.ok()) {
    // The query is the only argument a search can reject.
    if (absl::IsInvalidArgument(result.status())) {
      return BadRequest(
          absl::StrCat("invalid \"q\" query param: ", result.status().message(), "."));
    }
    return gateway::ErrorResponse(result.status(), request);
  }
  // Stored text is valid UTF-8 already; `replace` keeps a stray byte from
  // turning into an exception here.
  return gateway::JsonResponse(
      200, result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace pgxn::indexer
