// Ownership endpoints of the Manager (docs/pgxn.md §3, rules in ownership.h):
//   GET    /extensions/{ext}/owners            {"extension","owner","coowners":[...]}
//   POST   /extensions/{ext}/coowners          field nickname: grant co-ownership
//   DELETE /extensions/{ext}/coowners/{nick}   revoke it
//   POST   /extensions/{ext}/owner             field nickname: transfer ownership
// The changes need Basic auth (401 "Authorization required" with PGXN's
// challenge) and answer 200 with a message, or 400 (missing or invalid
// nickname), 403, 404 or 409 with the reason; as {"message": ...} when the
// client accepts JSON. The owners list is public: it is no secret who may
// release an extension, and operators and tests read it.
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "gateway/form_fields.h"
#include "gateway/status_http.h"
#include "origin/accounts/ownership.h"
#include "origin/manager/manager_auth.h"
#include "origin/manager/manager_http.h"
#include "origin/manager/manager_response.h"

namespace pgxn::origin {
namespace {

constexpr char kPrefix[] = "/extensions/";

// The segments after /extensions/: {ext, "owners"}, {ext, "coowners", nick}...
std::vector<std::string> Segments(const gateway::Request& request) {
  return absl::StrSplit(absl::string_view(request.path).substr(sizeof(kPrefix) - 1), '/');
}

gateway::Response NotFound(const gateway::Request& request) {
  return gateway::TextResponse(404, absl::StrCat("Not found: ", request.path, "\n"));
}

gateway::Response Failure(const absl::Status& status, const gateway::Request& request) {
  if (gateway::HttpStatusFor(status) >= 500) {
    base::LogError(absl::StrCat(request.method, " ", request.path, " failed: ", status.ToString()));
  }
  return ManagerErrorResponse(status, request);
}

gateway::Response HandleOwners(ManagerContext& context, const gateway::Request& request) {
  std::vector<std::string> segments = Segments(request);
  if (segments.size() != 2 || segments[0].empty() || segments[1] != "owners") {
    return NotFound(request);
  }
  auto conn = context.pool->Acquire();
  if (!conn.ok()) return Failure(conn.status(), request);
  absl::StatusOr<ExtensionOwners> owners = GetExtensionOwners(**conn, segments[0]);
  if (!owners.ok()) return Failure(owners.status(), request);
  nlohmann::ordered_json doc{
      {"extension", owners->extension}, {"owner", owners->owner}, {"coowners", owners->coowners}};
  return gateway::JsonResponse(200, doc.dump(3) + "\n");
}

// POST .../coowners, POST .../owner and DELETE .../coowners/{nick}.
gateway::Response HandleChange(ManagerContext& context, const gateway::Request& request) {
  std::vector<std::string> segments = Segments(request);
  const bool grant = request.method == "POST" && segments.size() == 2 && segments[1] == "coowners";
  const bool transfer = request.method == "POST" && segments.size() == 2 && segments[1] == "owner";
  const bool revoke = request.method == "DELETE" && segments.size() == 3 &&
                      segments[1] == "coowners" && !segments[2].empty();
  if (segments[0].empty() || !(grant || transfer || revoke)) return NotFound(request);
  const std::string& extension = segments[0];

  auto conn = context.pool->Acquire();
  if (!conn.ok()) return Failure(conn.status(), request);
  absl::StatusOr<Caller> caller = AuthenticateRequest(context, **conn, request);
  if (!caller.ok()) return AuthErrorResponse(caller.status(), request);

  std::string nickname;
  if (revoke) {
    nickname = segments[2];
  } else {
    absl::StatusOr<gateway::QueryParams> fields = gateway::ParseFormFields(request);
    if (!fields.ok()) return Failure(fields.status(), request);
    nickname = gateway::FieldOr(*fields, "nickname");
    if (nickname.empty()) {
      return Failure(absl::InvalidArgumentError("Missing required field \"nickname\""), request);
    }
  }

  absl::Status status;
  std::string done;
  if (grant) {
    status = GrantCoOwnership(**conn, *caller, extension, nickname);
    done = "is now a co-owner of";
  } else if (revoke) {
    status = RevokeCoOwnership(**conn, *caller, extension, nickname);
    done = "is no longer a co-owner of";
  } else {
    status = TransferOwnership(**conn, *caller, extension, nickname);
    done = "now owns";
  }
  if (!status.ok()) return Failure(status, request);
  base::LogInfo(
      absl::StrCat(caller->nickname, ": user ", nickname, " ", done, " extension ", extension));
  return gateway::MessageResponse(
      200,
      absl::StrCat("User \"", absl::AsciiStrToLower(nickname), "\" ", done, " extension \"",
                   absl::AsciiStrToLower(extension), "\""),
      request);
}

}  // namespace

void AddOwnershipRoutes(gateway::Router* router, ManagerContext* context) {
  router->HandlePrefix("GET", kPrefix, NoStore([context](const gateway::Request& request) {
                         return HandleOwners(*context, request);
                       }));
  for (const char* method : {"POST", "DELETE"}) {
    router->HandlePrefix(method, kPrefix, NoStore([context](const gateway::Request& request) {
                           return HandleChange(*context, request);
                         }));
  }
}

}  // namespace pgxn::origin
