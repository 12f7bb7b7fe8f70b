// pgxnd user: account administration on an origin's database, whether or not
// the origin is running (see origin/origin_database.h).
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "origin/accounts.h"
#include "origin/origin_database.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"

namespace pgxn::cli {
namespace {

int RunUserAdd(const std::vector<std::string>& args) {
  origin::OriginDatabaseOptions db_options;
  origin::NewAccount account;
  bool password_stdin = false;
  FlagSet flags("pgxnd user add",
                "--data-dir DIR NICKNAME --email EMAIL --name NAME "
                "--password-stdin [flags]",
                "Creates an active account on the origin whose data directory is DIR and\n"
                "publishes its user/NICKNAME.json. The password is read from standard input\n"
                "(a trailing newline is dropped) so it never appears in the process list.");
  flags.String("data-dir", &db_options.data_dir, "the origin's data directory (required)");
  flags.String("postgres", &db_options.postgres_dsn,
               "libpq connection string, when the origin uses an external PostgreSQL");
  flags.String("email", &account.email, "email address (required)");
  flags.String("name", &account.full_name, "full name (required)");
  flags.String("uri", &account.uri, "home page URL");
  flags.String("twitter", &account.twitter, "Twitter handle");
  flags.Bool("admin", &account.admin, "make the account an administrator");
  flags.Bool("password-stdin", &password_stdin, "read the password from standard input (required)");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (positional->size() != 1) return UsageError("pgxnd user add: give exactly one NICKNAME");
  account.nickname = (*positional)[0];
  if (db_options.data_dir.empty()) return UsageError("pgxnd user add: --data-dir is required");
  if (account.email.empty()) return UsageError("pgxnd user add: --email is required");
  if (account.full_name.empty()) return UsageError("pgxnd user add: --name is required");
  if (!password_stdin) return UsageError("pgxnd user add: --password-stdin is required");
  std::string password(std::istreambuf_iterator<char>(std::cin), {});
  absl::string_view trimmed = password;
  absl::ConsumeSuffix(&trimmed, "\n");
  absl::ConsumeSuffix(&trimmed, "\r");
  account.password = std::string(trimmed);

  absl::StatusOr<std::unique_ptr<origin::OriginDatabase>> db =
      origin::OriginDatabase::Open(db_options);
  if (!db.ok()) return Fail(db.status());
  absl::StatusOr<std::unique_ptr<origin::PgConnection>> conn =
      origin::PgConnection::Connect((*db)->dsn());
  if (!conn.ok()) return Fail(conn.status());
  absl::StatusOr<feed::v1::Event> event = origin::CreateActiveAccount(**conn, account);
  if (!event.ok()) return Fail(event.status());
  std::cout << "Created user " << account.nickname << " (event " << event->seq() << ")"
            << std::endl;
  return kExitOk;
}

}  // namespace

int RunUserCommand(const std::vector<std::string>& args) {
  const std::string usage =
      "Usage: pgxnd user add --data-dir DIR NICKNAME --email EMAIL --name NAME --password-stdin\n"
      "Run 'pgxnd user add --help' for details.\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "add") return RunUserAdd(std::vector<std::string>(args.begin() + 1, args.end()));
  return UsageError(absl::StrCat("Unknown command 'pgxnd user ", args[0], "'\n", usage));
}

}  // namespace pgxn::cli
