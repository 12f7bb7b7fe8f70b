#include "replica/replica.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/log.h"
#include "feed/event_line.h"
#include "feed/signing.h"
#include "replica/store_tree.h"

namespace pgxn::replica {

absl::StatusOr<std::unique_ptr<Replica>> Replica::Open(ReplicaOptions options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
  if (options.upstreams.empty()) return absl::InvalidArgumentError("--upstream is required");
  absl::StatusOr<feed::UpstreamTrust> trust = feed::LoadUpstreamTrust(options.upstream_ca);
  if (!trust.ok()) return trust.status();
  if (absl::Status s = base::MakeDirectories(options.data_dir, 0755); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options.data_dir + "/store");
  if (!store.ok()) return store.status();
  if (!options.origin_key.empty()) {
    absl::StatusOr<std::string> text = base::ReadFile(options.origin_key);
    if (!text.ok()) return text.status();
    absl::StatusOr<std::string> key = feed::ParsePublicKey(*text);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--origin-key ", options.origin_key, ": ", key.status().message()));
    }
    if (absl::Status s = (*store)->PinOriginKey(*key); !s.ok()) return s;
  }
  absl::StatusOr<std::string> node_id = LoadOrCreateNodeId(options.data_dir);
  if (!node_id.ok()) return node_id.status();
  std::unique_ptr<FileCache> file_cache;
  if (options.file_cache_bytes > 0) {
    absl::StatusOr<std::unique_ptr<FileCache>> opened = FileCache::Open(
        options.data_dir + "/cache/files", options.file_cache_bytes,
        [store = store->get()](absl::string_view sha256, uint64_t offset, size_t length) {
          return store->ReadBlobRange(sha256, offset, length);
        });
    if (!opened.ok()) return opened.status();
    file_cache = *std::move(opened);
  }
  return std::unique_ptr<Replica>(new Replica(std::move(options), *std::move(store),
                                              std::move(file_cache), *std::move(trust),
                                              *std::move(node_id)));
}

Replica::Replica(ReplicaOptions options, std::unique_ptr<Store> store,
                 std::unique_ptr<FileCache> file_cache, feed::UpstreamTrust trust,
                 std::string node_id)
    : options_(std::move(options)),
      upstream_trust_(std::move(trust)),
      node_id_(std::move(node_id)),
      store_(std::move(store)),
      file_cache_(std::move(file_cache)),
      report_client_(upstream_trust_) {}

Replica::~Replica() { Stop(); }

absl::Status Replica::Start(ReplicaExtension* extension,
                            std::function<absl::Status(gateway::Router*)> site_routes) {
  extension_ = extension;
  // Created before the host (whose /_status reads it), started last.
  feed::FeedClientOptions client_options;
  client_options.upstreams = options_.upstreams;
  client_options.trust = upstream_trust_;
  client_options.stale_after = options_.stale_after;
  client_options.max_message_bytes = options_.max_message_bytes;
  client_options.bootstrap_from_snapshot = !options_.replay_log;
  client_options.reset_on_new_epoch = options_.reset_on_new_epoch;
  feed_client_ =
      std::make_unique<feed::FeedClient>(client_options, static_cast<feed::EventSink*>(this));
  ReporterOptions reporter_options;
  reporter_options.interval = options_.report_interval;
  reporter_options.report_self = !options_.no_report;
  reporter_ = std::make_unique<Reporter>(
      reporter_options, node_id_, [this] { return OwnReport(); },
      [this](const v1::ReportRequest& request) { return SendReport(request); });

  host::NodeHostOptions host_options;
  host_options.role = options_.role;
  host_options.data_dir = options_.data_dir;
  host_options.http_address = options_.http_address;
  host_options.grpc_address = options_.grpc_address;
  host_options.http_threads = options_.http_threads;
  // A mirror's handlers read the store and never wait on anything else; an
  // indexer's search and source listings compute, so they share one queue.
  host_options.http_loop_per_thread = extension == nullptr;
  host_options.max_body_bytes = 1 << 20;  // a replica accepts no uploads
  host_options.http_limits = options_.http_limits;
  host_options.max_message_bytes = options_.max_message_bytes;
  host_options.heartbeat_interval = options_.heartbeat_interval;
  host_options.feed_limits = options_.feed_limits;
  host_options.reports = reporter_.get();
  host_options.site_address = options_.site_address;
  host_options.site_routes = std::move(site_routes);
  absl::StatusOr<std::unique_ptr<host::NodeHost>> host =
      host::NodeHost::Start(std::move(host_options), this);
  if (!host.ok()) return host.status();
  host_ = *std::move(host);
  return absl::OkStatus();
}

absl::Status Replica::AddRoutes(gateway::Router* router, const host::Listening&) {
  std::shared_ptr<const gateway::TreeReader> tree;
  if (extension_ != nullptr) {
    extension_->AddRoutes(router);
    tree = extension_->HttpTree();
  }
  if (tree == nullptr) tree = std::make_shared<StoreTree>(store_.get(), file_cache_.get());
  gateway::AddTreeRoutes(router, std::move(tree));
  return absl::OkStatus();
}

void Replica::StartWork(host::Metrics& metrics) {
  metrics_ = &metrics;
  feed_client_->Start();
  reporter_->Start();
}

void Replica::StopWork() {
  if (reporter_ != nullptr) reporter_->Stop();
  // The event being applied is finished; then nothing calls the extension.
  if (feed_client_ != nullptr) feed_client_->Stop();
  if (extension_ != nullptr) extension_->Stop();
}

void Replica::Close() {
  // The store itself is closed with the replica, whose owner may still read
  // it; what was applied is on disk now.
  if (absl::Status s = store_->SyncWal(); !s.ok()) {
    base::LogError(absl::StrCat("Cannot sync the store: ", s.ToString()));
  }
}

void Replica::Stop() {
  if (host_ != nullptr) host_->Stop();
}

int Replica::http_port() const { return host_ == nullptr ? 0 : host_->http_port(); }
int Replica::grpc_port() const { return host_ == nullptr ? 0 : host_->grpc_port(); }
int Replica::site_port() const { return host_ == nullptr ? 0 : host_->site_port(); }

host::MetricsSample Replica::Sample() const {
  host::MetricsSample sample;
  sample.applied_seq = store_->Tip().seq;
  if (feed_client_ != nullptr) {
    const feed::UpstreamState upstream = feed_client_->State();
    sample.upstream_head_seq = upstream.head_seq;
    sample.stale = absl::Now() - upstream.last_fresh_heartbeat > options_.stale_after;
  }
  return sample;
}

v1::NodeReport Replica::OwnReport() const {
  v1::NodeReport report;
  report.set_role(options_.role);
  report.set_version(host::kVersion);
  report.set_public_url(options_.http_limits.public_url);
  absl::StatusOr<host::NodeStatus> status = Status();
  if (status.ok()) {
    report.set_upstream(status->upstream);
    report.set_applied_seq(status->applied_seq);
    report.set_upstream_head_seq(std::max(status->upstream_head_seq, status->applied_seq));
    report.set_lag_seconds(std::max(0.0, host::LagSeconds(*status, absl::Now())));
  }
  return report;
}

absl::Status Replica::SendReport(const v1::ReportRequest& request) {
  const std::string upstream = feed_client_->State().address;
  if (upstream.empty()) return absl::UnavailableError("no upstream tried yet");
  // A call never outlasts the round it belongs to.
  const absl::Duration timeout = std::min(options_.report_interval, absl::Seconds(10));
  return report_client_.Send(upstream, request, timeout);
}

feed::ChainTip Replica::Tip() const { return store_->Tip(); }

std::string Replica::OriginKey() const { return store_->OriginKey(); }

absl::Status Replica::PinOriginKey(absl::string_view public_key) {
  return store_->PinOriginKey(public_key);
}

absl::Status Replica::RecordHeartbeat(const v1::Heartbeat& heartbeat) {
  return store_->RecordHeartbeat(heartbeat);
}

absl::Status Replica::Bootstrap(const v1::Event& head,
                                const std::function<absl::StatusOr<v1::Op>()>& next_file) {
  if (extension_ != nullptr) extension_->OnBeforeReset();
  absl::Status status = store_->Bootstrap(head, next_file);
  // Also after a failed one (which leaves the store empty): the extension
  // must not stay paused, and what it derived is of a store that is gone.
  if (extension_ != nullptr) extension_->OnReset();
  return status;
}

absl::Status Replica::Reset() {
  if (extension_ != nullptr) extension_->OnBeforeReset();
  absl::Status status = store_->Clear();
  if (extension_ != nullptr) extension_->OnReset();
  return status;
}

feed::EventCheck Replica::Check(const v1::Event& event) const {
  feed::EventCheck check;
  check.status = store_->CheckEvent(event, &check.key);
  return check;
}

absl::Status Replica::Apply(const v1::Event& event, const feed::EventCheck& check) {
  absl::StatusOr<bool> applied =
      check.status.ok() ? store_->Apply(event, check.key) : absl::StatusOr<bool>(check.status);
  if (!applied.ok()) {
    metrics_->CountEventRefused();
    return applied.status();
  }
  if (*applied) {
    metrics_->CountEventApplied();
    base::LogInfo(absl::StrCat("Applied ", feed::EventLine(event)));
  }
  if (*applied && extension_ != nullptr) {
    extension_->OnApplied(event, feed_client_->State().head_seq <= event.seq());
  }
  return absl::OkStatus();
}

std::string Replica::ExtrasJson() const {
  nlohmann::json extras = nlohmann::json::object();
  if (extension_ != nullptr) {
    const std::string own = extension_->StatusJson();
    if (!own.empty()) extras = nlohmann::json::parse(own, nullptr, /*allow_exceptions=*/false);
    if (!extras.is_object()) extras = nlohmann::json::object();
  }
  if (file_cache_ != nullptr) {
    const FileCache::Stats stats = file_cache_->stats();
    extras["file_cache"] = {{"bytes", stats.bytes},   {"max_bytes", options_.file_cache_bytes},
                            {"files", stats.files},   {"copied", stats.copied},
                            {"failed", stats.failed}};
  }
  return extras.empty() ? "" : extras.dump();
}

absl::StatusOr<host::NodeStatus> Replica::Status() const {
  const feed::ChainTip tip = store_->Tip();
  host::NodeStatus status;
  status.epoch = tip.epoch;
  status.applied_seq = tip.seq;
  if (extension_ != nullptr) {
    if (absl::optional<uint64_t> served = extension_->ServedSeq(); served && *served < tip.seq) {
      status.applied_seq = *served;
      status.stored_seq = tip.seq;
    }
  }
  status.extras_json = ExtrasJson();
  if (status.applied_seq > 0) {
    absl::StatusOr<v1::Event> event =
        store_->GetEvent(status.applied_seq, /*include_content=*/false);
    if (event.ok()) status.last_event_time = absl::FromUnixMicros(event->time_us());
  }
  status.stale_after = options_.stale_after;
  status.origin_key = store_->OriginKey();
  status.log_start = store_->LogStart();
  status.tree_digest = store_->TreeDigestNow();
  if (feed_client_ != nullptr) {
    feed::UpstreamState upstream = feed_client_->State();
    status.upstream = upstream.address;
    status.connected = upstream.connected;
    status.upstream_head_seq = upstream.head_seq;
    status.last_message = upstream.last_message;
    status.last_fresh_heartbeat = upstream.last_fresh_heartbeat;
    status.caught_up_at = upstream.caught_up_at;
    status.last_error = upstream.last_error;
  }
  return status;
}

}  // namespace pgxn::replica
