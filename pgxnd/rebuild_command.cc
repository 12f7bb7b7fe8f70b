// pgxnd origin rebuild: the consistency check of an origin's tree against its
// relational rows (origin/rebuild.h), whether or not the origin is running
// (see origin/origin_database.h). Prints one line per difference on stdout
// and a summary on stderr; exits 0 when the tree is what the rows say, 1
// otherwise. With --fix, publishes the corrections as one `meta` event first.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "origin/origin_database.h"
#include "origin/rebuild.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"

namespace pgxn::cli {

int RunOriginRebuildCommand(const std::vector<std::string>& args) {
  origin::OriginDatabaseOptions db_options;
  // A check must see the tree as it is, not as the origin would refresh it.
  db_options.publish_meta_files = false;
  bool fix = false;
  FlagSet flags("pgxnd origin rebuild", "--data-dir DIR [flags]",
                "Renders every file of the origin's tree from its relational rows and reports\n"
                "each difference from the stored tree, one line each: \"missing PATH\",\n"
                "\"extra PATH\" or \"different PATH: WHY\". Release archives are not in the\n"
                "rows: each must be stored intact with the release's sha256. Exits 0 when\n"
                "there is no difference, 1 otherwise. Works whether or not the origin runs.");
  flags.String("data-dir", &db_options.data_dir, "the origin's data directory (required)");
  flags.String("postgres", &db_options.postgres_dsn,
               "libpq connection string, when the origin uses an external PostgreSQL");
  flags.Bool("fix", &fix,
             "publish a meta event that makes the tree match the rows (archives cannot be "
             "restored), then report what still differs");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd origin rebuild takes no arguments");
  if (db_options.data_dir.empty())
    return UsageError("pgxnd origin rebuild: --data-dir is required");

  absl::StatusOr<std::unique_ptr<origin::OriginDatabase>> db =
      origin::OriginDatabase::Open(db_options);
  if (!db.ok()) return Fail(db.status());
  absl::StatusOr<std::unique_ptr<origin::PgConnection>> conn =
      origin::PgConnection::Connect((*db)->dsn());
  if (!conn.ok()) return Fail(conn.status());

  absl::StatusOr<origin::TreeCheck> check = origin::CheckTree(**conn);
  if (!check.ok()) return Fail(check.status());
  for (const origin::TreeDifference& difference : check->differences) {
    std::cout << origin::FormatDifference(difference) << "\n";
  }
  std::cout.flush();
  std::cerr << check->files_expected << " files expected, " << check->differences.size()
            << " differences" << std::endl;
  if (!check->pending.empty()) {
    std::cerr << check->pending.size()
              << " tag or user files pending publication (the origin publishes them within "
                 "--aggregate-delay; not differences)"
              << std::endl;
  }
  if (!fix || check->differences.empty()) {
    return check->differences.empty() ? kExitOk : kExitFailure;
  }

  std::vector<origin::TreeDifference> remaining;
  absl::StatusOr<feed::v1::Event> event =
      origin::FixTree(**conn, "pgxnd origin rebuild", &remaining, (*db)->publishing());
  if (!event.ok()) return Fail(event.status());
  if (event->seq() > 0) {
    std::cerr << "Published the corrections as event " << event->seq() << " (" << event->ops_size()
              << " files)" << std::endl;
  }
  if (remaining.empty()) {
    std::cerr << "The tree now matches the rows" << std::endl;
    return kExitOk;
  }
  std::cerr << "Still different after fixing:" << std::endl;
  for (const origin::TreeDifference& difference : remaining) {
    std::cout << origin::FormatDifference(difference) << "\n";
  }
  std::cout.flush();
  return kExitFailure;
}

}  // namespace pgxn::cli
