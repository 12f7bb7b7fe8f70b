// The Manager's HTTP endpoints on the origin (PGXN.md §3), registered on the
// origin's router. Each group lives in its own file and shares one
// ManagerContext:
//   upload_http.cc    POST /upload (pgxn-release's contract)
//   account_http.cc   registration, passwords, profile, moderation of accounts
// Thread-safe: handlers run concurrently on the HTTP server's threads.
#ifndef PGXN_ORIGIN_MANAGER_HTTP_H_
#define PGXN_ORIGIN_MANAGER_HTTP_H_

#include <memory>

#include "gateway/router.h"
#include "origin/manager_context.h"

namespace pgxn::origin {

void AddUploadRoutes(gateway::Router* router, ManagerContext* context);
void AddAccountRoutes(gateway::Router* router, ManagerContext* context);

class Manager {
 public:
  Manager(PgPool* pool, ManagerOptions options, CommitListener on_commit)
      : context_(pool, std::move(options), std::move(on_commit)) {}

  // Registers every Manager endpoint; `this` must outlive the router's use.
  void AddRoutes(gateway::Router* router);

 private:
  ManagerContext context_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_MANAGER_HTTP_H_
