#include "host/event_stream.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/address.h"
#include "base/log.h"
#include "base/quote.h"
#include "feed/event_filter.h"
#include "feed/event_json.h"
#include "gateway/path.h"

namespace pgxn::host {
namespace {

namespace v1 = ::pgxn::feed::v1;

// What one Next gives at most: a client far behind gets its backlog in
// pieces of about this size, one after the other as it takes them.
constexpr size_t kPieceBytes = 256 * 1024;
// How many events one Next looks at, matching or not: a filtered client
// scanning a long log gives its I/O thread back now and then.
constexpr size_t kScanEvents = 1024;
// Events read from the log at once.
constexpr size_t kReadEvents = 64;
// What the rendered events kept near the head may take, besides their count
// (an event may have thousands of files).
constexpr size_t kCacheBytes = 64 << 20;
// What one read from the log may carry (the origin's reads near its head
// load contents for its own cache).
constexpr size_t kReadBytes = 8 << 20;
// Values a client may give per filter, and parameters in all.
constexpr size_t kMaxFilterValues = 32;
constexpr size_t kMaxParams = 128;
// A head that moves by more than this (and max_lag) at once is a node
// catching up in bulk (a snapshot bootstrap), not events clients should
// have kept up with.
constexpr uint64_t kJumpEvents = 256;
// How often the stream's thread looks for quiet clients; new events wake it
// at once.
constexpr absl::Duration kMaxTick = absl::Milliseconds(250);

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// A Host header fit to put in a URL: a name or an address, and a port.
bool IsPlainAuthority(absl::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
           c == ':' || c == '[' || c == ']';
  });
}

gateway::Response Refuse(int status, std::string message) {
  gateway::Response response = gateway::TextResponse(status, absl::StrCat(message, "\n"));
  response.SetHeader("Access-Control-Allow-Origin", "*");
  return response;
}

}  // namespace

// What the clients share: the head seen last, the rendered newest events,
// and the list of clients to wake.
class EventStream::Core {
 public:
  struct Entry {
    v1::Event event;  // without contents
    // Rendered when the entry is cached near the head (most clients want
    // it); further back a client renders only the events its filter takes.
    std::optional<feed::EventJson> json;
  };
  using Entries = std::vector<std::shared_ptr<const Entry>>;

  Core(const feed::EventLog* log, EventStreamOptions options) : log_(log), options_(options) {}

  const feed::EventLog& log() const { return *log_; }
  const EventStreamOptions& options() const { return options_; }
  uint64_t head() const { return head_.load(); }
  // Changes when the log starts over under the node (a new epoch, a log
  // whose head went back): every client of the old one is ended.
  uint64_t generation() const { return generation_.load(); }
  // Up to where the head jumped by more than max_lag at once (a node
  // catching up): clients behind it are replaying, not falling behind.
  uint64_t jumped_to() const { return jumped_to_.load(); }
  bool stopping() const { return stopping_.load(); }
  void CountCutoff() { cutoffs_.fetch_add(1); }
  uint64_t cutoffs() const { return cutoffs_.load(); }

  // Events after `after_seq`: from the cache near the head, rendered (one
  // reader fills it while the others wait for it), from the log further
  // back, not rendered.
  absl::StatusOr<Entries> Read(uint64_t after_seq) {
    if (Entries cached = Cached(after_seq); !cached.empty()) return cached;
    const uint64_t generation = generation_.load();
    const bool near_head = after_seq + options_.cache_events >= head();
    std::optional<absl::MutexLock> single_reader;
    if (near_head) {
      single_reader.emplace(&fill_mu_);
      if (Entries cached = Cached(after_seq); !cached.empty()) return cached;
    }
    absl::StatusOr<std::vector<v1::Event>> events =
        log_->ReadAfter(after_seq, kReadEvents, kReadBytes, /*include_content=*/false);
    if (!events.ok()) return events.status();
    Entries entries;
    entries.reserve(events->size());
    for (v1::Event& event : *events) {
      auto entry = std::make_shared<Entry>();
      if (near_head) entry->json = feed::DescribeEvent(event, *log_);
      entry->event = std::move(event);
      entries.push_back(std::move(entry));
    }
    if (near_head && !entries.empty()) {
      absl::MutexLock lock(&mu_);
      if (generation_.load() != generation) return entries;  // the log was reset meanwhile
      for (const auto& entry : entries) {
        if (cache_.emplace(entry->event.seq(), entry).second) cache_bytes_ += EntryBytes(*entry);
      }
      while (!cache_.empty() &&
             (cache_.size() > options_.cache_events || cache_bytes_ > kCacheBytes)) {
        cache_bytes_ -= EntryBytes(*cache_.begin()->second);
        cache_.erase(cache_.begin());
      }
    }
    return entries;
  }

  // Counts a stream from `address` in; false (and nothing counted) past a
  // cap. Each true is matched by one Release.
  bool Admit(const std::string& address) {
    absl::MutexLock lock(&mu_);
    size_t& from_address = per_address_[address];
    if (open_ >= options_.max_clients || from_address >= options_.max_clients_per_address) {
      if (from_address == 0) per_address_.erase(address);
      return false;
    }
    ++from_address;
    ++open_;
    return true;
  }
  void Release(const std::string& address) {
    absl::MutexLock lock(&mu_);
    --open_;
    auto found = per_address_.find(address);
    if (found != per_address_.end() && --found->second == 0) per_address_.erase(found);
  }
  void Add(std::shared_ptr<Client> client) {
    absl::MutexLock lock(&mu_);
    clients_.push_back(std::move(client));
  }
  size_t clients() const {
    absl::MutexLock lock(&mu_);
    return clients_.size();
  }

  // The thread: follows the head, wakes clients, sends heartbeats.
  void Run();
  void Stop() { stopping_.store(true); }
  void SetHead(const feed::ChainTip& tip) {
    head_.store(tip.seq);
    epoch_ = tip.epoch;
  }
  // The log's head went back or its epoch changed: forget what was cached.
  void Reset(const feed::ChainTip& tip) {
    absl::MutexLock fill(&fill_mu_);
    absl::MutexLock lock(&mu_);
    generation_.fetch_add(1);
    cache_.clear();
    cache_bytes_ = 0;
    jumped_to_.store(0);
    SetHead(tip);
  }

 private:
  static size_t EntryBytes(const Entry& entry) {
    return entry.event.ByteSizeLong() + (entry.json ? entry.json->open_json.size() : 0);
  }

  Entries Cached(uint64_t after_seq) const {
    Entries found;
    absl::MutexLock lock(&mu_);
    for (auto it = cache_.find(after_seq + 1);
         it != cache_.end() && found.size() < kReadEvents &&
         it->first == after_seq + found.size() + 1;
         ++it) {
      found.push_back(it->second);
    }
    return found;
  }

  // The open clients, after dropping the closed ones.
  std::vector<std::shared_ptr<Client>> Open();

  const feed::EventLog* const log_;
  const EventStreamOptions options_;
  std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> jumped_to_{0};
  std::string epoch_;  // the stream's thread's only
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> cutoffs_{0};
  mutable absl::Mutex mu_;
  std::map<uint64_t, std::shared_ptr<const Entry>> cache_ ABSL_GUARDED_BY(mu_);
  size_t cache_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::shared_ptr<Client>> clients_ ABSL_GUARDED_BY(mu_);
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;  // admitted and not yet closed
  absl::flat_hash_map<std::string, size_t> per_address_ ABSL_GUARDED_BY(mu_);
  absl::Mutex fill_mu_ ABSL_ACQUIRED_BEFORE(mu_);
};

// One subscriber: a cursor into the log and a filter. Next runs on the
// connection's strand, one call at a time, so the cursor needs no lock;
// what the stream's thread touches is atomic or under mu_.
class EventStream::Client final : public gateway::BodyStream {
 public:
  // `from_head`: the client asked for new events only (no seq to resume
  // after), so `after_seq` is the head when it came.
  // `address` was admitted (Core::Admit); Close releases it.
  Client(std::shared_ptr<Core> core, feed::EventFilter filter, uint64_t after_seq,
         bool from_head, std::string base_url, std::string address)
      : generation_(core->generation()),
        core_(std::move(core)),
        filter_(std::move(filter)),
        cursor_(after_seq),
        from_head_(from_head),
        base_url_(std::move(base_url)),
        address_(std::move(address)) {}
  ~Client() override { Close(); }

  void SetWaker(std::function<void()> wake) override {
    absl::MutexLock lock(&mu_);
    wake_ = std::move(wake);
  }

  void Close() override {
    if (closed_.exchange(true)) return;
    core_->Release(address_);
    absl::MutexLock lock(&mu_);
    wake_ = nullptr;
  }

  bool closed() const { return closed_.load(); }

  void Wake() {
    std::function<void()> wake;
    {
      absl::MutexLock lock(&mu_);
      wake = wake_;
    }
    if (wake) wake();
  }

  // Called by the stream's thread: a heartbeat is due when nothing was sent
  // for the heartbeat interval.
  void WakeIfQuiet(int64_t now_us) {
    if (now_us - last_sent_us_.load() < absl::ToInt64Microseconds(core_->options().heartbeat)) {
      return;
    }
    heartbeat_due_.store(true);
    Wake();
  }

  Piece Next() override {
    Piece piece;
    if (closed() || core_->stopping() || core_->generation() != generation_) {
      piece.done = true;
      return piece;
    }
    std::string& out = piece.bytes;
    if (first_) {
      first_ = false;
      // EventSource waits this long (ms) before reconnecting.
      out = "retry: 3000\n\n";
    }
    const uint64_t head = core_->head();
    if (live_ && head > cursor_ && head - cursor_ > core_->options().max_lag &&
        cursor_ >= core_->jumped_to()) {
      core_->CountCutoff();
      // With an id, so that EventSource resumes after the events the
      // client's filter passed over too.
      absl::StrAppend(&out, "id: ", cursor_, "\nevent: resume\ndata: {\"after\":", cursor_,
                      ",\"reason\":\"more than ", core_->options().max_lag,
                      " events behind the head\"}\n\n");
      piece.done = true;
      return piece;
    }
    if (cursor_ < head) {
      // The log may have started over beneath the client: a node that was
      // empty when it came bootstrapped from a snapshot since. A client that
      // wanted new events only takes the snapshot as what was there before;
      // one that resumes after a seq the log no longer holds is ended, and
      // its reconnection is answered 410.
      if (const uint64_t start = core_->log().LogStart(); cursor_ < start) {
        if (!from_head_ || sent_any_) {
          piece.done = true;
          return piece;
        }
        cursor_ = start;
      }
    }
    size_t scanned = 0;
    while (cursor_ < head && out.size() < kPieceBytes && scanned < kScanEvents) {
      absl::StatusOr<Core::Entries> entries = core_->Read(cursor_);
      if (!entries.ok() || entries->empty()) {
        const std::string why =
            entries.ok() ? "nothing to read" : std::string(entries.status().message());
        base::LogError(absl::StrCat("Event stream: reading after seq ", cursor_, ": ", why));
        // Ends the response; the client reconnects after its last id.
        piece.done = true;
        return piece;
      }
      for (const auto& entry : *entries) {
        if (out.size() >= kPieceBytes) break;
        cursor_ = entry->event.seq();
        ++scanned;
        if (!feed::EventMatches(filter_, entry->event)) continue;
        const std::string data =
            feed::CompleteEventJson(entry->json ? *entry->json
                                                : feed::DescribeEvent(entry->event, core_->log()),
                                    base_url_);
        absl::StrAppend(&out, "id: ", cursor_, "\nevent: ", entry->event.kind(), "\ndata: ", data,
                        "\n\n");
        sent_any_ = true;
      }
    }
    if (cursor_ >= head) live_ = true;
    if (out.empty() && cursor_ < head) out = ":\n\n";  // scanned without a match; more next
    if (out.empty() && heartbeat_due_.exchange(false)) out = ":\n\n";
    if (!out.empty()) last_sent_us_.store(NowMicros());
    return piece;
  }

 private:
  const uint64_t generation_;  // of the log the cursor points into
  const std::shared_ptr<Core> core_;
  const feed::EventFilter filter_;
  uint64_t cursor_;  // the last seq sent or passed over
  const bool from_head_;
  bool sent_any_ = false;
  const std::string base_url_;
  const std::string address_;  // the client's, as counted by Core::Admit
  bool first_ = true;
  bool live_ = false;  // has caught up with the head once
  std::atomic<bool> closed_{false};
  std::atomic<bool> heartbeat_due_{false};
  std::atomic<int64_t> last_sent_us_{NowMicros()};
  absl::Mutex mu_;
  std::function<void()> wake_ ABSL_GUARDED_BY(mu_);
};

std::vector<std::shared_ptr<EventStream::Client>> EventStream::Core::Open() {
  absl::MutexLock lock(&mu_);
  clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                [](const auto& client) { return client->closed(); }),
                 clients_.end());
  return clients_;
}

void EventStream::Core::Run() {
  const absl::Duration tick = std::min(kMaxTick, options_.heartbeat / 4);
  while (!stopping()) {
    const uint64_t before = head();
    log_->WaitForHeadAbove(before, absl::Now() + tick);
    if (stopping()) break;
    absl::StatusOr<feed::ChainTip> tip = log_->Head();
    if (!tip.ok()) continue;
    if (tip->seq < before || (!epoch_.empty() && tip->epoch != epoch_)) {
      base::LogInfo(absl::StrCat("Event stream: the log started over (epoch ", tip->epoch,
                                 ", head ", tip->seq, "); ending its clients' streams"));
      Reset(*tip);
      for (const std::shared_ptr<Client>& client : Open()) client->Wake();
      continue;
    }
    if (epoch_.empty()) epoch_ = tip->epoch;
    const bool advanced = tip->seq > before;
    if (advanced) {
      if (tip->seq - before > std::max<uint64_t>(options_.max_lag, kJumpEvents)) {
        jumped_to_.store(tip->seq);
      }
      head_.store(tip->seq);
    }
    const int64_t now_us = NowMicros();
    for (const std::shared_ptr<Client>& client : Open()) {
      if (advanced) client->Wake();
      // Also while events flow: a filter may pass none of them.
      client->WakeIfQuiet(now_us);
    }
  }
  // Every stream's next piece is its end.
  for (const std::shared_ptr<Client>& client : Open()) client->Wake();
}

EventStream::EventStream(const feed::EventLog* log, EventStreamOptions options, bool tls,
                         std::string authority, std::string public_url)
    : core_(std::make_shared<Core>(log, options)) {
  scheme_ = tls ? "https" : "http";
  authority_ = std::move(authority);
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  public_url_ = std::move(public_url);
}

EventStream::~EventStream() { Stop(); }

void EventStream::Start() {
  absl::StatusOr<feed::ChainTip> head = core_->log().Head();
  if (head.ok()) core_->SetHead(*head);
  thread_ = std::thread([core = core_] { core->Run(); });
}

void EventStream::Stop() {
  core_->Stop();
  if (thread_.joinable()) thread_.join();
}

size_t EventStream::clients() const { return core_->clients(); }
uint64_t EventStream::cutoffs() const { return core_->cutoffs(); }

gateway::Response EventStream::Preflight() {
  gateway::Response response;
  response.status = 204;
  response.SetHeader("Access-Control-Allow-Origin", "*");
  response.SetHeader("Access-Control-Allow-Methods", "GET, HEAD");
  response.SetHeader("Access-Control-Allow-Headers", "Last-Event-ID, Cache-Control");
  response.SetHeader("Access-Control-Max-Age", "86400");
  response.SetHeader("Allow", "GET, HEAD, OPTIONS");
  return response;
}

gateway::Response EventStream::Serve(const gateway::Request& request) const {
  absl::StatusOr<gateway::QueryParams> params = gateway::ParseQuery(request.query);
  if (!params.ok()) return Refuse(400, std::string(params.status().message()));
  if (params->size() > kMaxParams) {
    return Refuse(400, absl::StrCat("Too many parameters: at most ", kMaxParams));
  }
  feed::EventFilter filter;
  std::optional<uint64_t> after;
  for (const auto& [key, value] : *params) {
    if (key == "kind") {
      filter.kinds.push_back(value);
    } else if (key == "dist") {
      filter.dists.push_back(value);
    } else if (key == "user") {
      filter.users.push_back(value);
    } else if (key == "tag") {
      filter.tags.push_back(value);
    } else if (key == "since") {
      uint64_t seq;
      if (!absl::SimpleAtoi(value, &seq)) {
        return Refuse(400, absl::StrCat("since must be an event's seq (a number), not ",
                                        base::QuoteUntrusted(value, 40)));
      }
      after = seq;
    } else {
      return Refuse(400, absl::StrCat("Unknown parameter ", base::QuoteUntrusted(key, 40),
                                      "; /feed takes since, kind, dist, user and tag"));
    }
  }
  for (const auto* values : {&filter.kinds, &filter.dists, &filter.users, &filter.tags}) {
    if (values->size() > kMaxFilterValues) {
      return Refuse(400, absl::StrCat("Too many values for one filter: at most ",
                                      kMaxFilterValues));
    }
  }
  if (absl::Status valid = feed::ValidateEventFilter(filter); !valid.ok()) {
    return Refuse(400, std::string(valid.message()));
  }
  if (const absl::string_view last_id = request.Header("last-event-id"); !last_id.empty()) {
    uint64_t seq;
    if (!absl::SimpleAtoi(last_id, &seq)) {
      return Refuse(400, absl::StrCat("Last-Event-ID must be an event's seq (a number), not ",
                                      base::QuoteUntrusted(last_id, 40)));
    }
    after = seq;
  }
  const uint64_t log_start = core_->log().LogStart();
  if (after.has_value() && *after < log_start) {
    return Refuse(410, absl::StrCat("This node's log starts after seq ", log_start,
                                    ": the events from ", *after + 1,
                                    " on are not all here; resume from a node holding them, "
                                    "or from since=", log_start));
  }
  const absl::string_view host = request.Header("host");
  const std::string base_url =
      !public_url_.empty()
          ? public_url_
          : absl::StrCat(scheme_, "://", IsPlainAuthority(host) ? host : authority_);

  gateway::Response response;
  response.SetHeader("Content-Type", "text/event-stream; charset=utf-8");
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Access-Control-Allow-Origin", "*");
  // Proxies that buffer responses (nginx) pass this one on as it comes.
  response.SetHeader("X-Accel-Buffering", "no");
  if (request.method == "HEAD") return response;
  std::string address = base::ClientKey(request.RemoteIp());
  if (!core_->Admit(address)) {
    gateway::Response busy = Refuse(
        503, absl::StrCat("Too many event streams open (at most ", core_->options().max_clients,
                          ", ", core_->options().max_clients_per_address,
                          " from one address); close one or try again later"));
    busy.SetHeader("Retry-After", "10");
    return busy;
  }
  auto client = std::make_shared<Client>(core_, std::move(filter), after.value_or(core_->head()),
                                         !after.has_value(), base_url, std::move(address));
  core_->Add(client);
  response.push = std::move(client);
  return response;
}

}  // namespace pgxn::host
