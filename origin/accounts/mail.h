// The mail the origin sends (registration notices to admins, password links).
// Every message is recorded in the `mails` table inside the transaction that
// causes it, so a rolled-back change sends nothing and a small instance works
// without a mail server (`pgxnd mail list` shows the messages). With a
// sendmail-compatible command configured, recorded messages are then handed
// to it after commit and marked sent or failed.
//
// Thread-safe: Record runs on the caller's connection; Deliver may run
// concurrently (rows are claimed with FOR UPDATE SKIP LOCKED).
#ifndef PGXN_ORIGIN_ACCOUNTS_MAIL_H_
#define PGXN_ORIGIN_ACCOUNTS_MAIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

struct Mail {
  std::string to;
  std::string subject;
  std::string body;
};

struct StoredMail {
  int64_t id = 0;
  int64_t created_at_us = 0;
  Mail mail;
  bool sent = false;
  std::string error;
};

struct MailOptions {
  // A sendmail-compatible command line, split on spaces, that reads a whole
  // message with headers on stdin (e.g. "/usr/sbin/sendmail -t -i"). Empty:
  // record only.
  std::string sendmail;
  std::string from = "PGXN <pgxn@localhost>";
};

class Mailer {
 public:
  explicit Mailer(MailOptions options) : options_(std::move(options)) {}

  // Records `mail` on `conn` (use the connection of the transaction that
  // causes it). InvalidArgument for a recipient or subject with a line break.
  absl::Status Record(PgConnection& conn, const Mail& mail) const;

  // Hands every recorded, undelivered message to the sendmail command and
  // marks it sent or failed (with the command's output). No-op without one.
  void Deliver(PgConnection& conn) const;

 private:
  const MailOptions options_;
};

// The most recent `limit` messages, newest first.
absl::StatusOr<std::vector<StoredMail>> ListMails(PgConnection& conn, int64_t limit);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_ACCOUNTS_MAIL_H_
