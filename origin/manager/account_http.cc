// The account endpoints of the Manager (docs/pgxn.md §3 "Accounts"): registration,
// moderation, forgotten and changed passwords, and profiles. Bodies may be
// form-encoded, multipart or JSON; answers are JSON when the client accepts
// it, plain text otherwise.
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/address.h"
#include "gateway/form_fields.h"
#include "gateway/status_http.h"
#include "origin/accounts/accounts.h"
#include "origin/manager/manager_auth.h"
#include "origin/manager/manager_http.h"
#include "origin/manager/manager_response.h"

namespace pgxn::origin {
namespace {

using gateway::FieldOr;
using gateway::Request;
using gateway::Response;

nlohmann::json AccountJson(const Account& account) {
  nlohmann::json doc{{"nickname", account.nickname},
                     {"full_name", account.full_name},
                     {"email", account.email},
                     {"status", AccountStatusName(account.status)},
                     {"is_admin", account.is_admin}};
  if (!account.uri.empty()) doc["uri"] = account.uri;
  if (!account.twitter.empty()) doc["twitter"] = account.twitter;
  return doc;
}

Response Json(int status, const nlohmann::json& doc) {
  return gateway::JsonResponse(
      status, doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

Links LinksOf(const ManagerContext& context) { return Links{context.options.public_url}; }

// Runs `body` with a pooled connection; maps its failure to a response.
template <typename Body>
Response WithConnection(ManagerContext& context, const Request& request, Body body) {
  auto conn = context.pool->Acquire();
  if (!conn.ok()) return ManagerErrorResponse(conn.status(), request);
  return body(**conn);
}

Response Register(ManagerContext& context, const Request& request) {
  if (absl::Status s =
          context.registrations.Acquire(base::ClientKey(request.RemoteIp()), absl::Now());
      !s.ok()) {
    return ManagerErrorResponse(s, request);
  }
  absl::StatusOr<gateway::QueryParams> fields = gateway::ParseFormFields(request);
  if (!fields.ok()) return ManagerErrorResponse(fields.status(), request);
  Registration registration{FieldOr(*fields, "nickname"), FieldOr(*fields, "full_name"),
                            FieldOr(*fields, "email"),    FieldOr(*fields, "uri"),
                            FieldOr(*fields, "twitter"),  FieldOr(*fields, "why")};
  return WithConnection(context, request, [&](PgConnection& conn) {
    absl::StatusOr<Account> account =
        RegisterAccount(conn, registration, context.mailer, LinksOf(context));
    if (!account.ok()) return ManagerErrorResponse(account.status(), request);
    context.mailer.Deliver(conn);
    const std::string message = absl::StrCat(
        "Thanks for registering, ", account->nickname,
        ". An administrator will review your request; you will get an email when it is approved.");
    if (!gateway::AcceptsJson(request)) return gateway::TextResponse(201, message);
    nlohmann::json doc = AccountJson(*account);
    doc["message"] = message;
    return Json(201, doc);
  });
}

Response Moderate(ManagerContext& context, const Request& request) {
  return WithConnection(context, request, [&](PgConnection& conn) {
    absl::StatusOr<Caller> caller = AuthenticateRequest(context, conn, request);
    if (!caller.ok()) return AuthErrorResponse(caller.status(), request);
    if (absl::Status s = RequireAdmin(*caller); !s.ok()) return AuthErrorResponse(s, request);
    absl::StatusOr<std::vector<Account>> accounts = ListAccounts(conn, AccountStatus::kNew);
    if (!accounts.ok()) return ManagerErrorResponse(accounts.status(), request);
    if (gateway::AcceptsJson(request)) {
      nlohmann::json list = nlohmann::json::array();
      for (const Account& account : *accounts) {
        nlohmann::json doc = AccountJson(account);
        doc["why"] = account.why;
        list.push_back(std::move(doc));
      }
      return Json(200, list);
    }
    std::string text;
    for (const Account& account : *accounts) {
      absl::StrAppend(&text, account.nickname, "\t", account.full_name, " <", account.email, ">\t",
                      account.why, "\n");
    }
    return gateway::TextResponse(200, text);
  });
}

// POST /admin/user/{nick}/status
Response ChangeStatus(ManagerContext& context, const Request& request) {
  absl::string_view rest = request.path;
  absl::ConsumePrefix(&rest, "/admin/user/");
  if (!absl::ConsumeSuffix(&rest, "/status") || rest.empty() ||
      rest.find('/') != absl::string_view::npos) {
    return gateway::TextResponse(404, absl::StrCat("Not found: ", request.path, "\n"));
  }
  const std::string nickname(rest);
  absl::StatusOr<gateway::QueryParams> fields = gateway::ParseFormFields(request);
  if (!fields.ok()) return ManagerErrorResponse(fields.status(), request);
  return WithConnection(context, request, [&](PgConnection& conn) {
    absl::StatusOr<Caller> caller = AuthenticateRequest(context, conn, request);
    if (!caller.ok()) return AuthErrorResponse(caller.status(), request);
    if (absl::Status s = RequireAdmin(*caller); !s.ok()) return AuthErrorResponse(s, request);
    const std::string status = FieldOr(*fields, "status");
    absl::StatusOr<AccountStatus> parsed = ParseModerationStatus(status);
    if (!parsed.ok()) return ManagerErrorResponse(parsed.status(), request);
    absl::Status changed = SetAccountStatus(conn, caller->nickname, nickname, *parsed,
                                            context.mailer, LinksOf(context), context.publishing);
    if (!changed.ok()) return ManagerErrorResponse(changed, request);
    context.mailer.Deliver(conn);
    absl::StatusOr<Account> account = GetAccount(conn, nickname);
    if (!account.ok()) return ManagerErrorResponse(account.status(), request);
    const std::string message = absl::StrCat("User \"", account->nickname, "\" is ", status);
    if (!gateway::AcceptsJson(request)) return gateway::TextResponse(200, message);
    nlohmann::json doc = AccountJson(*account);
    doc["message"] = message;
    return Json(200, doc);
  });
}

Response Forgotten(ManagerContext& context, const Request& request) {
  if (absl::Status s =
          context.password_resets.Acquire(base::ClientKey(request.RemoteIp()), absl::Now());
      !s.ok()) {
    return ManagerErrorResponse(s, request);
  }
  absl::StatusOr<gateway::QueryParams> fields = gateway::ParseFormFields(request);
  if (!fields.ok()) return ManagerErrorResponse(fields.status(), request);
  return WithConnection(context, request, [&](PgConnection& conn) {
    absl::Status status =
        RequestPasswordReset(conn, FieldOr(*fields, "who"), context.mailer, LinksOf(context));
    if (!status.ok()) return ManagerErrorResponse(status, request);
    context.mailer.Deliver(conn);
    // The same answer whether or not the account exists.
    return gateway::MessageResponse(
        200, "If that is an active account, a link to reset its password is on its way by email.",
        request);
  });
}

absl::string_view TokenOf(const Request& request) {
  absl::string_view token = request.path;
  absl::ConsumePrefix(&token, "/account/reset/");
  return token;
}

// GET /account/reset/{token}: the form a person reaches from the mail.
Response ResetForm(const Request& request) {
  const absl::string_view token = TokenOf(request);
  for (char c : token) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return gateway::TextResponse(404, absl::StrCat("Not found: ", request.path, "\n"));
    }
  }
  Response response;
  response.status = 200;
  response.SetHeader("Content-Type", "text/html; charset=utf-8");
  response.body = absl::StrCat(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Set your PGXN password</title>"
      "</head>\n<body><h1>Set your PGXN password</h1>\n<form method=\"post\" action=\"/account/"
      "reset/",
      token,
      "\">\n<p><label>New password <input type=\"password\" name=\"new_pass\" minlength=\"8\" "
      "required></label></p>\n<p><label>Again <input type=\"password\" name=\"verify\" "
      "minlength=\"8\" required></label></p>\n<p><button>Set password</button></p>\n</form>"
      "</body></html>\n");
  return response;
}

Response Reset(ManagerContext& context, const Request& request) {
  absl::StatusOr<gateway::QueryParams> fields = gateway::ParseFormFields(request);
  if (!fields.ok()) return ManagerErrorResponse(fields.status(), request);
  return WithConnection(context, request, [&](PgConnection& conn) {
    absl::Status status = ResetPassword(conn, TokenOf(request), FieldOr(*fields, "new_pass"),
                                        FieldOr(*fields, "verify"));
    if (absl::IsDeadlineExceeded(status)) {
      return gateway::MessageResponse(410, status.message(), request);
    }
    if (!status.ok()) return ManagerErrorResponse(status, request);
    return gateway::MessageResponse(200, "Your password has been set.", request);
  });
}

Response Password(ManagerContext& context, const Request& request) {
  absl::StatusOr<gateway::QueryParams> fields = gateway::ParseFormFields(request);
  if (!fields.ok()) return ManagerErrorResponse(fields.status(), request);
  return WithConnection(context, request, [&](PgConnection& conn) {
    absl::StatusOr<Caller> caller = AuthenticateRequest(context, conn, request);
    if (!caller.ok()) return AuthErrorResponse(caller.status(), request);
    absl::Status status =
        ChangePassword(conn, caller->nickname, FieldOr(*fields, "old_pass"),
                       FieldOr(*fields, "new_pass"), FieldOr(*fields, "new_pass2"));
    if (!status.ok()) return ManagerErrorResponse(status, request);
    return gateway::MessageResponse(200, "Your password has been changed.", request);
  });
}

Response Profile(ManagerContext& context, const Request& request) {
  absl::StatusOr<gateway::QueryParams> fields = gateway::ParseFormFields(request);
  if (!fields.ok()) return ManagerErrorResponse(fields.status(), request);
  return WithConnection(context, request, [&](PgConnection& conn) {
    absl::StatusOr<Caller> caller = AuthenticateRequest(context, conn, request);
    if (!caller.ok()) return AuthErrorResponse(caller.status(), request);
    if (request.method == "POST") {
      ProfileUpdate update;
      auto take = [&](const char* name, absl::optional<std::string>* field) {
        if (const std::string* value = gateway::FindParam(*fields, name)) *field = *value;
      };
      take("full_name", &update.full_name);
      take("email", &update.email);
      take("uri", &update.uri);
      take("twitter", &update.twitter);
      absl::Status status = UpdateProfile(conn, caller->nickname, update, context.publishing);
      if (!status.ok()) return ManagerErrorResponse(status, request);
    }
    absl::StatusOr<Account> account = GetAccount(conn, caller->nickname);
    if (!account.ok()) return ManagerErrorResponse(account.status(), request);
    return Json(200, AccountJson(*account));
  });
}

}  // namespace

void AddAccountRoutes(gateway::Router* router, ManagerContext* context) {
  auto route = [context](Response (*handler)(ManagerContext&, const Request&)) {
    return NoStore(
        [context, handler](const Request& request) { return handler(*context, request); });
  };
  router->Handle("POST", "/account/register", route(Register));
  router->Handle("GET", "/admin/moderate", route(Moderate));
  router->HandlePrefix("POST", "/admin/user/", route(ChangeStatus));
  router->Handle("POST", "/account/forgotten", route(Forgotten));
  router->HandlePrefix("GET", "/account/reset/",
                       NoStore([](const Request& request) { return ResetForm(request); }));
  router->HandlePrefix("POST", "/account/reset/", route(Reset));
  router->Handle("POST", "/account/password", route(Password));
  router->Handle("POST", "/account", route(Profile));
  router->Handle("GET", "/account", route(Profile));
}

}  // namespace pgxn::origin
