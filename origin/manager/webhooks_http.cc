// An account's webhooks (origin/webhooks), for the account holder, with
// Basic auth like the other /account endpoints; answers are JSON:
//   POST   /account/webhooks               url, and filters kind, dist, user,
//                                           tag (each repeatable, or a JSON
//                                           list): 201 with the secret, once
//   GET    /account/webhooks               the hooks and their newest attempts
//   DELETE /account/webhooks/{id}          200
//   POST   /account/webhooks/{id}/test     202: a webhook.ping is queued
//   POST   /account/webhooks/{id}/enable   200: a disabled hook resumes
// 400 for a bad URL or filter, 404 for a hook the caller does not own, 409
// at the cap of hooks per account or testing a disabled hook, 429 when
// tests are pending.
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "gateway/form_fields.h"
#include "gateway/status_http.h"
#include "origin/catalog/tree_render.h"
#include "origin/manager/manager_auth.h"
#include "origin/manager/manager_http.h"
#include "origin/manager/manager_response.h"
#include "origin/webhooks/dispatcher.h"
#include "origin/webhooks/webhooks.h"

namespace pgxn::origin {
namespace {

using gateway::Request;
using gateway::Response;
using Json = nlohmann::ordered_json;

constexpr char kPath[] = "/account/webhooks";

Response JsonOf(int status, const Json& doc) {
  return gateway::JsonResponse(status,
                               doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

Json FilterJson(const feed::EventFilter& filter) {
  return Json{
      {"kind", filter.kinds}, {"dist", filter.dists}, {"user", filter.users}, {"tag", filter.tags}};
}

Json HookJson(const Webhook& hook) {
  Json doc{{"id", hook.id},
           {"url", hook.url},
           {"filters", FilterJson(hook.filter)},
           {"enabled", hook.enabled},
           {"created_at", FormatDate(hook.created_at_us)},
           {"cursor", hook.cursor_seq}};
  doc["disabled_at"] =
      hook.disabled_at_us == 0 ? Json(nullptr) : Json(FormatDate(hook.disabled_at_us));
  doc["failing_since"] =
      hook.failing_since_us == 0 ? Json(nullptr) : Json(FormatDate(hook.failing_since_us));
  doc["failures"] = hook.failures;
  Json deliveries = Json::array();
  for (const WebhookDelivery& d : hook.deliveries) {
    deliveries.push_back(Json{{"at", FormatDate(d.at_us)},
                              {"message_id", d.message_id},
                              {"seq", d.seq},
                              {"type", d.type},
                              {"attempt", d.attempt},
                              {"status", d.status == 0 ? Json(nullptr) : Json(d.status)},
                              {"latency_ms", static_cast<double>(d.latency_us) / 1000.0},
                              {"error", d.error}});
  }
  doc["deliveries"] = std::move(deliveries);
  return doc;
}

// The url and filters of a registration: a JSON object whose filters may be
// strings or lists of strings, or form fields, each filter repeatable.
absl::Status ParseRegistration(const Request& request, std::string* url,
                               feed::EventFilter* filter) {
  const absl::string_view content_type = request.Header("content-type");
  const bool json = absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(content_type),
                                               "application/json");
  std::vector<std::pair<std::string, std::vector<std::string>*>> lists{{"kind", &filter->kinds},
                                                                       {"dist", &filter->dists},
                                                                       {"user", &filter->users},
                                                                       {"tag", &filter->tags}};
  if (json) {
    const absl::string_view text = request.body.view();
    nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!doc.is_object())
      return absl::InvalidArgumentError("Bad request: the body is not a JSON object");
    for (const auto& [key, value] : doc.items()) {
      if (key == "url") {
        if (!value.is_string()) return absl::InvalidArgumentError("\"url\" must be a string");
        *url = value.get<std::string>();
        continue;
      }
      std::vector<std::string>* target = nullptr;
      for (auto& [name, list] : lists) {
        if (name == key) target = list;
      }
      if (target == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("Unknown field \"", key.substr(0, 40), "\" (url, kind, dist, user, tag)"));
      }
      if (value.is_string()) {
        target->push_back(value.get<std::string>());
        continue;
      }
      if (!value.is_array()) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", key, "\" must be a string or a list of strings"));
      }
      for (const auto& item : value) {
        if (!item.is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat("\"", key, "\" must be a string or a list of strings"));
        }
        target->push_back(item.get<std::string>());
      }
    }
  } else {
    absl::StatusOr<gateway::QueryParams> fields = gateway::ParseFormFields(request);
    if (!fields.ok()) return fields.status();
    for (const auto& [key, value] : *fields) {
      if (key == "url") {
        *url = value;
        continue;
      }
      bool known = false;
      for (auto& [name, list] : lists) {
        if (name != key) continue;
        known = true;
        list->push_back(value);
      }
      if (!known) {
        return absl::InvalidArgumentError(
            absl::StrCat("Unknown field \"", key.substr(0, 40), "\" (url, kind, dist, user, tag)"));
      }
    }
  }
  if (url->empty()) return absl::InvalidArgumentError("Missing required field \"url\"");
  for (auto& [name, list] : lists) {
    for (std::string& value : *list) value = std::string(absl::StripAsciiWhitespace(value));
  }
  return absl::OkStatus();
}

Response Collection(ManagerContext& context, const Request& request) {
  auto conn = context.pool->Acquire();
  if (!conn.ok()) return ManagerErrorResponse(conn.status(), request);
  absl::StatusOr<Caller> caller = AuthenticateRequest(context, **conn, request);
  if (!caller.ok()) return AuthErrorResponse(caller.status(), request);
  if (request.method == "GET" || request.method == "HEAD") {
    absl::StatusOr<std::vector<Webhook>> hooks = ListWebhooks(**conn, caller->nickname);
    if (!hooks.ok()) return ManagerErrorResponse(hooks.status(), request);
    Json list = Json::array();
    for (const Webhook& hook : *hooks) list.push_back(HookJson(hook));
    return JsonOf(200, list);
  }
  std::string url;
  feed::EventFilter filter;
  if (absl::Status s = ParseRegistration(request, &url, &filter); !s.ok()) {
    return ManagerErrorResponse(s, request);
  }
  absl::StatusOr<NewWebhook> created =
      CreateWebhook(**conn, caller->nickname, url, filter, context.options.webhooks);
  if (!created.ok()) return ManagerErrorResponse(created.status(), request);
  if (context.webhooks != nullptr) context.webhooks->Reload();
  base::LogInfo(absl::StrCat("Webhook ", created->hook.id, " registered by ", caller->nickname));
  Json doc = HookJson(created->hook);
  doc["secret"] = created->secret;
  doc["message"] =
      "Keep the secret: it is shown only now. Each delivery is signed with it (Standard "
      "Webhooks: webhook-id, webhook-timestamp, webhook-signature).";
  return JsonOf(201, doc);
}

// /account/webhooks/{id} and /account/webhooks/{id}/{action}.
Response Member(ManagerContext& context, const Request& request) {
  absl::string_view rest = request.path;
  absl::ConsumePrefix(&rest, kPath);
  absl::ConsumePrefix(&rest, "/");
  std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  int64_t id = 0;
  if (parts.empty() || parts.size() > 2 || !absl::SimpleAtoi(parts[0], &id) || id <= 0) {
    return ManagerErrorResponse(absl::NotFoundError("No such webhook"), request);
  }
  const std::string action = parts.size() == 2 ? std::string(parts[1]) : "";
  const bool ok_route = (request.method == "DELETE" && action.empty()) ||
                        (request.method == "POST" && (action == "test" || action == "enable"));
  if (!ok_route) {
    return ManagerErrorResponse(absl::NotFoundError("No such webhook endpoint"), request);
  }
  auto conn = context.pool->Acquire();
  if (!conn.ok()) return ManagerErrorResponse(conn.status(), request);
  absl::StatusOr<Caller> caller = AuthenticateRequest(context, **conn, request);
  if (!caller.ok()) return AuthErrorResponse(caller.status(), request);
  if (request.method == "DELETE") {
    if (absl::Status s = DeleteWebhook(**conn, caller->nickname, id); !s.ok()) {
      return ManagerErrorResponse(s, request);
    }
    if (context.webhooks != nullptr) context.webhooks->Reload();
    return JsonOf(200, Json{{"message", absl::StrCat("Webhook ", id, " deleted")}});
  }
  if (action == "enable") {
    if (absl::Status s = EnableWebhook(**conn, caller->nickname, id); !s.ok()) {
      return ManagerErrorResponse(s, request);
    }
    if (context.webhooks != nullptr) context.webhooks->Reload();
    return JsonOf(200, Json{{"message", absl::StrCat("Webhook ", id, " enabled")}});
  }
  if (absl::Status s = CheckWebhookOwner(**conn, caller->nickname, id); !s.ok()) {
    return ManagerErrorResponse(s, request);
  }
  if (context.webhooks == nullptr) {
    return ManagerErrorResponse(absl::UnavailableError("Webhooks are not running"), request);
  }
  if (absl::Status s = context.webhooks->Ping(id); !s.ok()) {
    return ManagerErrorResponse(s, request);
  }
  return JsonOf(202,
                Json{{"message", absl::StrCat("A webhook.ping to webhook ", id, " is queued; GET ",
                                              kPath, " shows how it went")}});
}

}  // namespace

void AddWebhookRoutes(gateway::Router* router, ManagerContext* context) {
  auto route = [context](Response (*handler)(ManagerContext&, const Request&)) {
    return NoStore(
        [context, handler](const Request& request) { return handler(*context, request); });
  };
  router->Handle("GET", kPath, route(Collection));
  router->Handle("POST", kPath, route(Collection));
  router->HandlePrefix("DELETE", absl::StrCat(kPath, "/"), route(Member));
  router->HandlePrefix("POST", absl::StrCat(kPath, "/"), route(Member));
}

}  // namespace pgxn::origin
