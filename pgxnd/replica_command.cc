// pgxnd mirror and pgxnd indexer: both are replicas of the log; the indexer
// adds its search indexes as a replica extension.
#include "absl/strings/str_cat.h"
#include "base/address.h"
#include "host/node_host.h"
#include "indexer/indexer.h"
#include "pgxnd/command_support.h"
#include "pgxnd/commands.h"
#include "pgxnd/feed_flags.h"
#include "pgxnd/replica_flags.h"
#include "replica/replica.h"
#include "site/site.h"

namespace pgxn::cli {
namespace {

constexpr char kMirrorSummary[] =
    "Runs a mirror: follows the release feed of the origin or another node, checks\n"
    "and applies each event atomically to its store in DIR/store, serves the tree\n"
    "over HTTP with PGXN's paths, and relays the feed to nodes below it. Once\n"
    "listening it writes DIR/ports.json. SIGINT or SIGTERM stops it cleanly;\n"
    "SIGHUP reloads the --tls-cert and --tls-key files (HTTPS and the Feed's TLS).";

constexpr char kIndexerSummary[] =
    "Runs an indexer: everything a mirror does, plus PGXN's API kept in step\n"
    "with each event: search (Xapian, in DIR/index) at\n"
    "/search/{docs,dists,extensions,users,tags,all}/?q=, each release's docs\n"
    "rendered to /dist/D/V/DOCPATH.html, enriched dist, META, extension, user and\n"
    "tag JSON at the tree's paths, /users/{letter}.json and the archives' files\n"
    "under /src/D/D-V/. Deleting DIR/index rebuilds everything derived from the\n"
    "stored events on the next start. It also serves the website, pgxn.org's\n"
    "pages at pgxn.org's paths, on a listener of its own (--site; by default the\n"
    "HTTP port + 2, e.g. 7202). Once listening it writes DIR/ports.json\n"
    "({\"http\": N, \"grpc\": M, \"site\": S}). SIGINT or SIGTERM stops it cleanly;\n"
    "SIGHUP reloads the --tls-cert and --tls-key files (HTTPS and the Feed's TLS).";

int RunReplica(const std::string& role, const std::vector<std::string>& args) {
  const bool is_indexer = role == "indexer";
  const std::string command = absl::StrCat("pgxnd ", role);
  replica::ReplicaOptions options;
  options.role = role;
  options.http_address = is_indexer ? "127.0.0.1:7200" : "127.0.0.1:7100";
  options.grpc_address = is_indexer ? "127.0.0.1:7201" : "127.0.0.1:7101";
  FlagSet flags(command, "--data-dir DIR --upstream HOST:PORT|https://HOST[:PORT] [flags]",
                is_indexer ? kIndexerSummary : kMirrorSummary);
  AddReplicaFlags(flags, &options);
  AddFeedFlags(flags, &options.feed_limits);
  indexer::IndexerOptions indexer_options;
  indexer::ConverterOptions& converters = indexer_options.converters;
  bool no_converters = false;
  bool no_site = false;
  uint64_t converter_memory = converters.limits.max_memory_bytes;
  if (is_indexer) {
    flags.Bool("no-converters", &no_converters,
               "show docs in reStructuredText, AsciiDoc, POD, Textile, MediaWiki and Creole as "
               "text instead of running rst2html5, asciidoctor, perl or pandoc on them");
    flags.Duration("converter-timeout", &converters.limits.timeout,
                   "wall-clock limit of one doc conversion; past it the converter is killed and "
                   "the doc shown as text");
    flags.Bytes("converter-memory", &converter_memory, "address-space limit of one doc converter");
    flags.String("site", &options.site_address,
                 "website listen address HOST:PORT (pgxn.org's pages; port 0: any); default: "
                 "the --http host and its port + 2 (port 0 when --http's is 0)");
    flags.Bool("no-site", &no_site, "serve no website, only the API");
  }
  int exit_code = kExitOk;
  auto positional = ParseOrExit(flags, args, &exit_code);
  if (!positional.has_value()) return exit_code;
  if (!positional->empty()) return UsageError(command + " takes no arguments (see --help)");
  if (std::string problem = CheckReplicaOptions(command, options); !problem.empty()) {
    return UsageError(problem);
  }
  if (is_indexer && !no_site && options.site_address.empty()) {
    absl::StatusOr<base::HostPort> http = base::ParseHostPort(options.http_address);
    if (!http.ok()) return UsageError(absl::StrCat(command, ": ", http.status().message()));
    const int site_port = http->port == 0 ? 0 : http->port + 2;
    if (site_port > 65535) {
      return UsageError(command + ": --http's port + 2 is not a port; give --site");
    }
    options.site_address = absl::StrCat(
        http->host.find(':') != std::string::npos ? absl::StrCat("[", http->host, "]") : http->host,
        ":", site_port);
  }
  if (no_site) options.site_address.clear();
  if (!options.site_address.empty()) {
    if (absl::Status s = base::ParseHostPort(options.site_address).status(); !s.ok()) {
      return UsageError(absl::StrCat(command, ": --site ", s.message()));
    }
  }
  converters.enabled = !no_converters;
  converters.limits.max_memory_bytes = converter_memory;
  if (converters.limits.timeout <= absl::ZeroDuration()) {
    return UsageError(command + ": --converter-timeout must be positive");
  }

  host::PrepareForSignals();
  absl::StatusOr<std::unique_ptr<replica::Replica>> replica = replica::Replica::Open(options);
  if (!replica.ok()) return Fail(replica.status());
  std::unique_ptr<indexer::Indexer> index;
  if (is_indexer) {
    indexer_options.file_cache = (*replica)->file_cache();
    absl::StatusOr<std::unique_ptr<indexer::Indexer>> opened = indexer::Indexer::Open(
        &(*replica)->store(), options.data_dir + "/index", std::move(indexer_options));
    if (!opened.ok()) return Fail(opened.status());
    index = *std::move(opened);
    if (absl::Status s = index->CatchUp(); !s.ok()) return Fail(s);
  }
  std::unique_ptr<site::Site> website;
  if (index != nullptr && !options.site_address.empty()) {
    site::SiteSources sources;
    sources.tree = index->HttpTree();
    sources.store = &(*replica)->store();
    sources.index = &index->index();
    indexer::Indexer* indexer = index.get();
    sources.served_seq = [indexer] { return indexer->ServedSeq().value_or(0); };
    absl::StatusOr<std::unique_ptr<site::Site>> created = site::Site::Create(std::move(sources));
    if (!created.ok()) return Fail(created.status());
    website = *std::move(created);
  }
  std::function<absl::Status(gateway::Router*)> site_routes;
  if (website != nullptr) {
    site_routes = [&website](gateway::Router* router) {
      website->AddRoutes(router);
      return absl::OkStatus();
    };
  }
  if (absl::Status s = (*replica)->Start(index.get(), std::move(site_routes)); !s.ok()) {
    return Fail(s);
  }
  host::ServeUntilSignal(role, [&] { (*replica)->Stop(); });
  return kExitOk;
}

}  // namespace

int RunMirrorCommand(const std::vector<std::string>& args) { return RunReplica("mirror", args); }
int RunIndexerCommand(const std::vector<std::string>& args) { return RunReplica("indexer", args); }

}  // namespace pgxn::cli
