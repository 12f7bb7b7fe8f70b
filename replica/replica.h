// The mirror role (docs/architecture.md §1): follow an upstream Feed into the RocksDB
// store, serve the tree over HTTP, and relay the Feed to nodes below. The
// indexer is a replica with an extension that indexes each applied event and
// adds routes.
//
// Life cycle: Open() (store only, so an extension can read it), then Start()
// (the node host: Feed server, HTTP gateway, DIR/ports.json; then the
// upstream feed), then Stop() (or the destructor): the host's order
// (host/node_host.h), in which the upstream feed and then the extension's
// threads stop before the Feed server. Not thread-safe itself; its servers
// are.
#ifndef PGXN_REPLICA_REPLICA_H_
#define PGXN_REPLICA_REPLICA_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "feed/feed_client.h"
#include "feed/feed_service.h"
#include "feed/upstream_target.h"
#include "gateway/router.h"
#include "gateway/tree_handler.h"
#include "host/node_host.h"
#include "replica/file_cache.h"
#include "replica/reporter.h"
#include "replica/store.h"

namespace pgxn::replica {

namespace v1 = ::pgxn::feed::v1;

struct ReplicaOptions {
  std::string role = "mirror";
  std::string data_dir;
  // Feed servers, as --upstream takes them (feed/upstream_target.h):
  // HOST:PORT, or https://HOST[:PORT] for TLS.
  std::vector<std::string> upstreams;
  // PEM file of the CAs TLS upstreams are verified against (--upstream-ca);
  // empty: the system's CA store.
  std::string upstream_ca;
  std::string http_address = "127.0.0.1:0";
  std::string grpc_address = "127.0.0.1:0";
  int http_threads = 4;
  absl::Duration heartbeat_interval = absl::Seconds(2);
  feed::FeedLimits feed_limits;  // what the Feed server gives nodes below
  absl::Duration stale_after = absl::Seconds(30);
  // A file holding the origin's public key as "ed25519:<hex>" (--origin-key);
  // empty: trust the key the first upstream reports, and remember it.
  std::string origin_key;
  // Fill an empty node by replaying the whole log (--replay-log) instead of
  // bootstrapping from a snapshot.
  bool replay_log = false;
  bool reset_on_new_epoch = false;
  int max_message_bytes = feed::kMaxFeedMessageBytes;
  // The website's listener HOST:PORT (an indexer's --site); empty: none.
  std::string site_address;
  host::HttpLimits http_limits;
  // Reports to the upstream (replica/reporter.h): how often, and whether
  // this node reports itself or, with no_report (--no-report), only relays
  // its children's reports.
  absl::Duration report_interval = absl::Seconds(30);
  bool no_report = false;
  // Disk for copies of large files (over StoreTree::kStreamAbove) in
  // DATA_DIR/cache/files, sent with sendfile (replica/file_cache.h); 0: none,
  // they are streamed from the store.
  uint64_t file_cache_bytes = uint64_t{1} << 30;
};

// What a role adds to a plain mirror.
class ReplicaExtension {
 public:
  virtual ~ReplicaExtension() = default;
  // Routes answered before the tree (e.g. /search/, an /index.json override).
  virtual void AddRoutes(gateway::Router* router) = 0;
  // Called on the feed thread after each event is applied to the store, with
  // its contents. `caught_up` is false while the upstream is known to hold
  // later events (catching up), so work can be batched until it is true. Must
  // not block for long: the feed waits for it.
  virtual void OnApplied(const v1::Event& event, bool caught_up) = 0;
  // Called on the feed thread just before the store is replaced wholesale:
  // an extension that reads the store on a thread of its own stops doing so
  // until OnReset.
  virtual void OnBeforeReset() {}
  // Called on the feed thread after the store was replaced wholesale: filled
  // from a snapshot, or cleared for a new epoch. Derived state must be
  // rebuilt from the store's tree.
  virtual void OnReset() = 0;
  // Called once the upstream feed has stopped (no more OnApplied), while the
  // node stops: the extension stops its own threads, keeping what they did,
  // before the store is closed.
  virtual void Stop() {}
  // The tree the HTTP gateway serves for paths no route claims: by default
  // (nullptr) the store's tree as replicated; an indexer overlays its
  // derived documents.
  virtual std::shared_ptr<const gateway::TreeReader> HttpTree() { return nullptr; }
  // The newest seq the extension's own state (an index) reflects, if it can
  // lag behind the store; /_status reports the lower of it and the store's
  // as the applied seq, so that a client waiting for a seq waits for what
  // the node serves. Any thread.
  virtual absl::optional<uint64_t> ServedSeq() const { return absl::nullopt; }
  // A JSON object whose members /_status adds (the extension's own state), or
  // "" for none. Called on the HTTP threads, concurrently.
  virtual std::string StatusJson() const { return ""; }
};

class Replica final : public host::NodeRole, private feed::EventSink {
 public:
  static absl::StatusOr<std::unique_ptr<Replica>> Open(ReplicaOptions options);
  ~Replica() override;

  // `extension` may be null; if not, it must outlive the replica.
  // `site_routes` adds the routes of the listener at options.site_address
  // (host/node_host.h); what they use must outlive the replica too.
  absl::Status Start(ReplicaExtension* extension,
                     std::function<absl::Status(gateway::Router*)> site_routes = nullptr);
  // Stops the node in the host's order; idempotent.
  void Stop();

  Store& store() { return *store_; }
  // Null when options.file_cache_bytes is 0.
  FileCache* file_cache() { return file_cache_.get(); }
  int http_port() const;
  int grpc_port() const;
  int site_port() const;

 private:
  Replica(ReplicaOptions options, std::unique_ptr<Store> store,
          std::unique_ptr<FileCache> file_cache, feed::UpstreamTrust trust, std::string node_id);
  // What /_status adds for this role: the extension's members and the file
  // cache's figures.
  std::string ExtrasJson() const;
  // This node's own report, from its status.
  v1::NodeReport OwnReport() const;
  // On the reporter's thread only.
  absl::Status SendReport(const v1::ReportRequest& request);

  feed::ChainTip Tip() const override;
  feed::EventCheck Check(const v1::Event& event) const override;
  absl::Status Apply(const v1::Event& event, const feed::EventCheck& check) override;
  std::string OriginKey() const override;
  absl::Status PinOriginKey(absl::string_view public_key) override;
  absl::Status RecordHeartbeat(const v1::Heartbeat& heartbeat) override;
  absl::Status Bootstrap(const v1::Event& head,
                         const std::function<absl::StatusOr<v1::Op>()>& next_file) override;
  absl::Status Reset() override;

  // host::NodeRole
  const feed::EventLog* FeedLog() const override { return store_.get(); }
  absl::Status AddRoutes(gateway::Router* router, const host::Listening& listening) override;
  absl::StatusOr<host::NodeStatus> Status() const override;
  host::MetricsSample Sample() const override;
  void StartWork(host::Metrics& metrics) override;
  void StopWork() override;
  void Close() override;

  const ReplicaOptions options_;
  const feed::UpstreamTrust upstream_trust_;  // options_.upstream_ca, read
  const std::string node_id_;                 // DIR/node_id
  std::unique_ptr<Store> store_;
  // Copies of large files for sendfile (null with --file-cache 0); after
  // store_, which its copier reads, so that it goes first.
  std::unique_ptr<FileCache> file_cache_;
  ReplicaExtension* extension_ = nullptr;
  std::unique_ptr<feed::FeedClient> feed_client_;
  // The reporter's thread's; declared first so that it outlives the thread.
  feed::ReportClient report_client_;
  std::unique_ptr<Reporter> reporter_;
  host::Metrics* metrics_ = nullptr;  // the host's, set before the feed starts
  std::unique_ptr<host::NodeHost> host_;
};

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_REPLICA_H_
