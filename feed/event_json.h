// The JSON object that tells a subscriber who is not a node about an event:
// the `data` of each Server-Sent Event a node streams (GET /feed,
// host/event_stream.h) and, on the origin, each webhook's payload. One
// object for every node, so a client may switch nodes: only the absolute
// URLs differ, and they are added last, per node (CompleteEventJson).
//
//   {"seq": 42, "kind": "release", "dist": "pair", "version": "0.1.7",
//    "user": "theory", "date": "2026-12-03T22:41:07Z",
//    "abstract": "A key/value pair data type",
//    "files": [{"path": "/dist/pair/0.1.7/META.json", "size": 812,
//               "sha256": "…"}, …],
//    "removed": ["/…"],
//    "meta_url": "https://node/dist/pair/0.1.7/META.json",
//    "zip_url": "https://node/dist/pair/0.1.7/pair-0.1.7.zip"}
//
// `dist`, `version` and `abstract` are null for an event without a release
// (and `abstract` when the release's META.json cannot be read); `user` is
// the event's actor; `files` are the files the event writes, `removed`
// those it deletes, as paths on any node; the URLs are null but for a
// release. Pure functions but for the one read of META.json; thread-safe
// as the log is.
#ifndef PGXN_FEED_EVENT_JSON_H_
#define PGXN_FEED_EVENT_JSON_H_

#include <string>

#include "absl/strings/string_view.h"
#include "feed/event_log.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::feed {

// An event's object without its URLs: `open_json` is the object without its
// closing brace; the paths (with a leading slash) are those of the
// release's META.json and zip, empty for an event without a release.
struct EventJson {
  std::string open_json;
  std::string meta_path;
  std::string zip_path;
};

// Describes `event` (its ops need no contents): the abstract is read from
// the release's META.json through log.ReadContent, by the hash the event
// states for it.
EventJson DescribeEvent(const v1::Event& event, const EventLog& log);

// The whole object, with the URLs made absolute against `base_url`
// ("https://host:port", no trailing slash).
std::string CompleteEventJson(const EventJson& json, absl::string_view base_url);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_EVENT_JSON_H_
