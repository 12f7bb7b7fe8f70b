#include "pgxnd/replica_flags.h"

#include "absl/strings/str_cat.h"
#include "base/address.h"

namespace pgxn::cli {

void AddReplicaFlags(FlagSet& flags, replica::ReplicaOptions* options) {
  flags.String("data-dir", &options->data_dir, "data directory (required)");
  flags.Strings("upstream", &options->upstreams,
                "Feed address HOST:PORT of the origin or another node (required; repeat the flag "
                "to list fallbacks, tried in turn)");
  flags.String("http", &options->http_address, "HTTP listen address HOST:PORT (port 0: any)");
  flags.String("grpc", &options->grpc_address,
               "Feed (gRPC) listen address HOST:PORT for nodes below this one (port 0: any)");
  flags.Duration("heartbeat", &options->heartbeat_interval,
                 "heartbeat interval on quiet feed streams served by this node");
  flags.Duration("stale-after", &options->stale_after,
                 "reconnect, and report stale, when the upstream is silent this long");
  flags.String("origin-key", &options->origin_key,
               "file with the origin's public key (\"ed25519:<hex>\", as /meta/origin.pub serves "
               "it); default: trust the key the first upstream reports, and remember it");
  flags.Bool("reset-on-new-epoch", &options->reset_on_new_epoch,
             "when the upstream's log was reset (a new epoch), wipe this node and rebuild it "
             "from the new log instead of refusing");
  flags.Bool("replay-log", &options->replay_log,
             "fill an empty node by replaying the whole log instead of bootstrapping from a "
             "snapshot (a relay that must serve the full history to others needs this)");
}

std::string CheckReplicaOptions(const std::string& command,
                                const replica::ReplicaOptions& options) {
  if (options.data_dir.empty()) return absl::StrCat(command, ": --data-dir is required");
  if (options.upstreams.empty()) return absl::StrCat(command, ": --upstream is required");
  for (const std::string& address : options.upstreams) {
    if (absl::Status s = base::ParseHostPort(address).status(); !s.ok()) {
      return absl::StrCat(command, ": --upstream ", s.message());
    }
  }
  for (const std::string* address : {&options.http_address, &options.grpc_address}) {
    if (absl::Status s = base::ParseHostPort(*address).status(); !s.ok()) {
      return absl::StrCat(command, ": ", s.message());
    }
  }
  return "";
}

}  // namespace pgxn::cli
