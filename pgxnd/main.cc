// pgxnd: one binary for every role of the network (docs/architecture.md §6).
#include <iostream>
#include <string>
#include <vector>

#include "host/node_status.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"

namespace {

constexpr char kUsage[] =
    "Usage: pgxnd COMMAND [flags]\n"
    "\n"
    "Commands:\n"
    "  origin    run the origin: the Manager on PostgreSQL, the feed and the tree\n"
    "  mirror    follow a feed, keep a verified copy of the tree, serve and relay it\n"
    "  indexer   a mirror that also serves PGXN's API: search, docs, enriched JSON\n"
    "  tail      print a node's release feed as JSON lines\n"
    "  user      manage accounts on an origin (add, list, set-status, set-admin,\n"
    "            reset-password)\n"
    "  mail      list the mail an origin recorded\n"
    "  version   print the version\n"
    "\n"
    "Run 'pgxnd COMMAND --help' for a command's flags.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace pgxn::cli;
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "origin") return RunOriginCommand(args);
  if (command == "mirror") return RunMirrorCommand(args);
  if (command == "indexer") return RunIndexerCommand(args);
  if (command == "tail") return RunTailCommand(args);
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
