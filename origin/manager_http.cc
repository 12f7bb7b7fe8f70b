#include "origin/manager_http.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/basic_auth.h"
#include "gateway/multipart.h"
#include "gateway/status_http.h"
#include "node/log.h"
#include "origin/accounts.h"
#include "origin/releases.h"

namespace pgxn::origin {
namespace {

gateway::Response Unauthorized() {
  gateway::Response response = gateway::TextResponse(401, "Authorization required");
  response.SetHeader("WWW-Authenticate", "Basic realm=\"PGXN Users Only\"");
  return response;
}

// The file name as the client gave it, without any directory part.
std::string BaseName(absl::string_view filename) {
  size_t slash = filename.find_last_of("/\\");
  return std::string(slash == absl::string_view::npos ? filename : filename.substr(slash + 1));
}

}  // namespace

void Manager::AddRoutes(gateway::Router* router) {
  router->Handle("POST", "/upload",
                 [this](const gateway::Request& request) { return HandleUpload(request); });
}

gateway::Response Manager::HandleUpload(const gateway::Request& request) const {
  absl::optional<gateway::Credentials> credentials =
      gateway::ParseBasicAuth(request.Header("authorization"));
  if (!credentials.has_value()) return Unauthorized();
  auto conn = pool_->Acquire();
  if (!conn.ok()) return gateway::ErrorResponse(conn.status(), request);
  absl::StatusOr<std::string> user = Authenticate(**conn, credentials->user, credentials->password);
  if (absl::IsUnauthenticated(user.status())) return Unauthorized();
  if (!user.ok()) return gateway::ErrorResponse(user.status(), request);

  absl::StatusOr<std::vector<gateway::FormPart>> parts =
      gateway::ParseMultipartForm(request.Header("content-type"), request.body);
  const gateway::FormPart* archive = parts.ok() ? gateway::FindPart(*parts, "archive") : nullptr;
  if (archive == nullptr) {
    return gateway::ErrorResponse(absl::InvalidArgumentError("Bad request: no archive parameter."),
                                  request);
  }
  Upload upload{*user, BaseName(archive->filename), archive->data};
  if (upload.filename.empty()) upload.filename = "archive";
  absl::StatusOr<v1::Event> event = PublishRelease(**conn, upload, limits_, on_commit_);
  if (!event.ok()) {
    if (!absl::IsFailedPrecondition(event.status()) && !absl::IsInvalidArgument(event.status())) {
      node::LogError(absl::StrCat("Upload of ", upload.filename, " by ", *user,
                                  " failed: ", event.status().ToString()));
    }
    absl::Status status = event.status();
    if (absl::IsInvalidArgument(status)) {
      // Data the database refused is a problem with the release, as PGXN reports it.
      status = absl::FailedPreconditionError(status.message());
    }
    return gateway::ErrorResponse(status, request);
  }
  node::LogInfo(absl::StrCat("Published ", event->subject().dist(), " ", event->subject().version(),
                             " by ", *user, " as seq ", event->seq()));
  if (absl::EqualsIgnoreCase(request.Header("x-requested-with"), "XMLHttpRequest")) {
    return gateway::TextResponse(200, "Success");
  }
  gateway::Response response = gateway::TextResponse(303, "See Other");
  response.SetHeader("Location", absl::StrCat("/distributions/", event->subject().dist(), "/",
                                              event->subject().version()));
  return response;
}

}  // namespace pgxn::origin
