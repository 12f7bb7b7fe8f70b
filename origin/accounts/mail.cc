#include "origin/accounts/mail.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/log.h"
#include "origin/pg/command.h"

namespace pgxn::origin {
namespace {

bool HasLineBreak(absl::string_view s) {
  return s.find_first_of("\r\n") != absl::string_view::npos;
}

}  // namespace

absl::Status Mailer::Record(PgConnection& conn, const Mail& mail) const {
  // A line break in a header would let the text add headers of its own.
  if (mail.to.empty() || HasLineBreak(mail.to) || HasLineBreak(mail.subject)) {
    return absl::InvalidArgumentError("Mail recipient or subject contains a line break");
  }
  auto inserted = conn.Exec("INSERT INTO mails (recipient, subject, body) VALUES ($1, $2, $3)",
                            PgParams().Text(mail.to).Text(mail.subject).Text(mail.body));
  return inserted.status();
}

void Mailer::Deliver(PgConnection& conn) const {
  if (options_.sendmail.empty()) return;
  const std::vector<std::string> command =
      absl::StrSplit(options_.sendmail, ' ', absl::SkipEmpty());
  absl::Status status = conn.Transaction([&]() -> absl::Status {
    auto pending = conn.Exec(
        "SELECT id, recipient, subject, body FROM mails WHERE sent_at IS NULL AND error IS NULL"
        " ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED");
    if (!pending.ok()) return pending.status();
    for (int row = 0; row < pending->rows(); ++row) {
      const std::string message =
          absl::StrCat("From: ", options_.from, "\nTo: ", pending->Get(row, 1),
                       "\nSubject: ", pending->Get(row, 2),
                       "\nContent-Type: text/plain; charset=utf-8\n\n", pending->Get(row, 3));
      absl::StatusOr<CommandResult> sent = RunCommand(command, message);
      std::string error;
      if (!sent.ok()) {
        error = std::string(sent.status().message());
      } else if (sent->exit_code != 0) {
        error = absl::StrCat(command[0], " exited with ", sent->exit_code, ": ", sent->output);
      }
      if (!error.empty())
        base::LogWarning(absl::StrCat("Mail ", pending->GetInt(row, 0), " not delivered: ", error));
      auto marked = conn.Exec(error.empty() ? "UPDATE mails SET sent_at = now() WHERE id = $1"
                                            : "UPDATE mails SET error = $2 WHERE id = $1",
                              error.empty() ? PgParams().Int(pending->GetInt(row, 0))
                                            : PgParams().Int(pending->GetInt(row, 0)).Text(error));
      if (!marked.ok()) return marked.status();
    }
    return absl::OkStatus();
  });
  if (!status.ok()) base::LogWarning(absl::StrCat("Mail delivery: ", status.message()));
}

absl::StatusOr<std::vector<StoredMail>> ListMails(PgConnection& conn, int64_t limit) {
  auto rows =
      conn.Exec(absl::StrCat("SELECT id, ", MicrosSql("created_at"),
                             ", recipient, subject, body, sent_at IS NOT NULL, coalesce(error, '')"
                             " FROM mails ORDER BY id DESC LIMIT $1"),
                PgParams().Int(limit));
  if (!rows.ok()) return rows.status();
  std::vector<StoredMail> mails;
  for (int row = 0; row < rows->rows(); ++row) {
    StoredMail mail;
    mail.id = rows->GetInt(row, 0);
    mail.created_at_us = rows->GetInt(row, 1);
    mail.mail = Mail{rows->GetString(row, 2), rows->GetString(row, 3), rows->GetString(row, 4)};
    mail.sent = rows->GetBool(row, 5);
    mail.error = rows->GetString(row, 6);
    mails.push_back(std::move(mail));
  }
  return mails;
}

}  // namespace pgxn::origin
