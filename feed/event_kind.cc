#include "feed/event_kind.h"

namespace pgxn::feed {
namespace {

constexpr EventKind kEveryKind[] = {EventKind::kRelease, EventKind::kUser, EventKind::kMirrors,
                                    EventKind::kDelete,  EventKind::kMeta, EventKind::kStats};

}  // namespace

absl::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kRelease:
      return "release";
    case EventKind::kUser:
      return "user";
    case EventKind::kMirrors:
      return "mirrors";
    case EventKind::kDelete:
      return "delete";
    case EventKind::kMeta:
      return "meta";
    case EventKind::kStats:
      return "stats";
  }
  return "";
}

absl::optional<EventKind> ParseEventKind(absl::string_view name) {
  for (EventKind kind : kEveryKind) {
    if (EventKindName(kind) == name) return kind;
  }
  return absl::nullopt;
}

}  // namespace pgxn::feed
