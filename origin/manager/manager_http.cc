#include "origin/manager/manager_http.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/cross_origin.h"
#include "gateway/status_http.h"
#include "origin/manager/manager_auth.h"
#include "origin/manager/manager_response.h"

namespace pgxn::origin {

Manager::Manager(PgPool* pool, ManagerOptions options, Publishing publishing,
                 WebhookDispatcher* webhooks)
    : context_(pool, std::move(options), std::move(publishing)),
      public_origin_(gateway::OriginOfUrl(context_.options.public_url)) {
  context_.webhooks = webhooks;
  if (!context_.options.mail.sendmail.empty()) {
    mail_thread_ = std::thread([this] { DeliverMail(); });
  }
}

Manager::~Manager() { Stop(); }

void Manager::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (mail_thread_.joinable()) mail_thread_.join();
}

void Manager::DeliverMail() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_), kMailInterval)) {
    mu_.Unlock();
    if (auto conn = context_.pool->Acquire(); conn.ok()) context_.mailer.Deliver(**conn);
    mu_.Lock();
  }
}

bool Manager::NeedsAccount(absl::string_view method, absl::string_view path) {
  if (path == "/upload") return method == "POST";
  if (path == "/account" || path == "/account/password") return true;
  if (path == "/account/webhooks" || absl::StartsWith(path, "/account/webhooks/")) return true;
  if (absl::StartsWith(path, "/admin/")) return true;
  // GET /extensions/{ext}/owners is public; the changes are not.
  if (absl::StartsWith(path, "/extensions/")) return method != "GET" && method != "HEAD";
  return false;
}

absl::optional<gateway::Response> Manager::Screen(const gateway::Request& head) {
  // Before anything else: a forged request from another site carries the
  // browser's cached Basic credentials (gateway/cross_origin.h).
  if (absl::optional<std::string> refusal = gateway::CrossOriginRefusal(head, public_origin_)) {
    gateway::Response response =
        ManagerErrorResponse(absl::PermissionDeniedError(*std::move(refusal)), head);
    response.SetHeader("Cache-Control", "no-store");
    return response;
  }
  if (NeedsAccount(head.method, head.path)) {
    absl::optional<gateway::Response> refusal;
    auto conn = context_.pool->Acquire();
    if (!conn.ok()) {
      refusal = ManagerErrorResponse(conn.status(), head);
    } else if (absl::StatusOr<Caller> caller = AuthenticateRequest(context_, **conn, head);
               !caller.ok()) {
      refusal = AuthErrorResponse(caller.status(), head);
    }
    if (refusal.has_value()) refusal->SetHeader("Cache-Control", "no-store");
    if (refusal.has_value() || head.path == "/upload") return refusal;
  }
  return absl::nullopt;
}

uint64_t Manager::BodyLimit(const gateway::Request& head, uint64_t max_upload) {
  if (head.method == "POST" && head.path == "/upload") return max_upload + kUploadEnvelopeBytes;
  return kMaxFormBytes;
}

LoginGuardCounters Manager::login_counters() const { return context_.guard.counters(absl::Now()); }

void Manager::AddRoutes(gateway::Router* router) {
  AddUploadRoutes(router, &context_);
  AddAccountRoutes(router, &context_);
  AddOwnershipRoutes(router, &context_);
  AddReleaseRemovalRoutes(router, &context_);
  AddMirrorRoutes(router, &context_);
  AddWebhookRoutes(router, &context_);
}

}  // namespace pgxn::origin
