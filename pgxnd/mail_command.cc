// pgxnd mail: the mail an origin recorded (registration notices, password
// links), so a small instance works without a mail server.
#include <iostream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "origin/accounts/mail.h"
#include "origin/catalog/tree_render.h"
#include "origin/origin_database.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"

namespace pgxn::cli {
namespace {

int RunList(const std::vector<std::string>& args) {
  origin::OriginDatabaseOptions db_options;
  uint64_t limit = 20;
  bool json = false;
  FlagSet flags("pgxnd mail list", "--data-dir DIR [--limit N] [--json]",
                "Prints the newest mail the origin recorded, newest first, with whether it was\n"
                "handed to the --sendmail command.");
  flags.String("data-dir", &db_options.data_dir, "the origin's data directory (required)");
  flags.String("postgres", &db_options.postgres_dsn,
               "libpq connection string, when the origin uses an external PostgreSQL");
  flags.Uint64("limit", &limit, "how many messages");
  flags.Bool("json", &json, "print a JSON array");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd mail list takes no arguments");
  if (db_options.data_dir.empty()) return UsageError("pgxnd mail list: --data-dir is required");
  absl::StatusOr<std::unique_ptr<origin::OriginDatabase>> db =
      origin::OriginDatabase::Open(db_options);
  if (!db.ok()) return Fail(db.status());
  absl::StatusOr<std::unique_ptr<origin::PgConnection>> conn =
      origin::PgConnection::Connect((*db)->dsn());
  if (!conn.ok()) return Fail(conn.status());
  absl::StatusOr<std::vector<origin::StoredMail>> mails =
      origin::ListMails(**conn, static_cast<int64_t>(std::min<uint64_t>(limit, 100000)));
  if (!mails.ok()) return Fail(mails.status());
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const origin::StoredMail& m : *mails) {
      list.push_back({{"id", m.id},
                      {"date", origin::FormatDate(m.created_at_us)},
                      {"to", m.mail.to},
                      {"subject", m.mail.subject},
                      {"body", m.mail.body},
                      {"sent", m.sent},
                      {"error", m.error}});
    }
    std::cout << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    return kExitOk;
  }
  for (const origin::StoredMail& m : *mails) {
    std::cout << "#" << m.id << " " << origin::FormatDate(m.created_at_us) << " to " << m.mail.to
              << (m.sent            ? " (sent)"
                  : m.error.empty() ? " (recorded)"
                                    : " (failed: " + m.error + ")")
              << "\nSubject: " << m.mail.subject << "\n\n"
              << m.mail.body << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunMailCommand(const std::vector<std::string>& args) {
  const std::string usage = "Usage: pgxnd mail list --data-dir DIR [--limit N] [--json]\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "list") return RunList(std::vector<std::string>(args.begin() + 1, args.end()));
  return UsageError(absl::StrCat("Unknown command 'pgxnd mail ", args[0], "'\n", usage));
}

}  // namespace pgxn::cli
