#include "origin/webhooks/dispatcher.h"

#include <algorithm>
#include <deque>
#include <random>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "feed/event_filter.h"
#include "feed/event_json.h"
#include "origin/webhooks/signature.h"
#include "origin/webhooks/target.h"

namespace pgxn::origin {
namespace {

// A bookkeeping write that failed. The delivery stands (the cursor in memory
// has moved on; after a restart the event may go again, which at least once
// allows), but the operator is told: the delivery history or the failure
// count may be short.
void LogIfFailed(int64_t id, absl::string_view what, const absl::Status& status) {
  if (!status.ok()) {
    base::LogWarning(absl::StrCat("Webhook ", id, ": cannot ", what, ": ", status.ToString()));
  }
}

// Events read per look at a hook's next events: enough to skip past a run
// of events its filters refuse without a read per event.
constexpr size_t kReadBatch = 64;

// The Standard Webhooks `type` of an event of `kind`.
std::string EventType(const std::string& kind) {
  if (kind == "release") return "release.published";
  if (kind == "delete") return "release.deleted";
  if (kind == "user") return "user.changed";
  return absl::StrCat(kind, ".changed");  // mirrors, meta, stats
}

double RandomUnit() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

// A hook's delivery state; guarded by the dispatcher's mu_.
struct WebhookDispatcher::Hook {
  ActiveWebhook row;
  uint64_t cursor = 0;
  absl::Time due = absl::InfinitePast();  // no attempt before
  bool busy = false;                      // a worker is serving it
  bool removed = false;                   // deleted or disabled: drop once not busy
  int pending_pings = 0;
  std::deque<absl::Time> pings_accepted;  // in the last minute
  absl::Time served_at = absl::InfinitePast();  // when a worker last took it
  uint64_t retrying_seq = 0;  // the seq whose attempts `attempts` counts; 0: not known yet
  int attempts = 0;
  int failures = 0;
  absl::Time failing_since = absl::InfinitePast();  // InfinitePast: not failing
};

struct WebhookDispatcher::Attempt {
  WebhookDelivery delivery;
  std::string outcome;
  bool ok() const { return outcome == "delivered"; }
};

WebhookDispatcher::WebhookDispatcher(PgPool* pool, const feed::EventLog* log, MailOptions mail,
                                     WebhookDispatcherOptions options)
    : pool_(pool),
      log_(log),
      mailer_(std::move(mail)),
      options_(std::move(options)),
      client_([this] {
        WebhookClientOptions client;
        client.timeout = options_.timeout;
        client.connect_timeout = std::min(options_.timeout, absl::Seconds(5));
        client.allow_private = options_.allow_private;
        return client;
      }()) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

absl::Status WebhookDispatcher::Start(WebhookObserver observer) {
  observer_ = std::move(observer);
  absl::StatusOr<feed::ChainTip> head = log_->Head();
  if (!head.ok()) return head.status();
  {
    absl::MutexLock lock(&mu_);
    head_ = head->seq;
  }
  Reload();
  threads_.emplace_back([this] { Watch(); });
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    threads_.emplace_back([this] { Work(); });
  }
  return absl::OkStatus();
}

void WebhookDispatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void WebhookDispatcher::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  absl::StatusOr<std::vector<ActiveWebhook>> rows;
  {
    auto conn = pool_->Acquire();
    if (!conn.ok()) {
      base::LogWarning(absl::StrCat("Webhooks not reloaded: ", conn.status().ToString()));
      return;
    }
    rows = LoadEnabledWebhooks(**conn);
  }
  if (!rows.ok()) {
    base::LogWarning(absl::StrCat("Webhooks not reloaded: ", rows.status().ToString()));
    return;
  }
  absl::MutexLock lock(&mu_);
  absl::flat_hash_map<int64_t, std::shared_ptr<Hook>> next;
  for (ActiveWebhook& row : *rows) {
    auto existing = hooks_.find(row.hook.id);
    // A hook a worker still serves keeps its object, even one disabled and
    // enabled again meanwhile: a second object would let a second worker
    // deliver it at the same time, out of order.
    if (existing != hooks_.end() && (!existing->second->removed || existing->second->busy)) {
      Hook& hook = *existing->second;
      if (hook.removed) {  // enabled again: its failures were forgotten
        hook.removed = false;
        hook.failures = row.hook.failures;
        hook.attempts = row.hook.failures;
        hook.failing_since = row.hook.failing_since_us == 0
                                 ? absl::InfinitePast()
                                 : absl::FromUnixMicros(row.hook.failing_since_us);
        hook.cursor = std::max(hook.cursor, row.hook.cursor_seq);
      }
      hook.row = std::move(row);
      next.emplace(existing->first, existing->second);
      continue;
    }
    auto hook = std::make_shared<Hook>();
    hook->cursor = row.hook.cursor_seq;
    hook->failures = row.hook.failures;
    hook->attempts = row.hook.failures;
    if (row.hook.failing_since_us != 0) {
      hook->failing_since = absl::FromUnixMicros(row.hook.failing_since_us);
    }
    hook->row = std::move(row);
    next.emplace(hook->row.hook.id, std::move(hook));
  }
  // A hook no longer listed is dropped; a worker serving it keeps its own
  // reference and records nothing more once it sees it removed.
  for (auto& [id, hook] : hooks_) {
    if (!next.contains(id)) hook->removed = true;
  }
  hooks_ = std::move(next);
  changed_.SignalAll();
}

absl::Status WebhookDispatcher::Ping(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto found = hooks_.find(id);
  if (found == hooks_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Webhook ", id, " is disabled; enable it first"));
  }
  Hook& hook = *found->second;
  if (hook.pending_pings >= kMaxPendingPings) {
    return absl::ResourceExhaustedError(absl::StrCat("Webhook ", id, " has ", kMaxPendingPings,
                                                     " test deliveries pending; try again later"));
  }
  const absl::Time now = absl::Now();
  while (!hook.pings_accepted.empty() && now - hook.pings_accepted.front() >= absl::Minutes(1)) {
    hook.pings_accepted.pop_front();
  }
  if (hook.pings_accepted.size() >= kMaxPingsPerMinute) {
    return absl::ResourceExhaustedError(absl::StrCat("Webhook ", id, " was tested ",
                                                     kMaxPingsPerMinute,
                                                     " times in the last minute; try again later"));
  }
  hook.pings_accepted.push_back(now);
  ++hook.pending_pings;
  changed_.SignalAll();
  return absl::OkStatus();
}

void WebhookDispatcher::Watch() {
  uint64_t seen;
  {
    absl::MutexLock lock(&mu_);
    seen = head_;
  }
  absl::Time next_reload = absl::Now() + options_.reload_interval;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    // A short wait, so that Stop is noticed soon.
    const uint64_t head = log_->WaitForHeadAbove(seen, absl::Now() + absl::Milliseconds(250));
    if (head > seen) {
      seen = head;
      absl::MutexLock lock(&mu_);
      head_ = std::max(head_, head);
      changed_.SignalAll();
    }
    if (absl::Now() >= next_reload) {
      Reload();
      next_reload = absl::Now() + options_.reload_interval;
    }
  }
}

absl::Time WebhookDispatcher::NextDeadline() const {
  absl::Time next = absl::Now() + absl::Seconds(1);
  for (const auto& [id, hook] : hooks_) {
    if (!hook->busy && hook->cursor < head_) next = std::min(next, hook->due);
  }
  return next;
}

void WebhookDispatcher::Work() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    std::shared_ptr<Hook> chosen;
    bool ping = false;
    absl::flat_hash_map<absl::string_view, int> busy_per_owner;
    for (const auto& [id, hook] : hooks_) {
      if (hook->busy) ++busy_per_owner[hook->row.hook.owner];
    }
    for (const auto& [id, hook] : hooks_) {
      if (hook->busy) continue;
      if (const auto found = busy_per_owner.find(hook->row.hook.owner);
          found != busy_per_owner.end() && found->second >= kMaxBusyPerOwner) {
        continue;
      }
      if (hook->pending_pings > 0) {
        chosen = hook;
        ping = true;
        break;
      }
      // The earliest due first, and among equals (every caught-up hook is
      // due at once) the one served longest ago, so none starves behind
      // the hash map's order.
      if (hook->cursor < head_ && hook->due <= now &&
          (chosen == nullptr || hook->due < chosen->due ||
           (hook->due == chosen->due && hook->served_at < chosen->served_at))) {
        chosen = hook;
      }
    }
    if (chosen == nullptr) {
      changed_.WaitWithDeadline(&mu_, NextDeadline());
      continue;
    }
    chosen->busy = true;
    chosen->served_at = now;
    const ActiveWebhook row = chosen->row;
    const uint64_t cursor = chosen->cursor;
    mu_.Unlock();
    Serve(*chosen, row, cursor, ping);
    mu_.Lock();
    chosen->busy = false;
    changed_.SignalAll();
  }
}

WebhookDispatcher::Attempt WebhookDispatcher::Deliver(const ActiveWebhook& row,
                                                      const std::string& message_id,
                                                      const std::string& body) {
  Attempt attempt;
  attempt.delivery.message_id = message_id;
  const absl::Time start = absl::Now();
  absl::StatusOr<WebhookResponse> response;
  absl::StatusOr<WebhookUrl> url = ParseWebhookUrl(row.hook.url);
  const int64_t timestamp = absl::ToUnixSeconds(start);
  absl::StatusOr<std::string> signature = SignWebhook(row.secret, message_id, timestamp, body);
  if (!url.ok()) {
    response = url.status();
  } else if (!signature.ok()) {
    response = signature.status();
  } else {
    response = client_.Post(*url,
                            {{"webhook-id", message_id},
                             {"webhook-timestamp", absl::StrCat(timestamp)},
                             {"webhook-signature", *signature}},
                            body);
  }
  const absl::Duration latency = absl::Now() - start;
  attempt.delivery.at_us = absl::ToUnixMicros(start);
  attempt.delivery.latency_us = absl::ToInt64Microseconds(latency);
  if (!response.ok()) {
    attempt.outcome = absl::IsPermissionDenied(response.status()) ? "refused" : "error";
    attempt.delivery.error = std::string(response.status().message());
  } else {
    attempt.delivery.status = response->status;
    if (response->status >= 200 && response->status < 300) {
      attempt.outcome = "delivered";
    } else {
      attempt.outcome = "failed";
      attempt.delivery.error =
          response->status >= 300 && response->status < 400
              ? absl::StrCat("HTTP ", response->status,
                             " (redirects are not followed; register the final URL",
                             response->location.empty() ? "" : ": ",
                             response->location.substr(0, 200), ")")
              : absl::StrCat("HTTP ", response->status);
    }
  }
  if (observer_.attempted) observer_.attempted(attempt.outcome, latency);
  return attempt;
}

void WebhookDispatcher::Serve(Hook& hook, const ActiveWebhook& row, uint64_t cursor, bool ping) {
  const int64_t id = row.hook.id;
  if (ping) {
    const std::string message_id =
        absl::StrCat("msg_ping_", id, "_", absl::ToUnixMicros(absl::Now()));
    const std::string body = absl::StrCat(
        "{\"type\":\"webhook.ping\",\"webhook\":", id, ",\"date\":\"",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()), "\"}");
    Attempt attempt = Deliver(row, message_id, body);
    attempt.delivery.type = "webhook.ping";
    attempt.delivery.attempt = 1;
    if (auto conn = pool_->Acquire(); conn.ok()) {
      LogIfFailed(id, "record the ping", RecordWebhookDelivery(**conn, id, attempt.delivery));
    }
    absl::MutexLock lock(&mu_);
    --hook.pending_pings;
    return;
  }

  absl::StatusOr<std::vector<feed::v1::Event>> events =
      log_->ReadAfter(cursor, kReadBatch, size_t{1} << 20, /*include_content=*/false);
  if (!events.ok() || events->empty()) {
    if (!events.ok()) {
      base::LogWarning(absl::StrCat("Webhook ", id, ": reading the log after ", cursor,
                                    " failed: ", events.status().ToString()));
    }
    absl::MutexLock lock(&mu_);
    hook.due = absl::Now() + absl::Seconds(1);
    return;
  }
  const feed::v1::Event* next = nullptr;
  uint64_t skipped_to = cursor;
  for (const feed::v1::Event& event : *events) {
    if (feed::EventMatches(row.hook.filter, event)) {
      next = &event;
      break;
    }
    skipped_to = event.seq();
  }
  if (next == nullptr) {
    auto conn = pool_->Acquire();
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      hook.due = absl::Now() + absl::Seconds(1);
      return;
    }
    LogIfFailed(id, "save the cursor",
                (*conn)
                    ->Exec("UPDATE webhooks SET cursor_seq = $2 WHERE id = $1 AND cursor_seq < $2",
                           PgParams().Int(id).Int(static_cast<int64_t>(skipped_to)))
                    .status());
    absl::MutexLock lock(&mu_);
    hook.cursor = std::max(hook.cursor, skipped_to);
    return;
  }

  int attempt_number;
  {
    absl::MutexLock lock(&mu_);
    if (hook.removed) return;
    if (hook.retrying_seq == 0) {
      // Loaded from its row: its failures were all attempts at this event
      // (a success resets them), so the count goes on across a restart.
      hook.retrying_seq = next->seq();
    } else if (hook.retrying_seq != next->seq()) {
      hook.retrying_seq = next->seq();
      hook.attempts = 0;
    }
    attempt_number = ++hook.attempts;
  }
  const feed::EventJson described = feed::DescribeEvent(*next, *log_);
  const std::string object = feed::CompleteEventJson(described, options_.public_url);
  const std::string body =
      absl::StrCat("{\"type\":\"", EventType(next->kind()), "\",", object.substr(1));
  // Stable per event and hook, so a receiver can drop a retried duplicate.
  const std::string message_id =
      absl::StrCat("msg_", next->epoch().substr(0, 12), "_", next->seq(), "_", id);
  // No pooled connection is held while the receiver answers (it may take
  // --webhook-timeout): the pool is the Manager's and the uploads' too, and
  // describing the event above takes one of its own.
  Attempt attempt = Deliver(row, message_id, body);
  attempt.delivery.seq = next->seq();
  attempt.delivery.type = EventType(next->kind());
  attempt.delivery.attempt = attempt_number;
  auto conn = pool_->Acquire();
  if (!conn.ok()) {
    // Not recorded, and the cursor stays: the event goes again (at least
    // once).
    base::LogWarning(absl::StrCat("Webhook ", id, ": cannot record the attempt at seq ",
                                  next->seq(), ": ", conn.status().ToString()));
    absl::MutexLock lock(&mu_);
    hook.due = absl::Now() + absl::Seconds(1);
    return;
  }
  LogIfFailed(id, "record the attempt", RecordWebhookDelivery(**conn, id, attempt.delivery));

  const absl::Time now = absl::Now();
  if (attempt.ok()) {
    LogIfFailed(id, "save the cursor",
                (*conn)
                    ->Exec("UPDATE webhooks SET cursor_seq = greatest(cursor_seq, $2), "
                           "failures = 0, failing_since = NULL WHERE id = $1",
                           PgParams().Int(id).Int(static_cast<int64_t>(next->seq())))
                    .status());
    absl::MutexLock lock(&mu_);
    hook.cursor = std::max(hook.cursor, next->seq());
    hook.failures = 0;
    hook.failing_since = absl::InfinitePast();
    hook.due = absl::InfinitePast();
    return;
  }
  absl::Time failing_since;
  int failures;
  {
    absl::MutexLock lock(&mu_);
    if (hook.failing_since == absl::InfinitePast()) hook.failing_since = now;
    failures = ++hook.failures;
    failing_since = hook.failing_since;
    hook.cursor = std::max(hook.cursor, skipped_to);
    hook.due = now + RetryDelay(options_.retry, failures, RandomUnit());
  }
  LogIfFailed(id, "save the failure count",
              (*conn)
                  ->Exec("UPDATE webhooks SET cursor_seq = greatest(cursor_seq, $2), failures = $3,"
                         " failing_since = to_timestamp($4::bigint / 1000000.0) WHERE id = $1",
                         PgParams()
                             .Int(id)
                             .Int(static_cast<int64_t>(skipped_to))
                             .Int(failures)
                             .Int(absl::ToUnixMicros(failing_since)))
                  .status());
  if (now - failing_since >= options_.disable_after) {
    conn = absl::UnavailableError("released");  // give the connection back first
    Disable(row, attempt.delivery.error);
    absl::MutexLock lock(&mu_);
    hook.removed = true;
    if (auto found = hooks_.find(id); found != hooks_.end() && found->second.get() == &hook) {
      hooks_.erase(found);
    }
  }
}

void WebhookDispatcher::Disable(const ActiveWebhook& row, const std::string& last_error) {
  auto conn = pool_->Acquire();
  if (!conn.ok()) return;
  const int64_t id = row.hook.id;
  bool disabled = false;
  absl::Status status = (*conn)->Transaction([&]() -> absl::Status {
    auto updated = (*conn)->Exec(
        "UPDATE webhooks SET enabled = false, disabled_at = now() WHERE id = $1 AND enabled",
        PgParams().Int(id));
    if (!updated.ok()) return updated.status();
    disabled = updated->affected() == 1;
    if (!disabled) return absl::OkStatus();
    auto account = (*conn)->Exec("SELECT email FROM users WHERE nickname = $1",
                                 PgParams().Text(row.hook.owner));
    if (!account.ok()) return account.status();
    if (account->rows() == 0) return absl::OkStatus();
    Mail mail;
    mail.to = account->GetString(0, 0);
    mail.subject = "Your PGXN webhook was disabled";
    mail.body = absl::StrCat(
        "Hello ", row.hook.owner, ",\n\nYour webhook ", id, " to\n\n  ", row.hook.url,
        "\n\nhas failed every delivery for ", absl::FormatDuration(options_.disable_after),
        " and was disabled. The last attempt said: ", last_error,
        "\n\nNo event is lost: once the receiver works again, enable the hook with\n\n"
        "  POST ",
        options_.public_url, "/account/webhooks/", id,
        "/enable\n\nand it resumes with the first event it has not delivered.\n");
    return mailer_.Record(**conn, mail);
  });
  if (!status.ok()) {
    base::LogWarning(absl::StrCat("Webhook ", id, " not disabled: ", status.ToString()));
    return;
  }
  if (!disabled) return;
  base::LogWarning(absl::StrCat("Webhook ", id, " of \"", row.hook.owner, "\" disabled after ",
                                absl::FormatDuration(options_.disable_after), " of failures"));
  mailer_.Deliver(**conn);
  if (observer_.disabled) observer_.disabled();
}

}  // namespace pgxn::origin
