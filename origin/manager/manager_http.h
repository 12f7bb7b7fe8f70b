// The Manager's HTTP endpoints on the origin (docs/pgxn.md §3), registered on the
// origin's router. Each group lives in its own file and shares one
// ManagerContext:
//   upload_http.cc    POST /upload (pgxn-release's contract)
//   account_http.cc   registration, passwords, profile, moderation of accounts
//   ownership_http.cc owners and co-owners of extensions
//   admin_http.cc     removal of a release by an administrator
//   mirrors_http.cc   the mirror registry
//   webhooks_http.cc  an account's webhooks
// Thread-safe: handlers run concurrently on the HTTP server's threads.
#ifndef PGXN_ORIGIN_MANAGER_MANAGER_HTTP_H_
#define PGXN_ORIGIN_MANAGER_MANAGER_HTTP_H_

#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

#include "gateway/router.h"
#include "origin/manager/manager_context.h"

namespace pgxn::origin {

void AddUploadRoutes(gateway::Router* router, ManagerContext* context);
void AddAccountRoutes(gateway::Router* router, ManagerContext* context);
void AddOwnershipRoutes(gateway::Router* router, ManagerContext* context);
void AddReleaseRemovalRoutes(gateway::Router* router, ManagerContext* context);
void AddMirrorRoutes(gateway::Router* router, ManagerContext* context);
void AddWebhookRoutes(gateway::Router* router, ManagerContext* context);

class Manager {
 public:
  // With a sendmail command configured, also starts a thread that hands
  // recorded mail to it every kMailInterval (mail recorded by operator
  // commands; mail from requests goes out at once).
  // `webhooks` (may be null: no deliveries, registration still works) is
  // told when hooks change and queues test pings; it must outlive the routes.
  Manager(PgPool* pool, ManagerOptions options, Publishing publishing,
          WebhookDispatcher* webhooks = nullptr);
  ~Manager();  // Stop()

  // Stops the mail thread (it lets go of its connection); idempotent. The
  // routes keep working: mail from requests still goes out at once.
  void Stop();

  // Registers every Manager endpoint; `this` must outlive the router's use.
  void AddRoutes(gateway::Router* router);

  // The HTTP server's screen (gateway/http_server.h), called on an I/O
  // thread with the request's header: refuses before the body is read what
  // would be refused anyway, so a client without a valid account cannot make
  // the origin take in 64 MiB or hold a thread for it. On every route that
  // needs an account (NeedsAccount) the credentials are checked here, as the
  // handler would (401 without or with wrong ones, 429 with Retry-After while
  // the login guard delays the client); the handler checks them again from
  // the guard's cache, without a second Argon2id hash. Body sizes are
  // BodyLimit's. First of all, on every route, a state-changing request a
  // browser sent from another site is 403 (gateway/cross_origin.h: the
  // defence against request forgery with the browser's Basic credentials).
  absl::optional<gateway::Response> Screen(const gateway::Request& head);

  // Whether `method` on `path` is for accounts only: /upload, the account
  // holder's pages and webhooks, /admin/..., and changes of extension owners.
  static bool NeedsAccount(absl::string_view method, absl::string_view path);

  // The login guard's counters, for /metrics.
  LoginGuardCounters login_counters() const;

  // The HTTP server's body_limit (gateway/http_server.h): an upload may carry
  // `max_upload` bytes of archive plus its form's envelope; every other route
  // takes forms of at most kMaxFormBytes, chunked or not.
  static uint64_t BodyLimit(const gateway::Request& head, uint64_t max_upload);

  static constexpr uint64_t kMaxFormBytes = 1 << 20;
  // Room for a multipart upload's boundaries and fields beside the archive.
  static constexpr uint64_t kUploadEnvelopeBytes = 1 << 20;

  static constexpr absl::Duration kMailInterval = absl::Seconds(10);

 private:
  void DeliverMail();

  ManagerContext context_;
  // The public URL's origin (gateway/cross_origin.h OriginOfUrl): a browser
  // on the origin's own pages sends it, whatever Host a proxy passes on.
  const std::string public_origin_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread mail_thread_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_MANAGER_MANAGER_HTTP_H_
