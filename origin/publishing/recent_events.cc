#include "origin/publishing/recent_events.h"

#include <string>

namespace pgxn::origin {
namespace {

size_t ContentBytes(const v1::Event& event) {
  size_t bytes = 0;
  for (const v1::Op& op : event.ops()) bytes += op.content().size();
  return bytes;
}

}  // namespace

std::vector<v1::Event> RecentEvents::Read(uint64_t after_seq, size_t max_events, size_t max_bytes,
                                          bool include_content) const {
  std::vector<std::shared_ptr<const v1::Event>> found;
  {
    absl::MutexLock lock(&mu_);
    if (events_.empty()) return {};
    const uint64_t first = events_.front().full->seq();
    if (after_seq + 1 < first || after_seq >= events_.back().full->seq()) return {};
    size_t bytes = 0;
    for (size_t i = after_seq + 1 - first;
         i < events_.size() && found.size() < max_events && bytes < max_bytes; ++i) {
      found.push_back(include_content ? events_[i].full : events_[i].light);
      for (const v1::Op& op : events_[i].full->ops()) bytes += op.size();
    }
  }
  // Copied outside the lock: readers do not wait on each other's copies.
  std::vector<v1::Event> out;
  out.reserve(found.size());
  for (const auto& event : found) out.push_back(*event);
  return out;
}

void RecentEvents::Add(const std::vector<v1::Event>& events) {
  absl::MutexLock lock(&mu_);
  for (const v1::Event& event : events) {
    if (!events_.empty() && event.epoch() != events_.back().full->epoch()) {
      // A log that started over (the database was replaced): nothing held
      // belongs to it.
      events_.clear();
      bytes_ = 0;
    }
    if (!events_.empty()) {
      const uint64_t last = events_.back().full->seq();
      if (event.seq() <= last && event.seq() >= events_.front().full->seq()) continue;  // held
      if (event.seq() != last + 1) {
        events_.clear();
        bytes_ = 0;
      }
    }
    bytes_ += ContentBytes(event);
    auto light = std::make_shared<v1::Event>();
    *light = event;
    for (v1::Op& op : *light->mutable_ops()) std::string().swap(*op.mutable_content());
    events_.push_back(Held{std::make_shared<const v1::Event>(event), std::move(light)});
    while (bytes_ > max_bytes_ && events_.size() > 1) {
      bytes_ -= ContentBytes(*events_.front().full);
      events_.pop_front();
    }
  }
}

}  // namespace pgxn::origin
