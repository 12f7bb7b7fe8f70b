// POST /upload exactly as pgxn-release and PGXN's web form call it (docs/pgxn.md §3):
// Basic auth (401 "Authorization required" with a Basic challenge), multipart
// form data with the file in `archive` (400 "Bad request: no archive
// parameter." without it), then 409 with the reason for any archive or META
// problem; on success 200 "Success" for XHR clients and 303 to
// /distributions/NAME/VERSION for browsers.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "gateway/multipart.h"
#include "gateway/status_http.h"
#include "origin/intake/releases.h"
#include "origin/manager/manager_auth.h"
#include "origin/manager/manager_http.h"
#include "origin/manager/manager_response.h"

namespace pgxn::origin {
namespace {

// The file name as the client gave it, without any directory part.
std::string BaseName(absl::string_view filename) {
  size_t slash = filename.find_last_of("/\\");
  return std::string(slash == absl::string_view::npos ? filename : filename.substr(slash + 1));
}

gateway::Response HandleUpload(ManagerContext& context, const gateway::Request& request) {
  auto conn = context.pool->Acquire();
  if (!conn.ok()) return ManagerErrorResponse(conn.status(), request);
  absl::StatusOr<Caller> caller = AuthenticateRequest(context, **conn, request);
  if (!caller.ok()) return AuthErrorResponse(caller.status(), request);

  absl::StatusOr<std::vector<gateway::FormPart>> parts =
      gateway::ParseMultipartForm(request.Header("content-type"), request.body.view());
  const gateway::FormPart* archive = parts.ok() ? gateway::FindPart(*parts, "archive") : nullptr;
  if (archive == nullptr) {
    return ManagerErrorResponse(absl::InvalidArgumentError("Bad request: no archive parameter."),
                                request);
  }
  Upload upload{caller->nickname,
                BaseName(archive->filename),
                archive->data,
                context.options.max_upload_bytes,
                context.options.accept_semver1,
                caller->is_admin};
  if (archive->data.size() > context.options.max_upload_bytes) {
    // The HTTP limit leaves room for the form around the file; the file itself
    // is held to --max-upload.
    return gateway::MessageResponse(
        413,
        absl::StrCat("Upload too large: \"", upload.filename, "\" is ", archive->data.size(),
                     " bytes, over the limit of ", context.options.max_upload_bytes, " bytes"),
        request);
  }
  if (upload.filename.empty()) upload.filename = "archive";
  absl::StatusOr<v1::Event> event =
      PublishRelease(**conn, upload, context.options.limits, context.publishing);
  if (!event.ok()) {
    absl::Status status = event.status();
    if (absl::IsInvalidArgument(status) && SqlStateOf(status).empty()) {
      // A value the intake refused is a problem with the release, as PGXN
      // reports it; one the database refused is answered without its text.
      status = absl::FailedPreconditionError(status.message());
    } else if (!absl::IsFailedPrecondition(status) && !absl::IsPermissionDenied(status)) {
      base::LogError(absl::StrCat("Upload of ", upload.filename, " by ", upload.user,
                                  " failed: ", status.ToString()));
    }
    return ManagerErrorResponse(status, request);
  }
  base::LogInfo(absl::StrCat("Published ", event->subject().dist(), " ", event->subject().version(),
                             " by ", upload.user, " as seq ", event->seq()));
  if (absl::EqualsIgnoreCase(request.Header("x-requested-with"), "XMLHttpRequest")) {
    return gateway::TextResponse(200, "Success");
  }
  gateway::Response response = gateway::TextResponse(303, "See Other");
  response.SetHeader("Location", absl::StrCat("/distributions/", event->subject().dist(), "/",
                                              event->subject().version()));
  return response;
}

}  // namespace

void AddUploadRoutes(gateway::Router* router, ManagerContext* context) {
  router->Handle("POST", "/upload", NoStore([context](const gateway::Request& request) {
                   return HandleUpload(*context, request);
                 }));
}

}  // namespace pgxn::origin
