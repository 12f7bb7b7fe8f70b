// Test support: builds valid, sealed event chains, as an origin would, for the
// tests of every layer. Not linked into pgxnd.
#ifndef PGXN_NODE_TEST_EVENTS_H_
#define PGXN_NODE_TEST_EVENTS_H_

#include <string>
#include <utility>
#include <vector>

#include "node/event_chain.h"

namespace pgxn::node {

// A PUT op with content, sha256 and size filled in.
v1::Op PutOp(const std::string& path, const std::string& content,
             const std::string& media_type = "application/json");
v1::Op DeleteOp(const std::string& path);

class TestChain {
 public:
  explicit TestChain(std::string epoch = "0123456789abcdef0123456789abcdef");

  // The next sealed event extending the chain.
  v1::Event Next(std::vector<v1::Op> ops, const std::string& kind = "release",
                 const std::string& dist = "pair", const std::string& version = "0.1.0");

  const ChainTip& tip() const { return tip_; }

 private:
  ChainTip tip_;
  int64_t time_us_ = 1'700'000'000'000'000;
};

}  // namespace pgxn::node

#endif  // PGXN_NODE_TEST_EVENTS_H_
