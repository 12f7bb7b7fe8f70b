// Mirror registry endpoints of the Manager, for administrators only (rules and
// messages in mirror_registry.h):
//   GET    /admin/mirrors             every mirror, with its real email and who added it
//   POST   /admin/mirrors             fields of a new mirror: 201
//   PUT    /admin/mirrors?uri=URI     the fields to change: 200
//   DELETE /admin/mirrors?uri=URI     200
// Basic auth (401 "Authorization required" with PGXN's challenge), 403 for a
// caller who is not an administrator, 400 for missing or invalid fields (or a
// missing uri parameter), 404 for an unknown mirror, 409 for a duplicate uri.
// Messages are {"message": ...} when the client accepts JSON.
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "gateway/form_fields.h"
#include "gateway/path.h"
#include "gateway/status_http.h"
#include "origin/accounts/mirror_registry.h"
#include "origin/manager/manager_auth.h"
#include "origin/manager/manager_http.h"
#include "origin/manager/manager_response.h"

namespace pgxn::origin {
namespace {

constexpr char kPath[] = "/admin/mirrors";

gateway::Response Failure(const absl::Status& status, const gateway::Request& request) {
  if (gateway::HttpStatusFor(status) >= 500) {
    base::LogError(
        absl::StrCat(request.method, " ", request.target, " failed: ", status.ToString()));
  }
  return ManagerErrorResponse(status, request);
}

// The first value of each field.
MirrorFields ToMirrorFields(const gateway::QueryParams& params) {
  MirrorFields fields;
  for (const auto& [name, value] : params) fields.emplace(name, value);
  return fields;
}

// The ?uri= parameter of PUT and DELETE.
absl::StatusOr<std::string> UriParameter(const gateway::Request& request) {
  absl::StatusOr<gateway::QueryParams> query = gateway::ParseQuery(request.query);
  if (!query.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Bad request: ", query.status().message()));
  }
  const std::string* uri = gateway::FindParam(*query, "uri");
  if (uri == nullptr || uri->empty()) {
    return absl::InvalidArgumentError("Missing required query parameter \"uri\"");
  }
  return *uri;
}

nlohmann::ordered_json MirrorJson(const RegisteredMirror& registered) {
  const MirrorRow& m = registered.mirror;
  nlohmann::ordered_json doc{{"uri", m.uri},
                             {"frequency", m.frequency},
                             {"location", m.location},
                             {"organization", m.organization},
                             {"timezone", m.timezone},
                             {"email", m.email},
                             {"bandwidth", m.bandwidth},
                             {"src", m.src}};
  if (m.rsync.has_value()) doc["rsync"] = *m.rsync;
  if (m.notes.has_value()) doc["notes"] = *m.notes;
  doc["created_by"] = registered.created_by;
  doc["created_at"] = FormatDate(registered.created_at_us);
  return doc;
}

gateway::Response HandleMirrors(ManagerContext& context, const gateway::Request& request) {
  auto conn = context.pool->Acquire();
  if (!conn.ok()) return Failure(conn.status(), request);
  absl::StatusOr<Caller> caller = AuthenticateRequest(context, **conn, request);
  if (!caller.ok()) return AuthErrorResponse(caller.status(), request);
  if (absl::Status s = RequireAdmin(*caller); !s.ok()) return AuthErrorResponse(s, request);

  if (request.method == "GET" || request.method == "HEAD") {
    absl::StatusOr<std::vector<RegisteredMirror>> mirrors = ListMirrors(**conn);
    if (!mirrors.ok()) return Failure(mirrors.status(), request);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const RegisteredMirror& mirror : *mirrors) list.push_back(MirrorJson(mirror));
    return gateway::JsonResponse(200, list.dump(3) + "\n");
  }

  std::string uri;
  if (request.method != "POST") {
    absl::StatusOr<std::string> given = UriParameter(request);
    if (!given.ok()) return Failure(given.status(), request);
    uri = *std::move(given);
  }
  MirrorFields fields;
  if (request.method != "DELETE") {
    absl::StatusOr<gateway::QueryParams> params = gateway::ParseFormFields(request);
    if (!params.ok()) return Failure(params.status(), request);
    fields = ToMirrorFields(*params);
  }

  absl::StatusOr<v1::Event> event;
  int status = 200;
  std::string done;
  if (request.method == "POST") {
    event = AddMirror(**conn, caller->nickname, fields, context.publishing);
    uri = fields.count("uri") > 0 ? std::string(absl::StripAsciiWhitespace(fields["uri"])) : "";
    status = 201;
    done = "added";
  } else if (request.method == "PUT") {
    event = UpdateMirror(**conn, caller->nickname, uri, fields, context.publishing);
    done = "updated";
  } else {
    event = RemoveMirror(**conn, caller->nickname, uri, context.publishing);
    done = "removed";
  }
  if (!event.ok()) return Failure(event.status(), request);
  if (event->seq() == 0) {
    return gateway::MessageResponse(200, absl::StrCat("Mirror \"", uri, "\" unchanged"), request);
  }
  base::LogInfo(
      absl::StrCat("Mirror ", uri, " ", done, " by ", caller->nickname, " as seq ", event->seq()));
  return gateway::MessageResponse(status, absl::StrCat("Mirror \"", uri, "\" ", done), request);
}

}  // namespace

void AddMirrorRoutes(gateway::Router* router, ManagerContext* context) {
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    router->Handle(method, kPath, NoStore([context](const gateway::Request& request) {
                     return HandleMirrors(*context, request);
                   }));
  }
}

}  // namespace pgxn::origin
