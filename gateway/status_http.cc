#include "gateway/status_http.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace pgxn::gateway {
namespace {

// A quality value "q=0", "q=0.0", "q=0.000" rules the media range out.
bool IsZeroQuality(absl::string_view parameter) {
  const size_t eq = parameter.find('=');
  if (eq == absl::string_view::npos) return false;
  if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(parameter.substr(0, eq)), "q")) {
    return false;
  }
  double q = 1.0;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(parameter.substr(eq + 1)), &q)) return false;
  return q <= 0.0;
}

bool ListsJson(absl::string_view accept) {
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(parts[0]), "application/json")) {
      continue;
    }
    bool excluded = false;
    for (size_t i = 1; i < parts.size(); ++i) excluded = excluded || IsZeroQuality(parts[i]);
    if (!excluded) return true;
  }
  return false;
}

}  // namespace

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

bool AcceptsJson(const Request& request) {
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "accept") && ListsJson(value)) return true;
  }
  return false;
}

Response MessageResponse(int status, absl::string_view message, const Request& request) {
  if (AcceptsJson(request)) {
    nlohmann::json body = {{"message", std::string(message)}};
    return JsonResponse(status,
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return TextResponse(status, std::string(message));
}

Response ErrorResponse(const absl::Status& status, const Request& request) {
  return MessageResponse(HttpStatusFor(status), status.message(), request);
}

}  // namespace pgxn::gateway
