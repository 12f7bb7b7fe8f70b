// An account's webhooks as rows (origin/pg/sql/007_webhooks.sql): register,
// list with their newest deliveries, delete, re-enable. The Manager's
// handlers (origin/manager/webhooks_http.cc) call these for the
// authenticated caller; every call names the owner, so an account reaches
// its own hooks only (another's id is NotFound). The dispatcher
// (dispatcher.h) reads and updates the same rows.
//
// Each call runs on the caller's connection; thread-compatible like it.
#ifndef PGXN_ORIGIN_WEBHOOKS_WEBHOOKS_H_
#define PGXN_ORIGIN_WEBHOOKS_WEBHOOKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "feed/event_filter.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

// One attempt to deliver one message.
struct WebhookDelivery {
  int64_t at_us = 0;
  std::string message_id;
  uint64_t seq = 0;  // 0 for a test ping
  std::string type;  // "release.published", "webhook.ping", ...
  int attempt = 0;   // 1 for the first try of this message
  int status = 0;    // HTTP status; 0 when no answer came
  int64_t latency_us = 0;
  std::string error;  // empty for a 2xx
};

struct Webhook {
  int64_t id = 0;
  std::string owner;
  std::string url;
  feed::EventFilter filter;
  int64_t created_at_us = 0;
  uint64_t cursor_seq = 0;  // done with every event up to here
  bool enabled = true;
  int64_t disabled_at_us = 0;               // 0 while enabled
  int failures = 0;                         // consecutive failed attempts
  int64_t failing_since_us = 0;             // 0 while the last attempt succeeded
  std::vector<WebhookDelivery> deliveries;  // newest first (ListWebhooks only)
};

struct WebhookRules {
  int max_per_account = 20;
  bool allow_private = false;  // --webhook-allow-private
};

struct NewWebhook {
  Webhook hook;
  std::string secret;  // shown once
};

inline constexpr size_t kMaxFilterValues = 32;       // per filter (kind, dist, ...)
inline constexpr size_t kMaxFilterValueBytes = 256;  // per value

// Registers a hook for `owner` starting after the log's head (new events
// only), with a new secret. InvalidArgument for a malformed or non-http(s)
// URL (target.h), an IP literal that is not public without allow_private,
// a bad filter (feed/event_filter.h) or one over kMaxFilterValues values or
// kMaxFilterValueBytes a value; FailedPrecondition when the account has
// max_per_account hooks.
absl::StatusOr<NewWebhook> CreateWebhook(PgConnection& conn, const std::string& owner,
                                         const std::string& url, const feed::EventFilter& filter,
                                         const WebhookRules& rules);

// The owner's hooks, oldest first, each with its newest `deliveries`
// attempts. Never the secret.
absl::StatusOr<std::vector<Webhook>> ListWebhooks(PgConnection& conn, const std::string& owner,
                                                  int deliveries = 10);

// NotFound unless `owner` has hook `id`.
absl::Status DeleteWebhook(PgConnection& conn, const std::string& owner, int64_t id);
// Enables a disabled hook again, its failures forgotten; it resumes where it
// stopped. NotFound as above; FailedPrecondition if it is enabled already.
absl::Status EnableWebhook(PgConnection& conn, const std::string& owner, int64_t id);
// NotFound unless `owner` has hook `id`.
absl::Status CheckWebhookOwner(PgConnection& conn, const std::string& owner, int64_t id);

// The enabled hooks of every account, with their secrets, for the dispatcher.
struct ActiveWebhook {
  Webhook hook;
  std::string secret;
};
absl::StatusOr<std::vector<ActiveWebhook>> LoadEnabledWebhooks(PgConnection& conn);

// Records one attempt and keeps the newest kKeptDeliveries per hook.
inline constexpr int kKeptDeliveries = 50;
absl::Status RecordWebhookDelivery(PgConnection& conn, int64_t id, const WebhookDelivery& delivery);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_WEBHOOKS_WEBHOOKS_H_
