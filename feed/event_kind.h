// The kinds of event the log carries (docs/architecture.md, "The event log").
// On the wire an event's kind is a string; in code it is an EventKind, so a
// misspelt kind is a compile error rather than an event every node refuses.
// Pure functions; thread-safe.
#ifndef PGXN_FEED_EVENT_KIND_H_
#define PGXN_FEED_EVENT_KIND_H_

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace pgxn::feed {

enum class EventKind {
  kRelease,  // a release was accepted
  kUser,     // an account was activated, changed or removed from the tree
  kMirrors,  // the mirror registry changed
  kDelete,   // an administrator removed a release
  kMeta,     // the origin's own files (index.json, the spec, the key)
  kStats,    // the stats files, published a moment after the changes
};

// The kind's name on the wire: "release", "user", ...
absl::string_view EventKindName(EventKind kind);

// The kind named `name`; nullopt for a name no node knows.
absl::optional<EventKind> ParseEventKind(absl::string_view name);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_EVENT_KIND_H_
