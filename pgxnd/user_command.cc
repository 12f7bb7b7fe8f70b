// pgxnd user: account administration on an origin's database, whether or not
// the origin is running (see origin/origin_database.h).
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "origin/accounts/accounts.h"
#include "origin/catalog/tree_render.h"
#include "origin/origin_database.h"
#include "origin/publishing/settings.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"

namespace pgxn::cli {
namespace {

constexpr char kUsage[] =
    "Usage: pgxnd user COMMAND --data-dir DIR [flags]\n"
    "\n"
    "Commands:\n"
    "  add NICK --email E --name N --password-stdin [--admin]   create an active account\n"
    "  list [--status S] [--json]                               list accounts\n"
    "  set-status NICK STATUS                  activate (active), suspend (inactive) or\n"
    "                                          reject (deleted) an account\n"
    "  set-admin NICK true|false               grant or revoke administration\n"
    "  reset-password NICK [--password-stdin]  set a password, or mail a reset link\n"
    "\n"
    "Run 'pgxnd user COMMAND --help' for a command's flags.\n";

// The flags every user command takes.
struct Common {
  origin::OriginDatabaseOptions db;
  std::string public_url;
};

void AddCommonFlags(FlagSet& flags, Common* common) {
  flags.String("data-dir", &common->db.data_dir, "the origin's data directory (required)");
  flags.String("postgres", &common->db.postgres_dsn,
               "libpq connection string, when the origin uses an external PostgreSQL");
}

std::string ReadPassword() {
  std::string password(std::istreambuf_iterator<char>(std::cin), {});
  absl::string_view trimmed = password;
  absl::ConsumeSuffix(&trimmed, "\n");
  absl::ConsumeSuffix(&trimmed, "\r");
  return std::string(trimmed);
}

// Opens the database and a connection; on failure prints why and sets *exit_code.
struct Session {
  std::unique_ptr<origin::OriginDatabase> db;
  std::unique_ptr<origin::PgConnection> conn;
};

absl::StatusOr<Session> Open(const Common& common) {
  absl::StatusOr<std::unique_ptr<origin::OriginDatabase>> db =
      origin::OriginDatabase::Open(common.db);
  if (!db.ok()) return db.status();
  absl::StatusOr<std::unique_ptr<origin::PgConnection>> conn =
      origin::PgConnection::Connect((*db)->dsn());
  if (!conn.ok()) return conn.status();
  return Session{*std::move(db), *std::move(conn)};
}

// Links in mail use the URL the origin recorded when it last ran.
origin::Links LinksFor(origin::PgConnection& conn, const std::string& flag) {
  if (!flag.empty()) return origin::Links{flag};
  absl::StatusOr<std::string> recorded = origin::GetSetting(conn, origin::Setting::kPublicUrl);
  return origin::Links{recorded.ok() ? *recorded : "http://127.0.0.1:7000"};
}

int RunAdd(const std::vector<std::string>& args) {
  Common common;
  origin::NewAccount account;
  bool password_stdin = false;
  FlagSet flags("pgxnd user add",
                "--data-dir DIR NICKNAME --email EMAIL --name NAME --password-stdin [flags]",
                "Creates an active account on the origin whose data directory is DIR and\n"
                "publishes its user/NICKNAME.json. The password is read from standard input\n"
                "(a trailing newline is dropped) so it never appears in the process list.");
  AddCommonFlags(flags, &common);
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
  if (common.db.data_dir.empty()) return UsageError("pgxnd user add: --data-dir is required");
  if (account.email.empty()) return UsageError("pgxnd user add: --email is required");
  if (account.full_name.empty()) return UsageError("pgxnd user add: --name is required");
  if (!password_stdin) return UsageError("pgxnd user add: --password-stdin is required");
  account.password = ReadPassword();

  absl::StatusOr<Session> session = Open(common);
  if (!session.ok()) return Fail(session.status());
  absl::StatusOr<feed::v1::Event> event =
      origin::CreateActiveAccount(*session->conn, account, session->db->publishing());
  if (!event.ok()) return Fail(event.status());
  std::cout << "Created user " << account.nickname << " (event " << event->seq() << ")"
            << std::endl;
  return kExitOk;
}

int RunList(const std::vector<std::string>& args) {
  Common common;
  std::string status;
  bool json = false;
  FlagSet flags("pgxnd user list", "--data-dir DIR [--status STATUS] [--json]",
                "Lists the origin's accounts, oldest first: nickname, status, admin, email,\n"
                "name (and, for new accounts, why they asked).");
  AddCommonFlags(flags, &common);
  flags.String("status", &status,
               "only accounts with this status (new, active, inactive, deleted)");
  flags.Bool("json", &json, "print a JSON array instead of a table");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd user list takes no arguments");
  if (common.db.data_dir.empty()) return UsageError("pgxnd user list: --data-dir is required");
  absl::StatusOr<Session> session = Open(common);
  if (!session.ok()) return Fail(session.status());
  absl::optional<origin::AccountStatus> only;
  if (!status.empty()) {
    absl::StatusOr<origin::AccountStatus> parsed = origin::ParseAccountStatus(status);
    if (!parsed.ok())
      return UsageError(absl::StrCat("pgxnd user list: ", parsed.status().message()));
    only = *parsed;
  }
  absl::StatusOr<std::vector<origin::Account>> accounts =
      origin::ListAccounts(*session->conn, only);
  if (!accounts.ok()) return Fail(accounts.status());
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const origin::Account& a : *accounts) {
      list.push_back({{"nickname", a.nickname},
                      {"status", origin::AccountStatusName(a.status)},
                      {"is_admin", a.is_admin},
                      {"email", a.email},
                      {"full_name", a.full_name},
                      {"uri", a.uri},
                      {"twitter", a.twitter},
                      {"why", a.why},
                      {"created_at", origin::FormatDate(a.created_at_us)}});
    }
    std::cout << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    return kExitOk;
  }
  for (const origin::Account& a : *accounts) {
    std::cout << a.nickname << "\t" << origin::AccountStatusName(a.status)
              << (a.is_admin ? "\tadmin" : "\t-") << "\t" << a.email << "\t" << a.full_name;
    if (a.status == origin::AccountStatus::kNew) std::cout << "\t" << a.why;
    std::cout << "\n";
  }
  return kExitOk;
}

int RunSetStatus(const std::vector<std::string>& args) {
  Common common;
  FlagSet flags("pgxnd user set-status", "--data-dir DIR NICKNAME active|inactive|deleted",
                "Sets an account's status, as an administrator moderating it would. Activating\n"
                "publishes user/NICKNAME.json and, when the account has no password yet, mails\n"
                "a link to set one (see pgxnd mail list).");
  AddCommonFlags(flags, &common);
  flags.String("public-url", &common.public_url,
               "base URL for the link in mail (default: the one the origin recorded)");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (positional->size() != 2) return UsageError("pgxnd user set-status: give NICKNAME STATUS");
  if (common.db.data_dir.empty())
    return UsageError("pgxnd user set-status: --data-dir is required");
  absl::StatusOr<Session> session = Open(common);
  if (!session.ok()) return Fail(session.status());
  origin::Mailer mailer{origin::MailOptions{}};
  absl::StatusOr<origin::AccountStatus> new_status =
      origin::ParseModerationStatus((*positional)[1]);
  if (!new_status.ok()) return Fail(new_status.status());
  absl::Status status = origin::SetAccountStatus(
      *session->conn, "", (*positional)[0], *new_status, mailer,
      LinksFor(*session->conn, common.public_url), session->db->publishing());
  if (!status.ok()) return Fail(status);
  std::cout << "User " << (*positional)[0] << " is " << (*positional)[1] << std::endl;
  return kExitOk;
}

int RunSetAdmin(const std::vector<std::string>& args) {
  Common common;
  FlagSet flags("pgxnd user set-admin", "--data-dir DIR NICKNAME true|false",
                "Grants or revokes administration of the Manager.");
  AddCommonFlags(flags, &common);
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  bool admin = false;
  if (positional->size() != 2 || !absl::SimpleAtob((*positional)[1], &admin)) {
    return UsageError("pgxnd user set-admin: give NICKNAME true|false");
  }
  if (common.db.data_dir.empty()) return UsageError("pgxnd user set-admin: --data-dir is required");
  absl::StatusOr<Session> session = Open(common);
  if (!session.ok()) return Fail(session.status());
  if (absl::Status s = origin::SetAdmin(*session->conn, (*positional)[0], admin); !s.ok()) {
    return Fail(s);
  }
  std::cout << "User " << (*positional)[0] << (admin ? " is" : " is not") << " an administrator"
            << std::endl;
  return kExitOk;
}

int RunResetPassword(const std::vector<std::string>& args) {
  Common common;
  bool password_stdin = false;
  FlagSet flags("pgxnd user reset-password", "--data-dir DIR NICKNAME [--password-stdin]",
                "With --password-stdin, sets the account's password to what standard input\n"
                "holds. Without it, creates a link to set one (valid 24 hours), records it as\n"
                "mail to the account (see pgxnd mail list) and prints it.");
  AddCommonFlags(flags, &common);
  flags.Bool("password-stdin", &password_stdin, "read the new password from standard input");
  flags.String("public-url", &common.public_url,
               "base URL for the link (default: the one the origin recorded)");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (positional->size() != 1) return UsageError("pgxnd user reset-password: give one NICKNAME");
  if (common.db.data_dir.empty()) {
    return UsageError("pgxnd user reset-password: --data-dir is required");
  }
  const std::string password = password_stdin ? ReadPassword() : "";
  absl::StatusOr<Session> session = Open(common);
  if (!session.ok()) return Fail(session.status());
  origin::PgConnection& conn = *session->conn;
  if (password_stdin) {
    if (absl::Status s = origin::SetPassword(conn, (*positional)[0], password); !s.ok()) {
      return Fail(s);
    }
    std::cout << "Password of " << (*positional)[0] << " set" << std::endl;
    return kExitOk;
  }
  absl::StatusOr<origin::Account> account = origin::GetAccount(conn, (*positional)[0]);
  if (!account.ok()) return Fail(account.status());
  absl::StatusOr<std::string> token =
      origin::IssuePasswordToken(conn, account->nickname, origin::kPasswordTokenLifetime);
  if (!token.ok()) return Fail(token.status());
  const std::string url = LinksFor(conn, common.public_url).ResetUrl(*token);
  origin::Mailer mailer{origin::MailOptions{}};
  if (absl::Status s = mailer.Record(
          conn, origin::Mail{account->email, "Reset your PGXN password",
                             absl::StrCat("Set a new password for \"", account->nickname,
                                          "\" here (valid 24 hours):"
                                          "\n\n  ",
                                          url, "\n")});
      !s.ok()) {
    return Fail(s);
  }
  std::cout << url << std::endl;
  return kExitOk;
}

}  // namespace

int RunUserCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "add") return RunAdd(rest);
  if (args[0] == "list") return RunList(rest);
  if (args[0] == "set-status") return RunSetStatus(rest);
  if (args[0] == "set-admin") return RunSetAdmin(rest);
  if (args[0] == "reset-password") return RunResetPassword(rest);
  return UsageError(absl::StrCat("Unknown command 'pgxnd user ", args[0], "'\n", kUsage));
}

}  // namespace pgxn::cli
