#include "feed/feed_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "base/log.h"
#include "feed/byte_budget.h"
#include "feed/peer_key.h"
#include "feed/server_tls.h"
#include "pgxn/feed/v1/feed.grpc.pb.h"

namespace pgxn::feed {
namespace {

// How often the ticker looks at every stream for heartbeats due and writes
// that take too long. New events wake it at once regardless.
constexpr absl::Duration kTick = absl::Milliseconds(100);
// A snapshot reads contents in batches of about this size (one file may be
// larger alone).
constexpr uint64_t kSnapshotBatchBytes = 4 << 20;
// Addresses whose Report calls are counted in one minute; past it, calls of
// new addresses are refused for the rest of the minute.
constexpr size_t kMaxReportPeers = 65536;

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// A fixed set of threads running posted tasks in order: the only threads that
// read the log for streams.
class WorkQueue {
 public:
  explicit WorkQueue(int threads) {
    for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { Run(); });
  }
  ~WorkQueue() { Stop(); }

  void Post(std::function<void()> task) {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }

  // Runs what is queued, then joins the threads; idempotent.
  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  void Run() {
    while (true) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](WorkQueue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) {
              return q->stopping_ || !q->tasks_.empty();
            },
            this));
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// What the service's registry, ticker and byte budget see of a stream.
class Stream : public BudgetWaiter {
 public:
  // On the ticker's thread: `head` is the log's head seq now.
  virtual void Tick(absl::Time now, uint64_t head) = 0;
  // The server is stopping: end the stream.
  virtual void Stop() = 0;
};

// State shared by the service and its streams.
struct Shared {
  Shared(FeedServiceOptions options, FeedLimits limits, const EventLog* log)
      : options(std::move(options)),
        limits(limits),
        log(log),
        budget(limits.max_buffered_bytes),
        work(limits.worker_threads),
        report_rate(limits.max_reports_per_peer, kMaxReportPeers) {}

  const FeedServiceOptions options;
  const FeedLimits limits;
  const EventLog* const log;
  ByteBudget budget;
  WorkQueue work;
  ReportRate report_rate;

  enum class Kind { kSubscribe, kSnapshot };
  struct Entry {
    std::weak_ptr<Stream> stream;
    std::string peer;
    Kind kind;
  };
  struct PeerCount {
    uint64_t streams = 0;
    uint64_t snapshots = 0;
  };

  // Registers a new stream unless a cap refuses it (the status says which).
  absl::Status Admit(Stream* stream, std::weak_ptr<Stream> weak, const std::string& peer,
                     Kind kind) {
    absl::MutexLock lock(&mu);
    if (stopping) return absl::UnavailableError("Feed server is stopping");
    PeerCount& count = peers[peer];
    absl::Status refused = WhyRefused(count, kind);
    if (!refused.ok()) {
      if (count.streams == 0) peers.erase(peer);
      return refused;
    }
    if (kind == Kind::kSnapshot) {
      ++count.snapshots;
      ++snapshots;
    } else {
      ++subscribers;
    }
    ++count.streams;
    streams[stream] = Entry{std::move(weak), peer, kind};
    return absl::OkStatus();
  }

  // Why a new stream of `kind` from a peer with `count` open is refused; OK
  // when it is not.
  absl::Status WhyRefused(const PeerCount& count, Kind kind) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto refuse = [](absl::string_view what, uint64_t cap) {
      return absl::ResourceExhaustedError(
          absl::StrCat("This feed server serves at most ", cap, " ", what, "; try again later"));
    };
    if (streams.size() >= limits.max_streams) {
      return refuse("streams at once", limits.max_streams);
    }
    if (count.streams >= limits.max_streams_per_peer) {
      return refuse("streams at once to one address", limits.max_streams_per_peer);
    }
    if (kind == Kind::kSnapshot && snapshots >= limits.max_snapshots) {
      return refuse("snapshots at once", limits.max_snapshots);
    }
    if (kind == Kind::kSnapshot && count.snapshots >= limits.max_snapshots_per_peer) {
      return refuse("snapshots at once to one address", limits.max_snapshots_per_peer);
    }
    return absl::OkStatus();
  }

  void Leave(Stream* stream) {
    absl::MutexLock lock(&mu);
    auto found = streams.find(stream);
    if (found == streams.end()) return;
    PeerCount& count = peers[found->second.peer];
    --count.streams;
    if (found->second.kind == Kind::kSnapshot) {
      --count.snapshots;
      --snapshots;
    } else {
      --subscribers;
    }
    if (count.streams == 0) peers.erase(found->second.peer);
    streams.erase(found);
  }

  std::vector<std::shared_ptr<Stream>> Live() {
    std::vector<std::shared_ptr<Stream>> live;
    absl::MutexLock lock(&mu);
    live.reserve(streams.size());
    for (const auto& [raw, entry] : streams) {
      if (std::shared_ptr<Stream> stream = entry.stream.lock()) live.push_back(std::move(stream));
    }
    return live;
  }

  absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  absl::flat_hash_map<Stream*, Entry> streams ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, PeerCount> peers ABSL_GUARDED_BY(mu);
  int subscribers ABSL_GUARDED_BY(mu) = 0;
  uint64_t snapshots ABSL_GUARDED_BY(mu) = 0;
};

// A call refused before it started: finishes at once.
template <typename Message>
class Refusal final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit Refusal(const absl::Status& status) { this->Finish(ToGrpc(status)); }
  void OnDone() override { delete this; }
};

// One message ready to go, with the budget it holds until its client takes it.
template <typename Message>
struct Outgoing {
  Message message;
  uint64_t reserved = 0;
};

// What a stream's Fill produced.
template <typename Message>
struct Filled {
  std::vector<Outgoing<Message>> messages;
  absl::optional<grpc::Status> finish;  // end the stream after the messages
  bool idle = false;                    // nothing to do until the ticker says so
  bool waiting = false;                 // queued for the byte budget
};

// The mechanics every server stream shares: messages are written one at a
// time; when none is ready, a worker calls Fill for more. gRPC's reactor
// methods are never called with mu_ held (gRPC may call back inline).
template <typename Message>
class StreamReactor : public grpc::ServerWriteReactor<Message>, public Stream {
 public:
  StreamReactor(Shared* shared, grpc::CallbackServerContext* context)
      : shared_(shared), context_(context) {}

  // Registers the stream and starts it; a refusal finishes it instead. Called
  // once, by the method that created it, before returning it to gRPC.
  void Begin(std::shared_ptr<StreamReactor> self, const std::string& peer, Shared::Kind kind) {
    absl::Status admitted = shared_->Admit(this, self, peer, kind);
    peer_ = peer;
    {
      absl::MutexLock lock(&mu_);
      self_ = std::move(self);
      admitted_ = admitted.ok();
      if (!admitted.ok()) finishing_ = true;
    }
    if (!admitted.ok()) {
      this->Finish(ToGrpc(admitted));
      return;
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    uint64_t reserved;
    // Freed now, not when the next message replaces it: an idle stream
    // would otherwise keep the last event's contents.
    Outgoing<Message> written;
    {
      absl::MutexLock lock(&mu_);
      written = std::move(current_);
      writing_ = false;
      reserved = std::exchange(writing_reserved_, 0);
      last_send_ = absl::Now();
      if (!ok) cancelled_ = true;
    }
    written = Outgoing<Message>();
    shared_->budget.Give(reserved);
    Pump();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    Pump();
  }

  void OnDone() override {
    if (admitted_) shared_->Leave(this);
    std::shared_ptr<StreamReactor> self;
    uint64_t reserved = 0;
    {
      absl::MutexLock lock(&mu_);
      for (const Outgoing<Message>& out : ready_) reserved += out.reserved;
      ready_.clear();
      reserved += std::exchange(writing_reserved_, 0);
      self = std::move(self_);
    }
    shared_->budget.Give(reserved);
    // `self` may be the last reference: this is deleted on return, unless a
    // worker or the ticker still holds it.
  }

  void Tick(absl::Time now, uint64_t head) override {
    bool pump = false;
    absl::Duration stalled = absl::ZeroDuration();
    {
      absl::MutexLock lock(&mu_);
      if (finishing_) return;
      if (writing_ && now - write_started_ > shared_->limits.write_timeout) {
        if (timed_out_) return;
        timed_out_ = true;
        cancelling_ = true;
        stalled = now - write_started_;
      } else if (idle_ && !writing_ && !working_ && HasWork(now, head, last_send_)) {
        idle_ = false;
        pump = true;
      } else if (waiting_ && !writing_ && !working_ && HeartbeatDue(now, last_send_)) {
        // Still waiting for the budget, but the client must hear that the
        // stream is alive, or it gives up on it as silent.
        waiting_ = false;
        pump = true;
      }
    }
    if (stalled > absl::ZeroDuration()) {
      // Its write completes (failed) once cancelled, and the stream finishes.
      base::LogWarning(absl::StrCat("Feed: dropping a stream of ", context_->peer(),
                                    ": its client has not read for ",
                                    absl::FormatDuration(stalled)));
      Cancel();
      return;
    }
    if (pump) Pump();
  }

  void Wake() override {
    {
      absl::MutexLock lock(&mu_);
      waiting_ = false;
      ++wakes_;
    }
    Pump();
  }

  void Stop() override {
    bool writing;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      writing = writing_ && !finishing_ && !cancelling_;
      if (writing) cancelling_ = true;
    }
    if (writing) {
      Cancel();
    } else {
      Pump();
    }
  }

 protected:
  // On a worker, never twice at once: the next messages, or why there are
  // none. `last_send` is when the client last took a message.
  virtual Filled<Message> Fill(absl::Time last_send) = 0;
  // On the ticker: whether an idle stream has something to do, and whether
  // one waiting for the byte budget has a heartbeat to send meanwhile.
  virtual bool HasWork(absl::Time now, uint64_t head, absl::Time last_send) const = 0;
  virtual bool HeartbeatDue(absl::Time now, absl::Time last_send) const = 0;

  // With cancelling_ set by the caller: the stream cannot finish (and its
  // context go away) until TryCancel has returned. gRPC may call OnCancel and
  // OnWriteDone from within TryCancel, hence no lock around it.
  void Cancel() {
    context_->TryCancel();
    {
      absl::MutexLock lock(&mu_);
      cancelling_ = false;
    }
    Pump();
  }

  std::weak_ptr<Stream> weak_self() {
    absl::MutexLock lock(&mu_);
    return self_;
  }

  Shared* const shared_;
  grpc::CallbackServerContext* const context_;
  std::string peer_;  // set by Begin, before any Fill

 private:
  // Does the next thing the stream's state calls for: write a ready message,
  // finish, or ask a worker for more.
  void Pump() {
    enum { kNothing, kWrite, kFinish, kWork } action = kNothing;
    grpc::Status finish_status;
    std::shared_ptr<StreamReactor> worker_ref;
    {
      absl::MutexLock lock(&mu_);
      if (finishing_ || self_ == nullptr) return;
      if (writing_ || working_ || cancelling_) return;
      if (cancelled_ || stopping_) {
        finishing_ = true;
        action = kFinish;
        finish_status = cancelled_ ? grpc::Status::CANCELLED
                                   : grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                                  "Feed server is stopping");
      } else if (!ready_.empty()) {
        current_ = std::move(ready_.front());
        ready_.pop_front();
        writing_ = true;
        writing_reserved_ = current_.reserved;
        write_started_ = absl::Now();
        action = kWrite;
      } else if (finish_after_.has_value()) {
        finishing_ = true;
        action = kFinish;
        finish_status = *finish_after_;
      } else if (!idle_ && !waiting_) {
        working_ = true;
        worker_ref = self_;
        action = kWork;
      }
    }
    switch (action) {
      case kNothing:
        return;
      case kWrite:
        this->StartWrite(&current_.message);
        return;
      case kFinish:
        this->Finish(finish_status);
        return;
      case kWork:
        shared_->work.Post([self = std::move(worker_ref)] { self->Work(); });
        return;
    }
  }

  void Work() {
    absl::Time last_send;
    bool fill;
    uint64_t wakes;
    {
      absl::MutexLock lock(&mu_);
      last_send = last_send_;
      fill = !cancelled_ && !stopping_;
      wakes = wakes_;
    }
    Filled<Message> filled;
    if (fill) filled = Fill(last_send);
    {
      absl::MutexLock lock(&mu_);
      working_ = false;
      for (Outgoing<Message>& out : filled.messages) ready_.push_back(std::move(out));
      if (filled.finish.has_value()) finish_after_ = filled.finish;
      idle_ = filled.idle;
      // Room given back while Fill ran has woken nobody: try again at once.
      waiting_ = filled.waiting && wakes == wakes_;
    }
    if (filled.idle) {
      // An event committed after Fill looked at the head, whose tick passed
      // this stream by while it was working, is seen here: the head moves
      // before the ticker wakes, and the ticker sees idle_ from now on.
      absl::StatusOr<ChainTip> tip = shared_->log->Head();
      absl::MutexLock lock(&mu_);
      if (tip.ok() && idle_ && HasWork(absl::Now(), tip->seq, last_send_)) idle_ = false;
    }
    Pump();
  }

  absl::Mutex mu_;
  std::shared_ptr<StreamReactor> self_ ABSL_GUARDED_BY(mu_);
  bool admitted_ = false;  // set before gRPC sees the reactor
  std::deque<Outgoing<Message>> ready_ ABSL_GUARDED_BY(mu_);
  Outgoing<Message> current_;  // the message being written; only with writing_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t writing_reserved_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time write_started_ ABSL_GUARDED_BY(mu_);
  absl::Time last_send_ ABSL_GUARDED_BY(mu_) = absl::Now();
  bool working_ ABSL_GUARDED_BY(mu_) = false;
  bool idle_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t wakes_ ABSL_GUARDED_BY(mu_) = 0;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool timed_out_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelling_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  absl::optional<grpc::Status> finish_after_ ABSL_GUARDED_BY(mu_);
};

uint64_t ContentBytes(const v1::Event& event) {
  uint64_t bytes = 0;
  for (const v1::Op& op : event.ops()) bytes += op.size();
  return bytes;
}

class SubscribeStream final : public StreamReactor<v1::FeedMessage> {
 public:
  SubscribeStream(Shared* shared, grpc::CallbackServerContext* context,
                  const v1::SubscribeRequest& request)
      : StreamReactor(shared, context), request_(request), cursor_(request.after_seq()) {}

 protected:
  bool HasWork(absl::Time now, uint64_t head, absl::Time last_send) const override {
    return head > cursor_.load() || HeartbeatDue(now, last_send);
  }
  bool HeartbeatDue(absl::Time now, absl::Time last_send) const override {
    return now - last_send >= shared_->options.heartbeat_interval;
  }

  Filled<v1::FeedMessage> Fill(absl::Time last_send) override {
    Filled<v1::FeedMessage> filled;
    const EventLog& log = *shared_->log;
    if (!greeted_) {
      greeted_ = true;
      AddHeartbeat(&filled);
      return filled;
    }
    if (pending_.empty()) {
      absl::StatusOr<ChainTip> tip = log.Head();
      if (!tip.ok()) return Finished(ToGrpc(tip.status()));
      if (tip->seq <= cursor_) {
        if (absl::Now() - last_send >= shared_->options.heartbeat_interval) AddHeartbeat(&filled);
        filled.idle = true;
        return filled;
      }
      // The records first, without contents: their sizes say how much of the
      // budget their contents need before any is read.
      absl::StatusOr<std::vector<v1::Event>> light =
          log.ReadAfter(cursor_, shared_->options.batch_events, SIZE_MAX, false);
      if (!light.ok()) {
        base::LogWarning(absl::StrCat("Feed: cannot read events after ", cursor_.load(), ": ",
                                      light.status().ToString()));
        return Finished(ToGrpc(light.status()));
      }
      if (light->empty()) {
        // The head said there is more but nothing was readable: an anomaly
        // of the log; wait for the ticker instead of spinning.
        base::LogWarning(absl::StrCat("Feed: head ", tip->seq, " but no event after ", cursor_.load()));
        filled.idle = true;
        return filled;
      }
      for (v1::Event& event : *light) {
        // A log reset under a stream (a node that took a new epoch) must not
        // feed the old epoch's subscriber the new log.
        if (!request_.epoch().empty() && event.epoch() != request_.epoch()) {
          return Finished(grpc::Status(
              grpc::StatusCode::FAILED_PRECONDITION,
              absl::StrCat("Epoch ", request_.epoch(), " is not this log's epoch ", event.epoch(),
                           "; the log was reset")));
        }
        pending_.push_back(std::move(event));
      }
    }
    if (!request_.include_content()) {
      while (!pending_.empty()) {
        Add(std::move(pending_.front()), 0, &filled);
        pending_.pop_front();
      }
      return filled;
    }
    // As many of the pending events as fit in one batch, or the first alone.
    size_t count = 0;
    uint64_t bytes = 0;
    while (count < pending_.size() &&
           (count == 0 || bytes + ContentBytes(pending_[count]) <= shared_->options.batch_bytes)) {
      bytes += ContentBytes(pending_[count++]);
    }
    auto wait = [&] {
      filled.waiting = true;
      if (HeartbeatDue(absl::Now(), last_send)) AddHeartbeat(&filled);
      return filled;
    };
    if (!shared_->budget.Take(bytes, peer_, weak_self())) {
      if (count == 1) return wait();
      // The first alone may still fit; otherwise we are queued by this Take.
      count = 1;
      bytes = ContentBytes(pending_.front());
      if (!shared_->budget.Take(bytes, peer_, weak_self())) return wait();
    }
    absl::StatusOr<std::vector<v1::Event>> events =
        log.ReadAfter(cursor_, count, std::max<uint64_t>(bytes, 1), true);
    if (!events.ok()) {
      shared_->budget.Give(bytes);
      return Finished(ToGrpc(events.status()));
    }
    uint64_t used = 0;
    for (v1::Event& event : *events) {
      if (pending_.empty() || event.seq() != pending_.front().seq() ||
          event.hash() != pending_.front().hash()) {
        shared_->budget.Give(bytes - used);
        return Finished(grpc::Status(grpc::StatusCode::DATA_LOSS,
                                     absl::StrCat("Event ", event.seq(), " changed while read")));
      }
      pending_.pop_front();
      const uint64_t reserved = std::min(ContentBytes(event), bytes - used);
      used += reserved;
      Add(std::move(event), reserved, &filled);
    }
    shared_->budget.Give(bytes - used);
    return filled;
  }

 private:
  Filled<v1::FeedMessage> Finished(grpc::Status status) {
    Filled<v1::FeedMessage> filled;
    filled.finish = std::move(status);
    return filled;
  }

  void Add(v1::Event event, uint64_t reserved, Filled<v1::FeedMessage>* filled) {
    cursor_ = event.seq();
    Outgoing<v1::FeedMessage> out;
    *out.message.mutable_event() = std::move(event);
    out.reserved = reserved;
    filled->messages.push_back(std::move(out));
  }

  // The origin's heartbeat: fresh at the origin, the newest received on a
  // relay. Nothing is sent before there is one.
  void AddHeartbeat(Filled<v1::FeedMessage>* filled) {
    absl::optional<v1::Heartbeat> heartbeat = shared_->log->OriginHeartbeat();
    if (!heartbeat.has_value()) return;
    Outgoing<v1::FeedMessage> out;
    *out.message.mutable_heartbeat() = *std::move(heartbeat);
    filled->messages.push_back(std::move(out));
  }

  const v1::SubscribeRequest request_;
  // Written by Fill only; read by the ticker.
  std::atomic<uint64_t> cursor_;
  // Fill's own: records read but not yet sent.
  bool greeted_ = false;
  std::deque<v1::Event> pending_;
};

class SnapshotStream final : public StreamReactor<v1::SnapshotChunk> {
 public:
  using StreamReactor::StreamReactor;

 protected:
  bool HasWork(absl::Time, uint64_t, absl::Time) const override { return false; }
  // A snapshot has no heartbeat; its client waits for files as long as it likes.
  bool HeartbeatDue(absl::Time, absl::Time) const override { return false; }

  Filled<v1::SnapshotChunk> Fill(absl::Time) override {
    Filled<v1::SnapshotChunk> filled;
    if (reader_ == nullptr) {
      absl::StatusOr<std::unique_ptr<SnapshotReader>> reader = shared_->log->OpenSnapshot();
      if (!reader.ok()) {
        filled.finish = ToGrpc(reader.status());
        return filled;
      }
      reader_ = *std::move(reader);
      Outgoing<v1::SnapshotChunk> out;
      *out.message.mutable_head() = reader_->head();
      filled.messages.push_back(std::move(out));
      return filled;
    }
    absl::optional<uint64_t> next = reader_->NextFileBytes();
    if (!next.has_value()) {
      filled.finish = grpc::Status::OK;
      return filled;
    }
    uint64_t bytes = std::max(*next, kSnapshotBatchBytes);
    if (!shared_->budget.Take(bytes, peer_, weak_self())) {
      if (bytes == *next) {
        filled.waiting = true;
        return filled;
      }
      bytes = *next;
      if (!shared_->budget.Take(bytes, peer_, weak_self())) {
        filled.waiting = true;
        return filled;
      }
    }
    absl::StatusOr<std::vector<v1::Op>> files = reader_->Next(bytes);
    if (!files.ok()) {
      shared_->budget.Give(bytes);
      filled.finish = ToGrpc(files.status());
      return filled;
    }
    uint64_t used = 0;
    for (v1::Op& file : *files) {
      Outgoing<v1::SnapshotChunk> out;
      out.reserved = std::min<uint64_t>(file.content().size(), bytes - used);
      used += out.reserved;
      *out.message.mutable_file() = std::move(file);
      filled.messages.push_back(std::move(out));
    }
    shared_->budget.Give(bytes - used);
    return filled;
  }

 private:
  std::unique_ptr<SnapshotReader> reader_;  // Fill's own
};

class FeedServiceImpl final : public v1::Feed::CallbackService {
 public:
  explicit FeedServiceImpl(Shared* shared) : shared_(shared) {}

  grpc::ServerUnaryReactor* GetHead(grpc::CallbackServerContext* context,
                                    const v1::GetHeadRequest*, v1::Head* head) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    // The signature may need a read of the log: not on gRPC's thread.
    shared_->work.Post([this, reactor, head] { reactor->Finish(FillHead(head)); });
    return reactor;
  }

  grpc::ServerWriteReactor<v1::FeedMessage>* Subscribe(
      grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) override {
    const EventLog& log = *shared_->log;
    absl::StatusOr<ChainTip> tip = log.Head();
    if (!tip.ok()) return new Refusal<v1::FeedMessage>(tip.status());
    if (!request->epoch().empty() && !tip->epoch.empty() && request->epoch() != tip->epoch) {
      return new Refusal<v1::FeedMessage>(absl::FailedPreconditionError(
          absl::StrCat("Epoch ", request->epoch(), " is not this log's epoch ", tip->epoch,
                       "; the log was reset")));
    }
    if (request->after_seq() < log.LogStart()) {
      return new Refusal<v1::FeedMessage>(absl::OutOfRangeError(
          absl::StrCat("This node's log starts after seq ", log.LogStart(),
                       "; subscribe after a later seq or bootstrap from a snapshot")));
    }
    auto stream = std::make_shared<SubscribeStream>(shared_, context, *request);
    SubscribeStream* raw = stream.get();
    raw->Begin(std::move(stream), PeerKey(context->peer()), Shared::Kind::kSubscribe);
    return raw;
  }

  grpc::ServerWriteReactor<v1::SnapshotChunk>* Snapshot(grpc::CallbackServerContext* context,
                                                        const v1::SnapshotRequest*) override {
    auto stream = std::make_shared<SnapshotStream>(shared_, context);
    SnapshotStream* raw = stream.get();
    raw->Begin(std::move(stream), PeerKey(context->peer()), Shared::Kind::kSnapshot);
    return raw;
  }

  grpc::ServerUnaryReactor* Report(grpc::CallbackServerContext* context,
                                   const v1::ReportRequest* request,
                                   v1::ReportResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpc(Accept(PeerKey(context->peer()), *request)));
    return reactor;
  }

 private:
  // Cheap and bounded: the request is at most 1 MiB (the server's limit),
  // checked in one pass, and copied once to the sink.
  absl::Status Accept(const std::string& peer, const v1::ReportRequest& request) {
    ReportSink* sink = shared_->options.reports;
    if (sink == nullptr) return absl::UnimplementedError("This node takes no reports");
    if (!shared_->report_rate.Admit(peer, absl::Now())) {
      return absl::ResourceExhaustedError(
          absl::StrCat("This feed server takes at most ", shared_->limits.max_reports_per_peer,
                       " Report calls a minute from one address; try again later"));
    }
    if (absl::Status s = CheckReportRequest(request); !s.ok()) return s;
    sink->Accept(std::vector<v1::NodeReport>(request.reports().begin(), request.reports().end()));
    return absl::OkStatus();
  }

  grpc::Status FillHead(v1::Head* head) {
    const EventLog& log = *shared_->log;
    absl::StatusOr<ChainTip> tip = log.Head();
    if (!tip.ok()) return ToGrpc(tip.status());
    head->set_seq(tip->seq);
    head->set_epoch(tip->epoch);
    head->set_hash(tip->hash);
    head->set_time_us(NowMicros());
    head->set_role(shared_->options.role);
    head->set_origin_key(log.OriginKey());
    head->set_log_start_seq(log.LogStart());
    if (tip->seq > 0) {
      absl::StatusOr<std::vector<v1::Event>> at_tip =
          log.ReadAfter(tip->seq - 1, 1, 0, /*include_content=*/false);
      if (at_tip.ok() && !at_tip->empty() && at_tip->front().seq() == tip->seq) {
        head->set_signature(at_tip->front().signature());
      }
    }
    if (absl::optional<v1::Heartbeat> heartbeat = log.OriginHeartbeat()) {
      *head->mutable_origin_heartbeat() = *std::move(heartbeat);
    }
    return grpc::Status::OK;
  }

  Shared* const shared_;
};

class FeedServerImpl final : public FeedServer {
 public:
  FeedServerImpl(std::unique_ptr<Shared> shared, std::unique_ptr<FeedServiceImpl> service)
      : shared_(std::move(shared)), service_(std::move(service)) {}
  ~FeedServerImpl() override { Shutdown(); }

  absl::Status Listen(const GrpcServerOptions& options) {
    std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
      absl::StatusOr<std::unique_ptr<ServerTls>> tls =
          ServerTls::Load(options.tls_cert_file, options.tls_key_file);
      if (!tls.ok()) return tls.status();
      tls_ = *std::move(tls);
      credentials = tls_->Credentials();
    }
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.address, credentials, &port_);
    builder.SetMaxSendMessageSize(options.max_message_bytes);
    builder.SetMaxReceiveMessageSize(1 << 20);  // requests are tiny
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      return absl::UnavailableError(absl::StrCat("Cannot listen for gRPC on ", options.address,
                                                 tls_ != nullptr ? " with TLS" : ""));
    }
    ticker_ = std::thread([this] { Tick(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  int active_streams() const override {
    absl::MutexLock lock(&shared_->mu);
    return shared_->subscribers;
  }

  absl::Status ReloadTls() override {
    return tls_ == nullptr ? absl::OkStatus() : tls_->Reload();
  }

  void Shutdown() override {
    if (stopped_.exchange(true)) return;
    {
      absl::MutexLock lock(&shared_->mu);
      shared_->stopping = true;
    }
    for (const std::shared_ptr<Stream>& stream : shared_->Live()) stream->Stop();
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      server_->Wait();
    }
    {
      absl::MutexLock lock(&mu_);
      ticking_ = false;
    }
    if (ticker_.joinable()) ticker_.join();
    shared_->work.Stop();
  }

 private:
  // Wakes caught-up streams as soon as the log grows, and every kTick looks
  // at each stream for heartbeats due and writes that take too long.
  void Tick() {
    uint64_t head = 0;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (!ticking_) return;
      }
      head = shared_->log->WaitForHeadAbove(head, absl::Now() + kTick);
      const absl::Time now = absl::Now();
      for (const std::shared_ptr<Stream>& stream : shared_->Live()) stream->Tick(now, head);
    }
  }

  std::unique_ptr<Shared> shared_;
  std::unique_ptr<FeedServiceImpl> service_;
  // Declared before the server, which calls it for every handshake, so that
  // it is destroyed after it.
  std::unique_ptr<ServerTls> tls_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::thread ticker_;
  absl::Mutex mu_;
  bool ticking_ ABSL_GUARDED_BY(mu_) = true;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<FeedServer>> FeedServer::Start(const GrpcServerOptions& server,
                                                              const FeedServiceOptions& feed,
                                                              const EventLog* log) {
  auto shared = std::make_unique<Shared>(feed, server.limits, log);
  auto service = std::make_unique<FeedServiceImpl>(shared.get());
  auto impl = std::make_unique<FeedServerImpl>(std::move(shared), std::move(service));
  if (absl::Status s = impl->Listen(server); !s.ok()) return s;
  return std::unique_ptr<FeedServer>(std::move(impl));
}

}  // namespace pgxn::feed
