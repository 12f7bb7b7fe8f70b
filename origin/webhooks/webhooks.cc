#include "origin/webhooks/webhooks.h"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "origin/webhooks/signature.h"
#include "origin/webhooks/target.h"

namespace pgxn::origin {
namespace {

constexpr char kColumns[] =
    "id, owner, url, array_to_json(kinds)::text, array_to_json(dists)::text,"
    " array_to_json(users)::text, array_to_json(tags)::text,"
    " (extract(epoch from created_at) * 1000000)::bigint, cursor_seq, enabled,"
    " coalesce((extract(epoch from disabled_at) * 1000000)::bigint, 0), failures,"
    " coalesce((extract(epoch from failing_since) * 1000000)::bigint, 0), secret";

std::vector<std::string> JsonList(absl::string_view text) {
  std::vector<std::string> out;
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& value : parsed) {
    if (value.is_string()) out.push_back(value.get<std::string>());
  }
  return out;
}

Webhook RowToWebhook(const PgResult& r, int row) {
  Webhook hook;
  hook.id = r.GetInt(row, 0);
  hook.owner = r.GetString(row, 1);
  hook.url = r.GetString(row, 2);
  hook.filter.kinds = JsonList(r.Get(row, 3));
  hook.filter.dists = JsonList(r.Get(row, 4));
  hook.filter.users = JsonList(r.Get(row, 5));
  hook.filter.tags = JsonList(r.Get(row, 6));
  hook.created_at_us = r.GetInt(row, 7);
  hook.cursor_seq = static_cast<uint64_t>(r.GetInt(row, 8));
  hook.enabled = r.GetBool(row, 9);
  hook.disabled_at_us = r.GetInt(row, 10);
  hook.failures = static_cast<int>(r.GetInt(row, 11));
  hook.failing_since_us = r.GetInt(row, 12);
  return hook;
}

absl::Status CheckLiteral(const WebhookUrl& url, const WebhookRules& rules) {
  if (rules.allow_private) return absl::OkStatus();
  unsigned char bytes[16];
  std::string kind;
  if (inet_pton(AF_INET, url.host.c_str(), bytes) == 1) {
    kind = ClassifyAddress(absl::string_view(reinterpret_cast<char*>(bytes), 4));
  } else if (inet_pton(AF_INET6, url.host.c_str(), bytes) == 1) {
    kind = ClassifyAddress(absl::string_view(reinterpret_cast<char*>(bytes), 16));
  } else {
    return absl::OkStatus();  // a name: checked at each delivery, on what it resolves to
  }
  if (kind == "public") return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("Invalid webhook URL: ", url.host, " is a ", kind,
                                                 " address; webhooks go to public addresses only"));
}

}  // namespace

absl::StatusOr<NewWebhook> CreateWebhook(PgConnection& conn, const std::string& owner,
                                         const std::string& url, const feed::EventFilter& filter,
                                         const WebhookRules& rules) {
  absl::StatusOr<WebhookUrl> parsed = ParseWebhookUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (absl::Status s = CheckLiteral(*parsed, rules); !s.ok()) return s;
  if (absl::Status s = feed::ValidateEventFilter(filter); !s.ok()) return s;
  // The dispatcher keeps every hook's filter in memory and matches each
  // event against it: bounded like GET /feed's.
  for (const auto* values : {&filter.kinds, &filter.dists, &filter.users, &filter.tags}) {
    if (values->size() > kMaxFilterValues) {
      return absl::InvalidArgumentError(
          absl::StrCat("Too many values for one filter: at most ", kMaxFilterValues));
    }
    for (const std::string& value : *values) {
      if (value.size() > kMaxFilterValueBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "A filter value is too long: at most ", kMaxFilterValueBytes, " bytes"));
      }
    }
  }
  NewWebhook created;
  created.secret = GenerateWebhookSecret();
  absl::Status status = conn.Transaction([&]() -> absl::Status {
    // The owner's row, locked, serialises concurrent registrations of one
    // account against the cap.
    auto lock =
        conn.Exec("SELECT 1 FROM users WHERE nickname = $1 FOR UPDATE", PgParams().Text(owner));
    if (!lock.ok()) return lock.status();
    auto count =
        conn.Exec("SELECT count(*) FROM webhooks WHERE owner = $1", PgParams().Text(owner));
    if (!count.ok()) return count.status();
    if (count->GetInt(0, 0) >= rules.max_per_account) {
      return absl::FailedPreconditionError(
          absl::StrCat("Account \"", owner, "\" has ", rules.max_per_account,
                       " webhooks, the most allowed; delete one first"));
    }
    auto inserted = conn.Exec(
        absl::StrCat("INSERT INTO webhooks (owner, url, secret, kinds, dists, users, tags,"
                     " cursor_seq) SELECT $1, $2, $3, $4, $5, $6, $7, seq FROM feed_head"
                     " RETURNING ",
                     kColumns),
        PgParams()
            .Text(owner)
            .Text(url)
            .Text(created.secret)
            .TextArray(filter.kinds)
            .TextArray(filter.dists)
            .TextArray(filter.users)
            .TextArray(filter.tags));
    if (!inserted.ok()) return inserted.status();
    created.hook = RowToWebhook(*inserted, 0);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<std::vector<Webhook>> ListWebhooks(PgConnection& conn, const std::string& owner,
                                                  int deliveries) {
  auto rows =
      conn.Exec(absl::StrCat("SELECT ", kColumns, " FROM webhooks WHERE owner = $1 ORDER BY id"),
                PgParams().Text(owner));
  if (!rows.ok()) return rows.status();
  std::vector<Webhook> hooks;
  for (int i = 0; i < rows->rows(); ++i) {
    Webhook hook = RowToWebhook(*rows, i);
    auto recent = conn.Exec(
        "SELECT (extract(epoch from at) * 1000000)::bigint, message_id, seq, type, attempt,"
        " coalesce(status, 0), latency_us, error FROM webhook_deliveries"
        " WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
        PgParams().Int(hook.id).Int(deliveries));
    if (!recent.ok()) return recent.status();
    for (int j = 0; j < recent->rows(); ++j) {
      WebhookDelivery d;
      d.at_us = recent->GetInt(j, 0);
      d.message_id = recent->GetString(j, 1);
      d.seq = static_cast<uint64_t>(recent->GetInt(j, 2));
      d.type = recent->GetString(j, 3);
      d.attempt = static_cast<int>(recent->GetInt(j, 4));
      d.status = static_cast<int>(recent->GetInt(j, 5));
      d.latency_us = recent->GetInt(j, 6);
      d.error = recent->GetString(j, 7);
      hook.deliveries.push_back(std::move(d));
    }
    hooks.push_back(std::move(hook));
  }
  return hooks;
}

namespace {

absl::Status NoSuchWebhook(const std::string& owner, int64_t id) {
  return absl::NotFoundError(absl::StrCat("No webhook ", id, " of account \"", owner, "\""));
}

}  // namespace

absl::Status DeleteWebhook(PgConnection& conn, const std::string& owner, int64_t id) {
  auto deleted = conn.Exec("DELETE FROM webhooks WHERE id = $1 AND owner = $2",
                           PgParams().Int(id).Text(owner));
  if (!deleted.ok()) return deleted.status();
  if (deleted->affected() == 0) {
    return NoSuchWebhook(owner, id);
  }
  return absl::OkStatus();
}

absl::Status EnableWebhook(PgConnection& conn, const std::string& owner, int64_t id) {
  // Only a disabled hook: the dispatcher keeps an enabled one's failures in
  // memory, and they would be written back over a reset here.
  auto updated = conn.Exec(
      "UPDATE webhooks SET enabled = true, disabled_at = NULL, failures = 0,"
      " failing_since = NULL WHERE id = $1 AND owner = $2 AND NOT enabled",
      PgParams().Int(id).Text(owner));
  if (!updated.ok()) return updated.status();
  if (updated->affected() == 0) {
    if (absl::Status owned = CheckWebhookOwner(conn, owner, id); !owned.ok()) return owned;
    return absl::FailedPreconditionError(absl::StrCat("Webhook ", id, " is enabled already"));
  }
  return absl::OkStatus();
}

absl::Status CheckWebhookOwner(PgConnection& conn, const std::string& owner, int64_t id) {
  auto found = conn.Exec("SELECT 1 FROM webhooks WHERE id = $1 AND owner = $2",
                         PgParams().Int(id).Text(owner));
  if (!found.ok()) return found.status();
  if (found->rows() == 0) {
    return NoSuchWebhook(owner, id);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ActiveWebhook>> LoadEnabledWebhooks(PgConnection& conn) {
  auto rows =
      conn.Exec(absl::StrCat("SELECT ", kColumns, " FROM webhooks WHERE enabled ORDER BY id"));
  if (!rows.ok()) return rows.status();
  std::vector<ActiveWebhook> hooks;
  for (int i = 0; i < rows->rows(); ++i) {
    hooks.push_back(ActiveWebhook{RowToWebhook(*rows, i), rows->GetString(i, 13)});
  }
  return hooks;
}

absl::Status RecordWebhookDelivery(PgConnection& conn, int64_t id, const WebhookDelivery& d) {
  auto inserted = conn.Exec(
      "INSERT INTO webhook_deliveries (webhook_id, message_id, seq, type, attempt, status,"
      " latency_us, error) VALUES ($1, $2, $3, $4, $5, nullif($6, 0), $7, $8)",
      PgParams()
          .Int(id)
          .Text(d.message_id)
          .Int(static_cast<int64_t>(d.seq))
          .Text(d.type)
          .Int(d.attempt)
          .Int(d.status)
          .Int(d.latency_us)
          .Text(d.error));
  if (!inserted.ok()) return inserted.status();
  auto pruned = conn.Exec(
      "DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND id <= (SELECT id FROM"
      " webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)",
      PgParams().Int(id).Int(kKeptDeliveries));
  return pruned.status();
}

}  // namespace pgxn::origin
