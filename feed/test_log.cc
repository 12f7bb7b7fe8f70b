#include "feed/test_log.h"

#include "absl/strings/str_cat.h"
#include "feed/test_events.h"

namespace pgxn::feed {

void MemoryLog::Append(v1::Event event) {
  absl::MutexLock lock(&mu_);
  for (v1::Op& op : *event.mutable_ops()) {
    if (op.type() == v1::Op::PUT) contents_[op.sha256()] = op.content();
  }
  events_.push_back(std::move(event));
}

void MemoryLog::SetLogStart(uint64_t seq) {
  absl::MutexLock lock(&mu_);
  log_start_ = seq;
}

void MemoryLog::StartOver() {
  absl::MutexLock lock(&mu_);
  events_.clear();
  contents_.clear();
  log_start_ = 0;
}

uint64_t MemoryLog::reads() const {
  absl::MutexLock lock(&mu_);
  return reads_;
}

absl::StatusOr<ChainTip> MemoryLog::Head() const {
  absl::MutexLock lock(&mu_);
  if (events_.empty()) {
    ChainTip tip;
    tip.seq = log_start_;
    tip.hash = GenesisHash();
    return tip;
  }
  return TipAfter(events_.back());
}

absl::StatusOr<std::vector<v1::Event>> MemoryLog::ReadAfter(uint64_t after_seq,
                                                            size_t max_events, size_t max_bytes,
                                                            bool include_content) const {
  absl::MutexLock lock(&mu_);
  ++reads_;
  if (after_seq < log_start_) {
    return absl::OutOfRangeError(absl::StrCat("the log starts after ", log_start_));
  }
  std::vector<v1::Event> found;
  size_t bytes = 0;
  for (const v1::Event& event : events_) {
    if (event.seq() <= after_seq) continue;
    if (found.size() >= max_events || (!found.empty() && bytes >= max_bytes)) break;
    v1::Event copy = event;
    for (v1::Op& op : *copy.mutable_ops()) {
      bytes += op.size();
      if (!include_content) op.clear_content();
    }
    found.push_back(std::move(copy));
  }
  return found;
}

uint64_t MemoryLog::WaitForHeadAbove(uint64_t seq, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto above = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !events_.empty() && events_.back().seq() > seq;
  };
  mu_.AwaitWithDeadline(absl::Condition(&above), deadline);
  return events_.empty() ? log_start_ : events_.back().seq();
}

std::string MemoryLog::OriginKey() const { return TestChain::Key().public_key; }

uint64_t MemoryLog::LogStart() const {
  absl::MutexLock lock(&mu_);
  return log_start_;
}

absl::StatusOr<std::string> MemoryLog::ReadContent(absl::string_view sha256,
                                                   uint64_t size) const {
  absl::MutexLock lock(&mu_);
  ++reads_;
  auto found = contents_.find(std::string(sha256));
  if (found == contents_.end()) return absl::NotFoundError("no such content");
  if (found->second.size() != size) return absl::DataLossError("wrong size");
  return found->second;
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> MemoryLog::OpenSnapshot() const {
  return absl::UnimplementedError("MemoryLog takes no snapshots");
}

}  // namespace pgxn::feed
