// The event log's hash chain (docs/architecture.md §2): the canonical encoding an event's
// hash covers, and the checks every node runs before applying an event it
// received. The origin uses SealEvent to fill in prev_hash and hash; nodes use
// VerifyEvent. Pure functions; thread-safe.
#ifndef PGXN_FEED_EVENT_CHAIN_H_
#define PGXN_FEED_EVENT_CHAIN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::feed {

// Limits on what one event may carry; anything larger is refused whole. The
// origin refuses to publish what a node would refuse to apply.
inline constexpr size_t kMaxOpsPerEvent = 10'000;
inline constexpr size_t kMaxTreePathBytes = 1024;
// Tags one event may name (Event.tags), each at most kMaxTreePathBytes.
inline constexpr size_t kMaxEventTags = 1024;
inline constexpr uint64_t kMaxEventContentBytes = uint64_t{192} << 20;
// Largest Feed message sent or received by any node: an event with its
// contents at the limit, plus room for its record.
inline constexpr int kMaxFeedMessageBytes = 256 << 20;

// The last applied event of a log, which the next event must extend.
struct ChainTip {
  uint64_t seq = 0;
  std::string epoch;  // empty: not yet known (a fresh node adopts the first event's)
  std::string hash;   // 32 bytes; GenesisHash() before the first event
};

// The prev_hash of the event at seq 1: 32 zero bytes.
std::string GenesisHash();

// The canonical byte encoding hashed into Event.hash: every field except
// `hash`, `signature` and the ops' `content`, length-prefixed, big-endian.
std::string CanonicalEncoding(const v1::Event& event);

// Whether `event` states the size of the tree it leaves (tree_files and
// tree_bytes, which the hash covers only then): events from before those
// fields existed do not, and a snapshot of them is bounded by nothing.
bool HasTreeSize(const v1::Event& event);

// SHA-256 of CanonicalEncoding(event).
std::string ComputeEventHash(const v1::Event& event);

// Sets event->prev_hash from `tip`, and event->hash. The caller has set
// seq, epoch, time, kind, actor, subject and ops.
void SealEvent(const ChainTip& tip, v1::Event* event);

// A tree path as stored and served: relative ("dist/pair.json"), no empty,
// "." or ".." segments, no backslash, NUL or other control characters.
absl::Status CheckTreePath(absl::string_view path);

// Whether `event` may be applied on top of `tip`: same epoch (unless tip.epoch
// is empty), seq == tip.seq + 1, prev_hash == tip.hash, hash recomputes, the
// origin signed it (when `origin_key` is given), known kind, well-formed ops,
// and every PUT's content matches its size and sha256. With require_content,
// a PUT without content is refused; without it, ops may omit content (light
// subscribers) but content that is present must match. (Whether the event's
// tree digest matches the tree is the store's check: it holds the tree.)
// Errors: FailedPrecondition for a chain break (wrong epoch, gap, prev_hash),
// DataLoss for a hash or content mismatch, PermissionDenied for a bad
// signature, InvalidArgument for a malformed event.
absl::Status VerifyEvent(const v1::Event& event, const ChainTip& tip, bool require_content,
                         absl::string_view origin_key);
// VerifyEvent in two halves: whether `event` follows `tip` (epoch, seq,
// prev_hash), and everything else, which needs no tip (so a node can check
// the next events while it applies this one).
absl::Status VerifyEventLink(const v1::Event& event, const ChainTip& tip);
absl::Status VerifyEventAlone(const v1::Event& event, bool require_content,
                              absl::string_view origin_key);

// The tip after applying `event`.
ChainTip TipAfter(const v1::Event& event);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_EVENT_CHAIN_H_
