// The Atom documents (RFC 4287) every node serves about releases: the
// recent feed (recent_feed.h) and the per-topic feeds (topic_feed.h). One
// renderer, so a release is the same entry in every feed and on every node:
// its id is a tag: URI built from the lower-cased dist and version, its links
// are relative to the node's root (xml:base climbs from the feed's own URL,
// so they work on any node, also behind a proxy's path prefix), and
// everything taken from the tree is escaped, or percent-encoded where it
// becomes part of a link.
//
// Pure functions; thread-safe.
#ifndef PGXN_GATEWAY_ATOM_FEED_H_
#define PGXN_GATEWAY_ATOM_FEED_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace pgxn::gateway {

// Entries at most in one feed, as many as PGXN's stats lists hold.
inline constexpr size_t kMaxFeedEntries = 56;

// The <feed> element's own parts. `id` and `self` are paths from the node's
// root without the leading slash ("feeds/recent", "feeds/recent.atom"),
// already percent-encoded; `alternate` names the JSON the feed renders.
struct AtomFeedHead {
  std::string id;
  std::string title;
  std::string self;
  std::string alternate;
};

// One release as an entry. `date` is trusted only when it is exactly PGXN's
// YYYY-MM-DDTHH:MM:SSZ; `user` (a nickname) makes the author's link;
// `user_name` is shown when set, else the nickname; an empty `abstract`
// gives no summary.
struct AtomRelease {
  std::string dist;
  std::string version;
  std::string date;
  std::string user;
  std::string user_name;
  std::string abstract;
};

// The document with `releases` as entries, in the order given. Releases
// without a usable dist or version (empty, ".", "..", with a slash) are
// skipped, and at most kMaxFeedEntries are rendered. `updated_fallback` (RFC
// 3339) stands in for a date that is not PGXN's, and is the feed's
// <updated> when no entry has one; otherwise <updated> is the newest entry's.
std::string RenderAtomFeed(const AtomFeedHead& head, const std::vector<AtomRelease>& releases,
                           absl::string_view updated_fallback);

// Whether `date` is exactly as PGXN writes dates (a real time).
bool IsPgxnDate(absl::string_view date);

// A name as one segment of a feed's link or id: lower case (as the tree's
// paths are), percent-encoded (RFC 3986 unreserved characters kept); "" for
// what cannot be one ("", ".", "..", anything with a slash).
std::string FeedSegment(absl::string_view name);

// RFC 3339 of a Unix time, in PGXN's form (for `updated_fallback`).
std::string FeedDate(int64_t unix_seconds);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_ATOM_FEED_H_
