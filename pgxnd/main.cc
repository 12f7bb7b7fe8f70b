// pgxnd: one binary for every role of the network (docs/architecture.md §6).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "host/node_status.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"

namespace {

constexpr char kUsage[] =
    "Usage: pgxnd COMMAND [flags]\n"
    "\n"
    "Commands:\n"
    "  origin    run the origin: the Manager on PostgreSQL, the feed and the tree;\n"
    "            'origin rebuild', 'origin backup', 'origin restore' maintain one\n"
    "  mirror    follow a feed, keep a verified copy of the tree, serve and relay it\n"
    "  indexer   a mirror that also serves PGXN's API: search, docs, enriched JSON\n"
    "  tail      print a node's release feed as JSON lines\n"
    "  export    write a mirror's tree as plain files, for rsync and web servers\n"
    "  user      manage accounts on an origin (add, list, set-status, set-admin,\n"
    "            reset-password)\n"
    "  mail      list the mail an origin recorded\n"
    "  version   print the version\n"
    "\n"
    "Run 'pgxnd COMMAND --help' for a command's flags. Each takes them from a file\n"
    "too, one a line: --flagfile FILE (the systemd units use /etc/pgxnd/ROLE.flags).\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace pgxn::cli;
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  // Debian's abseil checks every Mutex acquisition for lock-order cycles
  // (a graph lookup per lock: 1-2% of a mirror's CPU per small request).
  // Unit tests keep the check, and so do the nodes the multi-process tests
  // start (tests/support/process.cc sets PGXN_LOCK_ORDER_CHECK); a node in
  // service does not pay it.
  if (std::getenv("PGXN_LOCK_ORDER_CHECK") == nullptr) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "origin") return RunOriginCommand(args);
  if (command == "mirror") return RunMirrorCommand(args);
  if (command == "indexer") return RunIndexerCommand(args);
  if (command == "tail") return RunTailCommand(args);
  if (command == "export") return RunExportCommand(args);
  if (command == "user") return RunUserCommand(args);
  if (command == "mail") return RunMailCommand(args);
  if (command == "version" || command == "--version") {
    std::cout << "pgxnd " << pgxn::host::kVersion << "\n";
    return kExitOk;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage;
    return kExitOk;
  }
  std::cerr << "pgxnd: unknown command '" << command << "'\n\n" << kUsage;
  return kExitUsage;
}
