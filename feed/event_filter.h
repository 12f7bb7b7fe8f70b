// Which events a subscriber wants: by kind, distribution, uploader and tag,
// as `pgxnd tail --kind/--dist/--user/--tag` takes them (and as a node's
// other subscription forms will). Values of one criterion are alternatives
// (any matches); criteria combine (all must match); an empty criterion
// takes every event.
//
// What an event tells: its kind, its subject's dist (compared without case,
// as PGXN's paths do), its actor (the uploader, for a release), and the tags
// whose lists it changes: those it names (Event.tags: a release's tags, a
// removed release's) and those whose files it writes (`tag/T.json`, which
// may come a moment later in a `stats` event), so a tag matches what changes
// that tag's list, with no content needed.
//
// Pure functions; thread-safe.
#ifndef PGXN_FEED_EVENT_FILTER_H_
#define PGXN_FEED_EVENT_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::feed {

struct EventFilter {
  std::vector<std::string> kinds;  // "release", "user", ... (event_kind.h)
  std::vector<std::string> dists;
  std::vector<std::string> users;
  std::vector<std::string> tags;

  bool empty() const { return kinds.empty() && dists.empty() && users.empty() && tags.empty(); }
};

// InvalidArgument naming the value when a kind is not one nodes know or a
// value is empty.
absl::Status ValidateEventFilter(const EventFilter& filter);

// Whether `event` is one `filter` asks for.
bool EventMatches(const EventFilter& filter, const v1::Event& event);

// The tags `event` names and those whose files it writes or removes,
// lower-cased, each once: the named ones first, then in op order.
std::vector<std::string> EventTags(const v1::Event& event);

// The tag a tree path is the list of ("tag/pgtap.json" -> "pgtap"), if it is one.
absl::optional<std::string> TagOfPath(absl::string_view path);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_EVENT_FILTER_H_
