// /feeds/recent.atom (docs/architecture.md §5): the newest releases as an Atom feed
// (RFC 4287), so feed readers can follow a PGXN network without polling JSON.
//
// Every node has the tree's stats/dist.json, whose `recent` list names the
// newest releases (at most 56, newest first; docs/pgxn.md §2); the feed is that
// list rendered, so it is the same on the origin, every mirror and every
// indexer, whether the node replayed the log or bootstrapped from a snapshot.
// Entries are rendered as in every feed (atom_feed.h): links relative to the
// node's root, ids built from the dist and version, the same on every node.
#ifndef PGXN_GATEWAY_RECENT_FEED_H_
#define PGXN_GATEWAY_RECENT_FEED_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "gateway/atom_feed.h"
#include "gateway/http.h"
#include "gateway/tree_handler.h"

namespace pgxn::gateway {

inline constexpr char kRecentFeedPath[] = "/feeds/recent.atom";

// The Atom document for the content of stats/dist.json. Content that is not
// such a document (absent, not JSON, no `recent` list) gives a feed without
// entries; entries without a usable dist or version (empty, ".", "..", with a
// slash) are skipped, and at most kMaxFeedEntries are rendered. `updated_fallback`
// (RFC 3339) stands in for a date that is not PGXN's YYYY-MM-DDTHH:MM:SSZ, and
// is the feed's <updated> when no entry has one.
std::string RenderRecentFeed(absl::string_view stats_dist_json, absl::string_view updated_fallback);

// Answers GET or HEAD of kRecentFeedPath from the tree in `reader`, with
// ServeTreeFile's rules (ETag derived from stats/dist.json's sha256 and time,
// Last-Modified its time, If-None-Match → 304). Content-Type
// application/atom+xml.
Response ServeRecentFeed(const Request& request, const TreeReader& reader);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_RECENT_FEED_H_
