#include "absl/strings/str_cat.h"
#include "indexer/indexer.h"
#include "node/log.h"
#include "node/replica.h"
#include "node/signals.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"
#include "pgxnd/replica_flags.h"

namespace pgxn::cli {

int RunIndexerCommand(const std::vector<std::string>& args) {
  node::ReplicaOptions options;
  options.role = "indexer";
  options.http_address = "127.0.0.1:7200";
  options.grpc_address = "127.0.0.1:7201";
  FlagSet flags("pgxnd indexer", "--data-dir DIR --upstream HOST:PORT [flags]",
                "Runs an indexer: everything a mirror does, plus search indexes (Xapian, in\n"
                "DIR/index) kept in step with each event, and PGXN's search API at\n"
                "/search/{docs,dists,extensions,users,tags}/?q=. Deleting DIR/index rebuilds\n"
                "it from the stored events on the next start. Once listening it writes\n"
                "DIR/ports.json. SIGINT or SIGTERM stops it cleanly.");
  AddReplicaFlags(flags, &options);
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd indexer takes no arguments (see --help)");
  if (std::string problem = CheckReplicaOptions("pgxnd indexer", options); !problem.empty()) {
    return UsageError(problem);
  }

  node::BlockTerminationSignals();
  absl::StatusOr<std::unique_ptr<node::Replica>> replica = node::Replica::Open(options);
  if (!replica.ok()) return Fail(replica.status());
  absl::StatusOr<std::unique_ptr<indexer::Indexer>> indexer =
      indexer::Indexer::Open(&(*replica)->store(), options.data_dir + "/index");
  if (!indexer.ok()) return Fail(indexer.status());
  if (absl::Status s = (*indexer)->CatchUp(); !s.ok()) return Fail(s);
  if (absl::Status s = (*replica)->Start(indexer->get()); !s.ok()) return Fail(s);
  const int signal_number = node::WaitForTerminationSignal();
  node::LogInfo(absl::StrCat("indexer stopping on signal ", signal_number));
  (*replica)->Stop();
  node::LogInfo("indexer stopped");
  return kExitOk;
}

}  // namespace pgxn::cli
