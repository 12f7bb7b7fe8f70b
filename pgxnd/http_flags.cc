#include "pgxnd/http_flags.h"

namespace pgxn::cli {

void AddHttpLimitFlags(FlagSet& flags, host::HttpLimits* limits) {
  flags.Uint64("max-connections", &limits->max_connections,
               "HTTP connections per listener; at the cap the longest-idle connection is "
               "closed for a new one, and a few more slots serve only /_status and /metrics "
               "(0: derived from the open-file limit, which the node raises to its hard "
               "limit at start: (limit - 512) / listeners)");
  flags.Uint64("max-connections-per-address", &limits->max_connections_per_address,
               "HTTP connections one client address (an IPv6 client: its /64) may hold");
  flags.String("tls-cert", &limits->tls_cert_file,
               "PEM file of the certificate chain: every HTTP listener then speaks HTTPS only, "
               "and the Feed (--grpc) TLS only, both TLS 1.2+ (nodes below use --upstream "
               "https://HOST:PORT); SIGHUP reloads it and --tls-key for new connections (open "
               "Feed streams keep theirs)");
  flags.String("tls-key", &limits->tls_key_file, "PEM file of --tls-cert's private key");
  flags.Bytes("max-body-memory", &limits->max_body_memory,
              "request bodies held in memory at once, all connections together (a body "
              "over 1 MiB goes to a temp file in DIR/tmp instead); a request that would "
              "pass it gets 503 with Retry-After (at least 1 MiB)");
  flags.Bytes("max-body-disk", &limits->max_body_disk,
              "request bodies over 1 MiB spooled to temp files in DIR/tmp at once, all "
              "connections together; a request that would pass it gets 503 with "
              "Retry-After (at least the largest body accepted)");
  flags.String("access-log", &limits->access_log,
               "a file that gets one line per HTTP request (Combined Log Format plus the "
               "handler's seconds; \"-\": stderr), written at least once a second and "
               "reopened on SIGHUP (for logrotate); empty: no access log");
  flags.Duration("sse-heartbeat", &limits->sse_heartbeat,
                 "GET /feed (Server-Sent Events) sends a comment line on a stream quiet "
                 "this long, so clients and proxies see it is alive");
  flags.Uint64("sse-max-lag", &limits->sse_max_lag,
               "a GET /feed client that falls this many events behind the head is sent an "
               "`event: resume` naming the seq to resume after, and closed (EventSource "
               "resumes by itself)");
  flags.Uint64("sse-max-clients", &limits->sse_max_clients,
               "GET /feed streams open at once; a stream is never idle, so it is not "
               "closed to make room for other connections: past this a new one gets 503 "
               "with Retry-After");
  flags.Uint64("sse-max-clients-per-address", &limits->sse_max_clients_per_address,
               "GET /feed streams one client address may hold open at once (503 past it)");
}

}  // namespace pgxn::cli
