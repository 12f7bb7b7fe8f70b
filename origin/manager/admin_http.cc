// Release removal by an administrator (rules in release_removal.h):
//   DELETE /admin/distributions/{dist}/{version}
// Basic auth (401 "Authorization required" with PGXN's challenge); 403 for a
// caller who is not an administrator; 404 for an unknown release (or a path
// that names none); 200 with a message once the `delete` event is committed.
// Messages are {"message": ...} when the client accepts JSON.
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "gateway/status_http.h"
#include "origin/intake/release_removal.h"
#include "origin/manager/manager_auth.h"
#include "origin/manager/manager_http.h"
#include "origin/manager/manager_response.h"

namespace pgxn::origin {
namespace {

constexpr char kPrefix[] = "/admin/distributions/";

gateway::Response HandleRemoveRelease(ManagerContext& context, const gateway::Request& request) {
  std::vector<std::string> segments =
      absl::StrSplit(absl::string_view(request.path).substr(sizeof(kPrefix) - 1), '/');
  if (segments.size() != 2 || segments[0].empty() || segments[1].empty()) {
    return gateway::TextResponse(404, absl::StrCat("Not found: ", request.path, "\n"));
  }
  auto conn = context.pool->Acquire();
  if (!conn.ok()) return ManagerErrorResponse(conn.status(), request);
  absl::StatusOr<Caller> caller = AuthenticateRequest(context, **conn, request);
  if (!caller.ok()) return AuthErrorResponse(caller.status(), request);
  if (absl::Status s = RequireAdmin(*caller); !s.ok()) return AuthErrorResponse(s, request);

  absl::StatusOr<v1::Event> event =
      RemoveRelease(**conn, caller->nickname, segments[0], segments[1], context.publishing);
  if (!event.ok()) {
    if (gateway::HttpStatusFor(event.status()) >= 500) {
      base::LogError(absl::StrCat("Removing ", segments[0], " ", segments[1],
                                  " failed: ", event.status().ToString()));
    }
    return ManagerErrorResponse(event.status(), request);
  }
  const std::string release =
      absl::StrCat(event->subject().dist(), " ", event->subject().version());
  base::LogInfo(
      absl::StrCat("Removed ", release, " by ", caller->nickname, " as seq ", event->seq()));
  return gateway::MessageResponse(200, absl::StrCat("Distribution \"", release, "\" removed"),
                                  request);
}

}  // namespace

void AddReleaseRemovalRoutes(gateway::Router* router, ManagerContext* context) {
  router->HandlePrefix("DELETE", kPrefix, NoStore([context](const gateway::Request& request) {
                         return HandleRemoveRelease(*context, request);
                       }));
}

}  // namespace pgxn::origin
