#include "pgxnd/replica_flags.h"

#include "absl/strings/str_cat.h"
#include "base/address.h"
#include "feed/upstream_target.h"
#include "pgxnd/http_flags.h"

namespace pgxn::cli {

void AddReplicaFlags(FlagSet& flags, replica::ReplicaOptions* options) {
  flags.String("data-dir", &options->data_dir, "data directory (required)");
  flags.Strings("upstream", &options->upstreams,
                "Feed of the origin or another node (required): HOST:PORT in plaintext, or "
                "https://HOST[:PORT] over TLS (port 443 by default; the certificate must verify, "
                "there is no fallback to plaintext); repeat the flag to list fallbacks, tried in "
                "turn");
  flags.String("upstream-ca", &options->upstream_ca,
               "PEM file of the CA certificates https:// upstreams are verified against "
               "(default: the system's CA store, /etc/ssl/certs/ca-certificates.crt)");
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
  AddHttpLimitFlags(flags, &options->http_limits);
  flags.String("public-url", &options->http_limits.public_url,
               "URL people use to reach this node (behind a proxy that terminates TLS, "
               "say), for the absolute URLs in the events GET /feed sends (default: the "
               "request's Host header and this listener's scheme)");
  flags.Duration("report-interval", &options->report_interval,
                 "how often this node reports its role, version, applied seq and lag to its "
                 "upstream, with the reports of the nodes below it, for the origin's "
                 "/meta/network.json");
  flags.Bool("no-report", &options->no_report,
             "do not report this node to the network view (it still passes on the reports of "
             "the nodes below it, which chose to be seen)");
  flags.Bytes("file-cache", &options->file_cache_bytes,
              "disk for copies of the large files this node serves (over 256 KiB: the zips), "
              "kept in DATA_DIR/cache/files and sent with sendfile(2) like a static web "
              "server's; the most recently served are kept, the first requests of a file are "
              "served from the store while it is copied; emptied at start; 0: none");
  flags.Bool("replay-log", &options->replay_log,
             "fill an empty node by replaying the whole log instead of bootstrapping from a "
             "snapshot (a relay that must serve the full history to others needs this)");
}

std::string CheckReplicaOptions(const std::string& command,
                                const replica::ReplicaOptions& options) {
  if (options.data_dir.empty()) return absl::StrCat(command, ": --data-dir is required");
  if (options.upstreams.empty()) return absl::StrCat(command, ": --upstream is required");
  bool any_tls = false;
  for (const std::string& upstream : options.upstreams) {
    absl::StatusOr<feed::UpstreamTarget> target = feed::ParseUpstream(upstream);
    if (!target.ok()) return absl::StrCat(command, ": ", target.status().message());
    any_tls = any_tls || target->tls;
  }
  // A CA given for plaintext upstreams is a mistake that would go unnoticed:
  // the operator meant TLS and would not get it.
  if (!options.upstream_ca.empty() && !any_tls) {
    return absl::StrCat(command,
                        ": --upstream-ca is for https:// upstreams, and no --upstream is one");
  }
  for (const std::string* address : {&options.http_address, &options.grpc_address}) {
    if (absl::Status s = base::ParseHostPort(*address).status(); !s.ok()) {
      return absl::StrCat(command, ": ", s.message());
    }
  }
  if (options.report_interval < absl::Seconds(1)) {
    return absl::StrCat(command, ": --report-interval must be at least 1s");
  }
  return "";
}

}  // namespace pgxn::cli
