#include "host/node_host.h"
#include "origin/origin_server.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"
#include "pgxnd/feed_flags.h"
#include "pgxnd/http_flags.h"

namespace pgxn::cli {

int RunOriginCommand(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "rebuild") {
    return RunOriginRebuildCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (!args.empty() && args[0] == "backup") {
    return RunOriginBackupCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (!args.empty() && args[0] == "restore") {
    return RunOriginRestoreCommand(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  origin::OriginOptions options;
  options.http_address = "127.0.0.1:7000";
  options.grpc_address = "127.0.0.1:7001";
  uint64_t max_entries = options.manager.limits.max_entries;
  uint64_t registrations = options.manager.registrations.max_per_window;
  uint64_t resets = options.manager.password_resets.max_per_window;
  FlagSet flags("pgxnd origin", "--data-dir DIR [flags]",
                "Runs the origin: the PGXN Manager on PostgreSQL, the release feed (gRPC) and\n"
                "the published tree (HTTP). Without --postgres it runs an embedded PostgreSQL\n"
                "in DIR/postgres (as the postgres user when started as root). Once listening it\n"
                "writes DIR/ports.json. SIGINT or SIGTERM stops it cleanly; SIGHUP reloads\n"
                "the --tls-cert and --tls-key files (HTTPS and the Feed's TLS).\n"
                "'pgxnd origin rebuild --data-dir DIR' checks the tree against the rows;\n"
                "'pgxnd origin backup' and 'pgxnd origin restore' back an origin up and\n"
                "restore it (see their --help).");
  flags.String("data-dir", &options.data_dir, "data directory (required)");
  flags.String("postgres", &options.postgres_dsn,
               "libpq connection string of an external PostgreSQL instead of the embedded one");
  flags.String("http", &options.http_address, "HTTP listen address HOST:PORT (port 0: any)");
  flags.String("grpc", &options.grpc_address, "Feed (gRPC) listen address HOST:PORT (port 0: any)");
  flags.Bytes("max-upload", &options.max_upload_bytes, "largest accepted upload");
  AddHttpLimitFlags(flags, &options.http_limits);
  flags.Bytes("max-unpacked", &options.manager.limits.max_total_bytes,
              "largest total unpacked size of an archive");
  flags.Uint64("max-entries", &max_entries, "most entries an archive may have");
  flags.String("public-url", &options.manager.public_url,
               "URL people use to reach this origin, for links in mail, the absolute "
               "URLs in the events GET /feed sends, and the Origin the Manager takes "
               "browsers' posts from besides its Host header (default: http://HOST:PORT of "
               "--http in mail, the request's Host header in /feed)");
  flags.String(
      "sendmail", &options.manager.mail.sendmail,
      "sendmail-compatible command that delivers mail read from stdin, e.g. "
      "\"/usr/sbin/sendmail -t -i\" (default: mail is only recorded; see pgxnd mail list)");
  flags.String("mail-from", &options.manager.mail.from, "From: address of the origin's mail");
  flags.Bool("accept-semver1", &options.manager.accept_semver1,
             "accept uploads whose versions are in the SemVer 1.0 form (1.2.3beta1), for "
             "importing releases PGXN published before 2013; PGXN's validator, and this origin "
             "without the flag, require SemVer 2.0.0 (1.2.3-beta1)");
  flags.Uint64("registrations-per-hour", &registrations,
               "account registrations accepted from one client address per hour; more get 429 "
               "with Retry-After (0: no limit)");
  flags.Uint64("reset-requests-per-hour", &resets,
               "password-reset requests (/account/forgotten) accepted from one client address "
               "per hour; more get 429 with Retry-After (0: no limit)");
  flags.Duration("heartbeat", &options.heartbeat_interval,
                 "heartbeat interval on quiet feed streams");
  AddFeedFlags(flags, &options.feed_limits);
  flags.Duration("aggregate-delay", &options.aggregate_delay,
                 "publish the files that aggregate the catalog (stats/*.json, and the tag and "
                 "user files, which list every release of a tag or a user) in a `stats` event "
                 "of their own this long after a change (or, when the last such event took T to "
                 "render, 7 T: at most an eighth of the time goes to them), one for all the "
                 "changes of that moment, so a release costs the same in any catalog; 0: in the "
                 "event of each "
                 "change, as PGXN does");
  flags.Duration("stats-delay", &options.aggregate_delay, "the former name of --aggregate-delay");
  uint64_t webhook_workers = static_cast<uint64_t>(options.webhooks.workers);
  flags.Uint64("webhook-workers", &webhook_workers,
               "threads that deliver webhooks; each serves one hook at a time, so a slow or "
               "dead receiver holds one of them for at most --webhook-timeout per attempt");
  flags.Duration("webhook-timeout", &options.webhooks.timeout,
                 "longest a webhook delivery may take, from resolving the receiver's host to "
                 "its answer; a delivery that takes longer failed and is retried");
  flags.Duration("webhook-disable-after", &options.webhooks.disable_after,
                 "disable a webhook whose deliveries have all failed for this long (its owner "
                 "is mailed once; POST /account/webhooks/ID/enable resumes it)");
  flags.Duration("webhook-retry-base", &options.webhooks.retry.base,
                 "wait after a webhook's first failed attempt; each further failure doubles "
                 "it (with jitter) up to 6h");
  flags.Bool("webhook-allow-private", &options.webhooks.allow_private,
             "let webhooks reach loopback, private (RFC 1918, ULA), link-local and other "
             "non-public addresses; without it they are refused at registration (IP "
             "literals) and at each delivery (what a host name resolves to), so accounts "
             "cannot make the origin call into its own network");
  uint64_t network_max_nodes = options.network_max_nodes;
  flags.Uint64("network-max-nodes", &network_max_nodes,
               "most nodes /meta/network.json lists (the network view, kept in memory); past "
               "it the node heard from least recently is dropped");
  flags.Bool("unsafe-no-fsync", &options.unsafe_no_fsync,
             "run the embedded PostgreSQL without fsync (tests and benchmarks only: a crash "
             "of the machine can lose data)");
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError("pgxnd origin takes no arguments (see --help)");
  if (options.data_dir.empty()) return UsageError("pgxnd origin: --data-dir is required");
  options.manager.limits.max_entries = max_entries;
  if (network_max_nodes < 1 || network_max_nodes > 1'000'000) {
    return UsageError("pgxnd origin: --network-max-nodes must be 1 to 1000000");
  }
  options.network_max_nodes = static_cast<size_t>(network_max_nodes);
  // Each worker takes one of the origin's 32 pooled connections, briefly,
  // around an attempt: at most half of them, whatever the receivers do.
  if (webhook_workers < 1 || webhook_workers > 16) {
    return UsageError("pgxnd origin: --webhook-workers must be 1 to 16");
  }
  options.webhooks.workers = static_cast<int>(webhook_workers);
  if (options.webhooks.timeout <= absl::ZeroDuration() ||
      options.webhooks.retry.base <= absl::ZeroDuration() ||
      options.webhooks.disable_after <= absl::ZeroDuration()) {
    return UsageError(
        "pgxnd origin: --webhook-timeout, --webhook-retry-base and --webhook-disable-after "
        "must be positive");
  }
  options.manager.registrations.max_per_window =
      static_cast<int>(std::min<uint64_t>(registrations, 1'000'000));
  options.manager.password_resets.max_per_window =
      static_cast<int>(std::min<uint64_t>(resets, 1'000'000));
  options.manager.limits.max_entry_bytes =
      std::min(options.manager.limits.max_entry_bytes, options.manager.limits.max_total_bytes);

  host::PrepareForSignals();
  absl::StatusOr<std::unique_ptr<origin::OriginServer>> server =
      origin::OriginServer::Start(options);
  if (!server.ok()) return Fail(server.status());
  host::ServeUntilSignal("origin", [&] { (*server)->Stop(); });
  return kExitOk;
}

}  // namespace pgxn::cli
