// Delivers the origin's events to the registered webhooks (webhooks.h):
// per hook, every event its filters take, in seq order, at least once,
// signed as Standard Webhooks 1.0 says (signature.h), each message retried
// with backoff (retry.h) until a 2xx; after `disable_after` of failures
// without a success the hook is disabled and its owner mailed once.
//
// How: a watcher thread follows the log's head (feed::EventLog, woken at
// each commit); `workers` threads take hooks that have something due, one
// hook per worker at a time, and for it read the next events after its
// cursor, skip those its filters refuse, and deliver the first one
// (http_client.h, within `timeout`). A hook's cursor (the last seq it is
// done with) and its run of failures are written to its row after every
// attempt, so a restarted origin resumes each hook where it stood. Nothing
// here runs inside a publishing transaction or on an HTTP thread: a slow or
// dead receiver holds one worker for at most `timeout` per attempt and
// delays neither uploads nor other hooks (while other workers are free).
//
// Thread-safety: every public method may be called from any thread; Start
// and Stop from the one that owns it.
#ifndef PGXN_ORIGIN_WEBHOOKS_DISPATCHER_H_
#define PGXN_ORIGIN_WEBHOOKS_DISPATCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "feed/event_log.h"
#include "origin/accounts/mail.h"
#include "origin/pg/pg.h"
#include "origin/webhooks/http_client.h"
#include "origin/webhooks/retry.h"
#include "origin/webhooks/webhooks.h"

namespace pgxn::origin {

struct WebhookDispatcherOptions {
  int workers = 4;
  absl::Duration timeout = absl::Seconds(10);
  absl::Duration disable_after = absl::Hours(24);
  RetryPolicy retry;
  bool allow_private = false;
  // Base of the absolute URLs in the bodies (--public-url), no trailing slash.
  std::string public_url;
  // Hooks are re-read this often besides after each change through the
  // Manager (an operator's change in the database).
  absl::Duration reload_interval = absl::Seconds(30);
};

// What the dispatcher counts, for /metrics. Outcomes: "delivered" (2xx),
// "failed" (another status, a redirect included), "error" (no answer:
// connection, TLS, timeout), "refused" (no public address).
struct WebhookObserver {
  std::function<void(const std::string& outcome, absl::Duration latency)> attempted;
  std::function<void()> disabled;
};

class WebhookDispatcher {
 public:
  static constexpr int kMaxPendingPings = 2;
  // Pings one hook may be sent in a minute: a loop of test requests to a
  // receiver that never answers holds workers for a timeout each.
  static constexpr int kMaxPingsPerMinute = 2;
  // Hooks of one account served at once, so that one account's slow or
  // dead receivers never hold every worker.
  static constexpr int kMaxBusyPerOwner = 2;

  // `pool` and `log` must outlive the dispatcher; `mail` is how the origin
  // sends mail (the notice of a disabled hook).
  WebhookDispatcher(PgPool* pool, const feed::EventLog* log, MailOptions mail,
                    WebhookDispatcherOptions options);
  ~WebhookDispatcher();  // Stop()

  // Loads the hooks and starts the threads; `observer` is told of every
  // attempt and disabled hook from then on.
  absl::Status Start(WebhookObserver observer = {});
  // Stops the threads; an attempt in flight finishes first (at most
  // `timeout`). Idempotent.
  void Stop();

  // Re-reads the hooks (after one was registered, deleted or enabled): a
  // deleted hook gets no further attempt once the one in flight, if any,
  // is done.
  void Reload();

  // Queues a `webhook.ping` message for hook `id` (one attempt, recorded
  // with the others). FailedPrecondition when the hook is not enabled,
  // ResourceExhausted when kMaxPendingPings are pending for it or it was
  // sent kMaxPingsPerMinute in the last minute.
  absl::Status Ping(int64_t id);

 private:
  struct Hook;
  struct Attempt;

  void Watch();
  void Work();
  // One turn for `hook`: a pending ping, or the next event after its cursor.
  void Serve(Hook& hook, const ActiveWebhook& row, uint64_t cursor, bool ping);
  Attempt Deliver(const ActiveWebhook& row, const std::string& message_id, const std::string& body);
  void Disable(const ActiveWebhook& row, const std::string& last_error);
  absl::Time NextDeadline() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  PgPool* const pool_;
  const feed::EventLog* const log_;
  const Mailer mailer_;
  const WebhookDispatcherOptions options_;
  WebhookObserver observer_;  // set by Start, before the threads
  const WebhookClient client_;

  absl::Mutex reload_mu_;  // one Reload at a time, so an older read never wins
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  absl::flat_hash_map<int64_t, std::shared_ptr<Hook>> hooks_ ABSL_GUARDED_BY(mu_);
  uint64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_WEBHOOKS_DISPATCHER_H_
