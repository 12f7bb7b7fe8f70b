// How a node's log names an event: one line per event published (origin) or
// applied (mirror, indexer), so an operator can follow a release through the
// network with grep: "seq 42 release pair 0.1.0 by theory (3 puts, 0 deletes)".
#ifndef PGXN_FEED_EVENT_LINE_H_
#define PGXN_FEED_EVENT_LINE_H_

#include <string>

#include "pgxn/feed/v1/feed.pb.h"

namespace pgxn::feed {

// The event's seq, kind, dist and version (when it has them), actor and
// counts of its ops. Names come from the signed event, but are escaped
// (absl::CEscape), so a line stays one line whatever they hold.
std::string EventLine(const v1::Event& event);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_EVENT_LINE_H_
