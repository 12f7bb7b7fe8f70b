#include "origin/manager/manager_response.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "gateway/status_http.h"
#include "origin/accounts/rate_limit.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {
namespace {

// A fixed sentence for failures whose own text is for the operator.
const char* HiddenMessage(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
      return "The origin is busy or its database is unavailable; try again shortly";
    case absl::StatusCode::kAborted:
      return "A concurrent change got in the way; try again";
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnimplemented:
      return "Internal error; the origin's log has the details";
    default:
      return nullptr;
  }
}

}  // namespace

gateway::Response ManagerErrorResponse(const absl::Status& status,
                                       const gateway::Request& request) {
  std::string public_message = PublicDatabaseMessage(status);
  if (public_message.empty()) {
    if (const char* hidden = HiddenMessage(status.code())) public_message = hidden;
  }
  if (!public_message.empty()) {
    // ToString keeps the payloads (the SQLSTATE) for the log.
    base::LogError(absl::StrCat(request.method, " ", request.path, " failed: ", status.ToString()));
    return gateway::ErrorResponse(absl::Status(status.code(), public_message), request);
  }
  gateway::Response response = gateway::ErrorResponse(status, request);
  if (absl::optional<int64_t> seconds = RetryAfterSeconds(status)) {
    response.SetHeader("Retry-After", absl::StrCat(*seconds));
  }
  return response;
}

gateway::Handler NoStore(gateway::Handler handler) {
  return [handler = std::move(handler)](const gateway::Request& request) {
    gateway::Response response = handler(request);
    response.SetHeader("Cache-Control", "no-store");
    return response;
  };
}

}  // namespace pgxn::origin
