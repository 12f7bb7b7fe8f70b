// Per-topic Atom feeds on every node: the releases of one distribution, of
// one user, or carrying one tag, for feed readers that follow only what
// they care about.
//
//   /feeds/dist/{dist}.atom   from dist/{dist}.json
//   /feeds/user/{nick}.atom   from user/{nick}.json
//   /feeds/tag/{tag}.atom     from tag/{tag}.json   (/feeds/tag/key%20value.atom)
//
// Each lists that file's releases, newest first by date (releases of one
// second in the file's order: a dist's newest version first), at most
// kMaxFeedEntries, rendered as every feed renders a release (atom_feed.h):
// the author is the uploader (META.json's `user`) shown with the name their
// user file gives, the summary the release's abstract, so a release is the
// same entry here, in /feeds/recent.atom and on every node. Names are looked
// up lower-cased, as the tree's paths are; a topic the tree does not have is
// 404.
//
// The ETag is the SHA-256 of the document served, and Last-Modified the
// newest time of the files it was made from, so a new release or an
// author's new name both change them.
//
// Thread-safe: functions of their arguments and the tree.
#ifndef PGXN_GATEWAY_TOPIC_FEED_H_
#define PGXN_GATEWAY_TOPIC_FEED_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "gateway/http.h"
#include "gateway/tree_handler.h"

namespace pgxn::gateway {

inline constexpr char kTopicFeedPrefix[] = "/feeds/";

// Whether `path` is under /feeds/dist/, /feeds/user/ or /feeds/tag/ (not
// /feeds/ itself, which is a page of the site).
bool IsTopicFeedPath(absl::string_view path);

enum class FeedTopic { kDist, kUser, kTag };

// The content of the tree's file at `path` ("dist/pair/0.1.0/META.json",
// "user/alice.json"), or "" if there is none.
using TreeTextLookup = std::function<std::string(absl::string_view path)>;

// The feed for topic `name` of kind `topic`, whose tree file holds
// `topic_json`; releases' META.json and their uploaders' user files are read
// through `read`. Content that is not such a document gives a feed without
// entries; `updated_fallback` as for RenderAtomFeed.
std::string RenderTopicFeed(FeedTopic topic, absl::string_view name, absl::string_view topic_json,
                            const TreeTextLookup& read, absl::string_view updated_fallback);

// Answers GET or HEAD of /feeds/{dist,user,tag}/NAME.atom from the tree in
// `reader`, with ServeTreeFile's rules; Content-Type application/atom+xml.
// 404 for any other path under kTopicFeedPrefix and for an absent topic.
Response ServeTopicFeed(const Request& request, const TreeReader& reader);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_TOPIC_FEED_H_
