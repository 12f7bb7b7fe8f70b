// Fuzzes the decoding and verification of events from the network
// (feed/event_chain.h, feed/signing.h): bytes parsed as a v1::Event, as a
// node receives it from its upstream, then verified against a tip and the
// origin's key. A fuzzed event cannot carry a valid hash and signature, so
// each one is also sealed and signed as the origin would, and verified
// again: that reaches the checks of kinds, ops, paths and contents. The same
// bytes are also read as a v1::Heartbeat and verified.
//
// Invariants: verification fails with one of the codes the header names;
// a fuzzed signature never verifies; an event that verifies has only ops
// with good tree paths, each path once.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "feed/event_chain.h"
#include "feed/signing.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/stubs/logging.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace {

using pgxn::feed::ChainTip;

const pgxn::feed::KeyPair& Key() {
  static const auto* const key = new pgxn::feed::KeyPair(pgxn::feed::GenerateKeyPair());
  return *key;
}

void CheckCode(const absl::Status& status) {
  if (status.ok()) return;
  const absl::StatusCode code = status.code();
  FUZZ_CHECK(code == absl::StatusCode::kFailedPrecondition || code == absl::StatusCode::kDataLoss ||
                 code == absl::StatusCode::kPermissionDenied ||
                 code == absl::StatusCode::kInvalidArgument,
             "a refusal is FailedPrecondition, DataLoss, PermissionDenied or InvalidArgument");
}

void CheckVerified(const pgxn::feed::v1::Event& event) {
  absl::flat_hash_set<std::string> paths;
  for (const pgxn::feed::v1::Op& op : event.ops()) {
    FUZZ_CHECK(pgxn::feed::CheckTreePath(op.path()).ok(), "a verified op has a good path");
    FUZZ_CHECK(paths.insert(op.path()).second, "a verified event touches a path once");
  }
  FUZZ_CHECK(pgxn::feed::TipAfter(event).seq == event.seq(), "the tip moves to the event");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf logs every string field with invalid UTF-8 it refuses to parse:
  // most fuzzed inputs, and nothing a run needs.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  pgxn::feed::v1::Heartbeat heartbeat;
  if (heartbeat.ParseFromArray(data, static_cast<int>(size))) {
    FUZZ_CHECK(!pgxn::feed::VerifyHeartbeat(Key().public_key, heartbeat).ok(),
               "a fuzzed heartbeat's signature never verifies");
  }

  pgxn::feed::v1::Event event;
  if (!event.ParseFromArray(data, static_cast<int>(size))) return 0;
  // The tip the event claims to extend, and a fresh node's.
  const ChainTip claimed{event.seq() - 1, event.epoch(), event.prev_hash()};
  const ChainTip fresh;
  for (const ChainTip* tip : {&claimed, &fresh}) {
    for (bool require_content : {false, true}) {
      const absl::Status signed_by_origin =
          pgxn::feed::VerifyEvent(event, *tip, require_content, Key().public_key);
      CheckCode(signed_by_origin);
      FUZZ_CHECK(!signed_by_origin.ok(), "a fuzzed event's signature never verifies");
      const absl::Status unsigned_check =
          pgxn::feed::VerifyEvent(event, *tip, require_content, /*origin_key=*/"");
      CheckCode(unsigned_check);
      if (unsigned_check.ok()) CheckVerified(event);
    }
  }

  pgxn::feed::SealEvent(claimed, &event);
  pgxn::feed::SignEvent(Key().secret_key, &event);
  for (bool require_content : {false, true}) {
    const absl::Status status =
        pgxn::feed::VerifyEvent(event, claimed, require_content, Key().public_key);
    CheckCode(status);
    if (status.ok()) CheckVerified(event);
  }
  return 0;
}
