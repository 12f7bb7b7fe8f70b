#include "feed/test_events.h"

#include "base/digest.h"

namespace pgxn::feed {

v1::Op PutOp(const std::string& path, const std::string& content, const std::string& media_type) {
  v1::Op op;
  op.set_type(v1::Op::PUT);
  op.set_path(path);
  op.set_content(content);
  op.set_size(content.size());
  op.set_sha256(base::Sha256(content));
  op.set_media_type(media_type);
  return op;
}

v1::Op DeleteOp(const std::string& path) {
  v1::Op op;
  op.set_type(v1::Op::DELETE);
  op.set_path(path);
  return op;
}

TestChain::TestChain(std::string epoch) : tip_{0, std::move(epoch), GenesisHash()} {}

v1::Event TestChain::Next(std::vector<v1::Op> ops, const std::string& kind, const std::string& dist,
                          const std::string& version) {
  v1::Event event;
  event.set_seq(tip_.seq + 1);
  event.set_epoch(tip_.epoch);
  event.set_time_us(time_us_ += 1'000'000);
  event.set_kind(kind);
  event.set_actor("theory");
  event.mutable_subject()->set_dist(dist);
  event.mutable_subject()->set_version(version);
  for (v1::Op& op : ops) {
    auto old = files_.find(op.path());
    if (old != files_.end()) {
      tree_.Remove(op.path(), old->second.sha256, old->second.media_type);
      tree_bytes_ -= old->second.size;
      files_.erase(old);
    }
    if (op.type() == v1::Op::PUT) {
      tree_.Add(op.path(), op.sha256(), op.media_type());
      tree_bytes_ += op.size();
      files_[op.path()] = File{op.sha256(), op.media_type(), op.size()};
    }
    *event.add_ops() = std::move(op);
  }
  event.set_tree_digest(tree_.Digest());
  event.set_tree_files(files_.size());
  event.set_tree_bytes(tree_bytes_);
  SealEvent(tip_, &event);
  SignEvent(Key().secret_key, &event);
  tip_ = TipAfter(event);
  return event;
}

v1::Heartbeat TestChain::Heartbeat(int64_t time_us) const {
  v1::Heartbeat heartbeat;
  heartbeat.set_head_seq(tip_.seq);
  heartbeat.set_head_hash(tip_.hash);
  heartbeat.set_epoch(tip_.epoch);
  heartbeat.set_time_us(time_us);
  SignHeartbeat(Key().secret_key, &heartbeat);
  return heartbeat;
}

const KeyPair& TestChain::Key() {
  static const KeyPair* key = new KeyPair(GenerateKeyPair());
  return *key;
}

}  // namespace pgxn::feed
