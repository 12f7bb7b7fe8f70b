#include "origin/manager_http.h"

namespace pgxn::origin {

Manager::Manager(PgPool* pool, ManagerOptions options, CommitListener on_commit)
    : context_(pool, std::move(options), std::move(on_commit)) {
  if (!context_.options.mail.sendmail.empty()) {
    mail_thread_ = std::thread([this] { DeliverMail(); });
  }
}

Manager::~Manager() {
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

void Manager::AddRoutes(gateway::Router* router) {
  AddUploadRoutes(router, &context_);
  AddAccountRoutes(router, &context_);
  AddOwnershipRoutes(router, &context_);
  AddReleaseRemovalRoutes(router, &context_);
  AddMirrorRoutes(router, &context_);
}

}  // namespace pgxn::origin
