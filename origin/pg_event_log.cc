#include "origin/pg_event_log.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "node/digest.h"
#include "node/log.h"
#include "origin/publisher.h"

namespace pgxn::origin {
namespace {}  // namespace

absl::StatusOr<std::unique_ptr<PgEventLog>> PgEventLog::Start(PgPool* pool,
                                                              absl::Duration refresh) {
  auto conn = pool->Acquire();
  if (!conn.ok()) return conn.status();
  absl::StatusOr<node::ChainTip> head = ReadFeedHead(**conn);
  if (!head.ok()) return head.status();
  auto log = std::unique_ptr<PgEventLog>(new PgEventLog(pool, refresh, *std::move(head)));
  log->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (log->wake_fd_ < 0) return absl::InternalError("eventfd failed");
  log->listener_ = std::thread([raw = log.get()] { raw->Listen(); });
  return log;
}

PgEventLog::PgEventLog(PgPool* pool, absl::Duration refresh, node::ChainTip head)
    : pool_(pool), refresh_(refresh), head_(std::move(head)) {}

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

void PgEventLog::NoteCommitted(const node::ChainTip& tip) {
  absl::MutexLock lock(&mu_);
  if (tip.seq > head_.seq) head_ = tip;
}

absl::StatusOr<node::ChainTip> PgEventLog::Head() const {
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
        absl::StatusOr<node::ChainTip> head = ReadFeedHead(**conn);
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
    node::LogWarning(absl::StrCat("Feed listener: ", status.message(), "; reconnecting"));
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, 5000);
  }
}

absl::StatusOr<std::vector<v1::Event>> PgEventLog::ReadAfter(uint64_t after_seq, size_t max_events,
                                                             size_t max_bytes,
                                                             bool include_content) const {
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
  if (!include_content || events.empty()) return events;

  std::vector<std::string> wanted;
  for (const v1::Event& event : events) {
    for (const v1::Op& op : event.ops()) {
      if (op.type() == v1::Op::PUT) wanted.push_back(node::HexEncode(op.sha256()));
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
  return events;
}

}  // namespace pgxn::origin
