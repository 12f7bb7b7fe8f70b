#include "origin/publishing/pg_event_log.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "base/digest.h"
#include "base/log.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {
absl::StatusOr<std::unique_ptr<PgEventLog>> PgEventLog::Start(PgPool* pool,
                                                              const feed::KeyPair* key,
                                                              absl::Duration refresh) {
  auto conn = pool->Acquire();
  if (!conn.ok()) return conn.status();
  absl::StatusOr<feed::ChainTip> head = ReadFeedHead(**conn);
  if (!head.ok()) return head.status();
  auto log = std::unique_ptr<PgEventLog>(new PgEventLog(pool, key, refresh, *std::move(head)));
  log->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (log->wake_fd_ < 0) return absl::InternalError("eventfd failed");
  log->listener_ = std::thread([raw = log.get()] { raw->Listen(); });
  return log;
}

PgEventLog::PgEventLog(PgPool* pool, const feed::KeyPair* key, absl::Duration refresh,
                       feed::ChainTip head)
    : pool_(pool), key_(key), refresh_(refresh), head_(std::move(head)) {}

PgEventLog::~PgEventLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)::write(wake_fd_, &one, sizeof one);
  }
  if (listener_.joinable()) listener_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void PgEventLog::NoteCommitted(const feed::ChainTip& tip) {
  absl::MutexLock lock(&mu_);
  if (tip.seq > head_.seq) head_ = tip;
}

absl::StatusOr<feed::ChainTip> PgEventLog::Head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

uint64_t PgEventLog::WaitForHeadAbove(uint64_t seq, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto above = [this, seq]()
                   ABSL_SHARED_LOCKS_REQUIRED(mu_) { return head_.seq > seq || stopping_; };
  mu_.AwaitWithDeadline(absl::Condition(&above), deadline);
  return head_.seq;
}

void PgEventLog::Listen() {
  int backoff_ms = 100;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(pool_->dsn());
    absl::Status status = conn.status();
    if (conn.ok()) {
      status = (*conn)->ExecScript(absl::StrCat("LISTEN ", kFeedChannel));
    }
    bool refresh = true;
    while (status.ok()) {
      if (refresh) {
        absl::StatusOr<feed::ChainTip> head = ReadFeedHead(**conn);
        if (!head.ok()) {
          status = head.status();
          break;
        }
        NoteCommitted(*head);
        backoff_ms = 100;
      }
      pollfd fds[2] = {{(*conn)->socket(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      // Re-read the head every refresh_ even without notifications, in case
      // one was lost while the listening connection was being re-established.
      const int timeout_ms = refresh_ == absl::InfiniteDuration()
                                 ? -1
                                 : static_cast<int>(absl::ToInt64Milliseconds(refresh_));
      int n = ::poll(fds, 2, timeout_ms);
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
      }
      if (n < 0) continue;
      absl::StatusOr<std::vector<std::string>> notes = (*conn)->TakeNotifications();
      if (!notes.ok()) {
        status = notes.status();
        break;
      }
      refresh = n == 0 || !notes->empty();
    }
    base::LogWarning(absl::StrCat("Feed listener: ", status.message(), "; reconnecting"));
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 5000);
  }
}

absl::StatusOr<std::vector<v1::Event>> PgEventLog::ReadAfter(uint64_t after_seq, size_t max_events,
                                                             size_t max_bytes,
                                                             bool include_content) const {
  if (std::vector<v1::Event> cached =
          recent_.Read(after_seq, max_events, max_bytes, include_content);
      !cached.empty()) {
    return cached;
  }
  // A new event wakes every stream at once, and all of them ask for it: near
  // the head, one reads it from Postgres while the others wait for the cache.
  absl::optional<absl::MutexLock> single_reader;
  uint64_t head_seq;
  {
    absl::MutexLock lock(&mu_);
    head_seq = head_.seq;
  }
  if (after_seq + kNearHead >= head_seq) {
    single_reader.emplace(&head_read_mu_);
    if (std::vector<v1::Event> cached =
            recent_.Read(after_seq, max_events, max_bytes, include_content);
        !cached.empty()) {
      return cached;
    }
  }
  auto conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  auto rows = (*conn)->Exec(
      "SELECT seq, record FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
      PgParams().Int(static_cast<int64_t>(after_seq)).Int(static_cast<int64_t>(max_events)));
  if (!rows.ok()) return rows.status();
  std::vector<v1::Event> events;
  size_t bytes = 0;
  for (int row = 0; row < rows->rows() && bytes < max_bytes; ++row) {
    v1::Event event;
    absl::string_view record = rows->Get(row, 1);
    if (!event.ParseFromArray(record.data(), static_cast<int>(record.size())) ||
        event.seq() != static_cast<uint64_t>(rows->GetInt(row, 0))) {
      return absl::DataLossError(
          absl::StrCat("Stored event ", rows->GetInt(row, 0), " is corrupt"));
    }
    if (event.seq() != after_seq + events.size() + 1) {
      return absl::DataLossError(absl::StrCat("Event log has a hole before seq ", event.seq()));
    }
    for (const v1::Op& op : event.ops()) bytes += op.size();
    events.push_back(std::move(event));
  }
  // Near the head the contents are read even for a light subscriber, so that
  // the cache serves every subscriber after it.
  if (events.empty() || (!include_content && !single_reader.has_value())) return events;

  std::vector<std::string> wanted;
  for (const v1::Event& event : events) {
    for (const v1::Op& op : event.ops()) {
      if (op.type() == v1::Op::PUT) wanted.push_back(base::HexEncode(op.sha256()));
    }
  }
  auto blobs = (*conn)->Exec(
      "SELECT sha256, content FROM blobs "
      "WHERE sha256 = ANY (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)",
      PgParams().TextArray(wanted));
  if (!blobs.ok()) return blobs.status();
  absl::flat_hash_map<absl::string_view, absl::string_view> contents;
  for (int row = 0; row < blobs->rows(); ++row) contents[blobs->Get(row, 0)] = blobs->Get(row, 1);
  for (v1::Event& event : events) {
    for (v1::Op& op : *event.mutable_ops()) {
      if (op.type() != v1::Op::PUT) continue;
      auto found = contents.find(op.sha256());
      if (found == contents.end()) {
        return absl::DataLossError(
            absl::StrCat("Event ", event.seq(), ": no content for ", op.path()));
      }
      op.set_content(std::string(found->second));
    }
  }
  // Only reads that reach the head are kept: those are what live subscribers
  // ask for next; a catch-up far behind would only evict them.
  if (events.back().seq() >= head_seq) recent_.Add(events);
  if (!include_content) {
    for (v1::Event& event : events) {
      // Swapped away, not cleared: a cleared string keeps its memory.
      for (v1::Op& op : *event.mutable_ops()) std::string().swap(*op.mutable_content());
    }
  }
  return events;
}

absl::StatusOr<std::string> PgEventLog::ReadContent(absl::string_view sha256,
                                                    uint64_t size) const {
  auto conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  auto rows = (*conn)->Exec("SELECT content FROM blobs WHERE sha256 = $1",
                            PgParams().Bytes(std::string(sha256)));
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("No content ", base::HexEncode(sha256)));
  }
  absl::string_view content = rows->Get(0, 0);
  if (content.size() != size) {
    return absl::DataLossError(absl::StrCat("Content ", base::HexEncode(sha256), " holds ",
                                            content.size(), " bytes, not ", size));
  }
  return std::string(content);
}

absl::optional<v1::Heartbeat> PgEventLog::OriginHeartbeat() const {
  feed::ChainTip head;
  {
    absl::MutexLock lock(&mu_);
    head = head_;
  }
  v1::Heartbeat heartbeat;
  heartbeat.set_head_seq(head.seq);
  heartbeat.set_head_hash(head.hash);
  heartbeat.set_epoch(head.epoch);
  heartbeat.set_time_us(absl::ToUnixMicros(absl::Now()));
  feed::SignHeartbeat(key_->secret_key, &heartbeat);
  return heartbeat;
}

namespace {

// The tree at one event as listed in one transaction; contents are fetched
// by hash as the stream asks for them.
class PgSnapshotReader final : public feed::SnapshotReader {
 public:
  struct Entry {
    std::string path;
    std::string sha256;
    uint64_t size;
    std::string media_type;
  };
  PgSnapshotReader(PgPool* pool, v1::Event head, std::vector<Entry> files)
      : pool_(pool), head_(std::move(head)), files_(std::move(files)) {}

  const v1::Event& head() const override { return head_; }

  absl::optional<uint64_t> NextFileBytes() const override {
    if (next_ >= files_.size()) return absl::nullopt;
    return files_[next_].size;
  }

  absl::StatusOr<std::vector<v1::Op>> Next(uint64_t max_bytes) override {
    size_t end = next_;
    uint64_t bytes = 0;
    while (end < files_.size() && (end == next_ || bytes + files_[end].size <= max_bytes)) {
      bytes += files_[end++].size;
    }
    if (end == next_) return std::vector<v1::Op>();
    std::vector<std::string> wanted;
    for (size_t i = next_; i < end; ++i) wanted.push_back(base::HexEncode(files_[i].sha256));
    std::vector<v1::Op> ops;
    {
      auto conn = pool_->Acquire();
      if (!conn.ok()) return conn.status();
      auto blobs = (*conn)->Exec(
          "SELECT sha256, content FROM blobs "
          "WHERE sha256 = ANY (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)",
          PgParams().TextArray(wanted));
      if (!blobs.ok()) return blobs.status();
      absl::flat_hash_map<absl::string_view, absl::string_view> contents;
      for (int row = 0; row < blobs->rows(); ++row) {
        contents[blobs->Get(row, 0)] = blobs->Get(row, 1);
      }
      for (size_t i = next_; i < end; ++i) {
        const Entry& entry = files_[i];
        auto found = contents.find(entry.sha256);
        if (found == contents.end()) {
          return absl::DataLossError(absl::StrCat("No content for ", entry.path));
        }
        v1::Op op;
        op.set_type(v1::Op::PUT);
        op.set_path(entry.path);
        op.set_sha256(entry.sha256);
        op.set_size(entry.size);
        op.set_media_type(entry.media_type);
        op.set_content(std::string(found->second));
        ops.push_back(std::move(op));
      }
    }
    // What was sent is not needed again: give its memory back as the stream goes.
    for (size_t i = next_; i < end; ++i) files_[i] = Entry{};
    next_ = end;
    return ops;
  }

 private:
  PgPool* const pool_;
  const v1::Event head_;
  std::vector<Entry> files_;
  size_t next_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<feed::SnapshotReader>> PgEventLog::OpenSnapshot() const {
  auto conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  PgConnection& c = **conn;
  // One snapshot of the database for the head and the listing.
  if (absl::Status s = c.ExecScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s.ok()) {
    return s;
  }
  auto finish = [&c](absl::Status status) {
    (void)c.ExecScript("ROLLBACK");
    return status;
  };
  auto record = c.Exec("SELECT e.record FROM events e JOIN feed_head h ON e.seq = h.seq");
  if (!record.ok()) return finish(record.status());
  if (record->rows() == 0) {
    return finish(absl::FailedPreconditionError("The origin has published nothing yet"));
  }
  v1::Event event;
  absl::string_view bytes = record->Get(0, 0);
  if (!event.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return finish(absl::DataLossError("The head event does not parse"));
  }
  auto rows = c.Exec(
      "SELECT path, sha256, size, media_type FROM tree_files ORDER BY path COLLATE \"C\"");
  if (!rows.ok()) return finish(rows.status());
  std::vector<PgSnapshotReader::Entry> files;
  files.reserve(rows->rows());
  for (int row = 0; row < rows->rows(); ++row) {
    files.push_back(PgSnapshotReader::Entry{rows->GetString(row, 0), rows->GetString(row, 1),
                                            static_cast<uint64_t>(rows->GetInt(row, 2)),
                                            rows->GetString(row, 3)});
  }
  if (absl::Status s = finish(absl::OkStatus()); !s.ok()) return s;
  return std::unique_ptr<feed::SnapshotReader>(
      new PgSnapshotReader(pool_, std::move(event), std::move(files)));
}

}  // namespace pgxn::origin
