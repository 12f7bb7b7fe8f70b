// What every Manager endpoint of the origin shares: the database, the
// publishing hook, the login guard, the rate limits and the mailer, plus the
// settings. Owned by the Manager (manager_http.h); handlers receive it by
// pointer. Thread-safe (each member is).
#ifndef PGXN_ORIGIN_MANAGER_MANAGER_CONTEXT_H_
#define PGXN_ORIGIN_MANAGER_MANAGER_CONTEXT_H_

#include <string>

#include "archive/archive.h"
#include "origin/accounts/login_guard.h"
#include "origin/accounts/mail.h"
#include "origin/accounts/rate_limit.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"
#include "origin/webhooks/webhooks.h"

namespace pgxn::origin {

struct ManagerOptions {
  archive::ArchiveLimits limits;
  // The largest archive accepted, as sent and as stored after repacking.
  uint64_t max_upload_bytes = uint64_t{64} << 20;
  // Where people reach this origin, for links in mail, e.g. https://manager.example.org.
  std::string public_url;
  MailOptions mail;
  LoginGuardOptions login;
  // Per client address: registrations and password-reset requests (each
  // costs a row, mail to people, and moderators' time).
  RateLimitOptions registrations{10, absl::Hours(1)};
  RateLimitOptions password_resets{10, absl::Hours(1)};
  // Uploads may carry SemVer 1.0 versions (--accept-semver1), for importing
  // releases PGXN published before 2013.
  bool accept_semver1 = false;
  // Webhooks: the cap per account, and whether private addresses may be
  // registered (--webhook-allow-private).
  WebhookRules webhooks;
};

class WebhookDispatcher;

struct ManagerContext {
  ManagerContext(PgPool* pool_in, ManagerOptions options_in, Publishing publishing_in)
      : pool(pool_in),
        options(std::move(options_in)),
        publishing(std::move(publishing_in)),
        guard(options.login),
        registrations("registrations", options.registrations),
        password_resets("password reset requests", options.password_resets),
        mailer(options.mail) {}

  PgPool* const pool;
  const ManagerOptions options;
  const Publishing publishing;
  LoginGuard guard;
  AddressRateLimiter registrations;
  AddressRateLimiter password_resets;
  const Mailer mailer;
  // Set once by the Manager before any route runs; null without deliveries.
  WebhookDispatcher* webhooks = nullptr;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_MANAGER_MANAGER_CONTEXT_H_
