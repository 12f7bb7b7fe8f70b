#include "origin/manager/manager_http.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/status_http.h"

namespace pgxn::origin {

Manager::Manager(PgPool* pool, ManagerOptions options, Publishing publishing)
    : context_(pool, std::move(options), std::move(publishing)) {
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

absl::optional<gateway::Response> Manager::Screen(const gateway::Request& head) {
  if (head.method == "POST" && head.path == "/upload") {
    if (head.Header("authorization").empty()) {
      gateway::Response response = gateway::MessageResponse(401, "Authorization required", head);
      response.SetHeader("WWW-Authenticate", "Basic realm=\"PGXN Users Only\"");
      return response;
    }
    return absl::nullopt;
  }
  return absl::nullopt;
}

uint64_t Manager::BodyLimit(const gateway::Request& head, uint64_t max_upload) {
  if (head.method == "POST" && head.path == "/upload") return max_upload + kUploadEnvelopeBytes;
  return kMaxFormBytes;
}

void Manager::AddRoutes(gateway::Router* router) {
  AddUploadRoutes(router, &context_);
  AddAccountRoutes(router, &context_);
  AddOwnershipRoutes(router, &context_);
  AddReleaseRemovalRoutes(router, &context_);
  AddMirrorRoutes(router, &context_);
}

}  // namespace pgxn::origin
