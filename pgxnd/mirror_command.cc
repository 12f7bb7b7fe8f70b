#include "absl/strings/str_cat.h"
#include "node/log.h"
#include "node/replica.h"
#include "node/signals.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"
#include "pgxnd/replica_flags.h"

namespace pgxn::cli {

int RunMirrorCommand(const std::vector<std::string>& args) {
  node::ReplicaOptions options;
  options.role = "mirror";
  options.http_address = "127.0.0.1:7100";
  options.grpc_address = "127.0.0.1:7101";
  FlagSet flags("pgxnd mirror", "--data-dir DIR --upstream HOST:PORT [flags]",
                "Runs a mirror: follows the release feed of the origin or another node, checks\n"
                "and applies each event atomically to its store in DIR/store, serves the tree\n"
                "over HTTP with PGXN's paths, and relays the feed to nodes below it. Once\n"
                "listening it writes DIR/ports.json. SIGINT or SIGTERM stops it cleanly.");
  AddReplicaFlags(flags, &options);
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd mirror takes no arguments (see --help)");
  if (std::string problem = CheckReplicaOptions("pgxnd mirror", options); !problem.empty()) {
    return UsageError(problem);
  }

  node::BlockTerminationSignals();
  absl::StatusOr<std::unique_ptr<node::Replica>> replica = node::Replica::Open(options);
  if (!replica.ok()) return Fail(replica.status());
  if (absl::Status s = (*replica)->Start(nullptr); !s.ok()) return Fail(s);
  const int signal_number = node::WaitForTerminationSignal();
  node::LogInfo(absl::StrCat("mirror stopping on signal ", signal_number));
  (*replica)->Stop();
  node::LogInfo("mirror stopped");
  return kExitOk;
}

}  // namespace pgxn::cli
