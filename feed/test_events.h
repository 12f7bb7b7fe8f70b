// Test support: builds valid, sealed event chains, as an origin would, for the
// tests of every layer. Not linked into pgxnd.
#ifndef PGXN_FEED_TEST_EVENTS_H_
#define PGXN_FEED_TEST_EVENTS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <map>

#include "feed/event_chain.h"
#include "feed/signing.h"
#include "feed/tree_digest.h"

namespace pgxn::feed {

// A PUT op with content, sha256 and size filled in.
v1::Op PutOp(const std::string& path, const std::string& content,
             const std::string& media_type = "application/json");
v1::Op DeleteOp(const std::string& path);

class TestChain {
 public:
  explicit TestChain(std::string epoch = "0123456789abcdef0123456789abcdef");

  // The next sealed and signed event extending the chain, with the digest,
  // file count and size of the tree it leaves.
  v1::Event Next(std::vector<v1::Op> ops, const std::string& kind = "release",
                 const std::string& dist = "pair", const std::string& version = "0.1.0");

  // A signed heartbeat for the current tip.
  v1::Heartbeat Heartbeat(int64_t time_us) const;

  const ChainTip& tip() const { return tip_; }
  // The key every TestChain signs with (one per process).
  static const KeyPair& Key();

 private:
  struct File {
    std::string sha256;
    std::string media_type;
    uint64_t size = 0;
  };
  ChainTip tip_;
  int64_t time_us_ = 1'700'000'000'000'000;
  TreeDigest tree_;
  uint64_t tree_bytes_ = 0;
  std::map<std::string, File> files_;
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_TEST_EVENTS_H_
