#include "feed/event_line.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace pgxn::feed {

std::string EventLine(const v1::Event& event) {
  int puts = 0;
  int deletes = 0;
  for (const v1::Op& op : event.ops()) {
    if (op.type() == v1::Op::PUT) ++puts;
    if (op.type() == v1::Op::DELETE) ++deletes;
  }
  std::string line = absl::StrCat("seq ", event.seq(), " ", absl::CEscape(event.kind()));
  if (!event.subject().dist().empty()) {
    absl::StrAppend(&line, " ", absl::CEscape(event.subject().dist()));
    if (!event.subject().version().empty()) {
      absl::StrAppend(&line, " ", absl::CEscape(event.subject().version()));
    }
  }
  if (!event.actor().empty()) absl::StrAppend(&line, " by ", absl::CEscape(event.actor()));
  absl::StrAppend(&line, " (", puts, puts == 1 ? " put, " : " puts, ", deletes,
                  deletes == 1 ? " delete)" : " deletes)");
  return line;
}

}  // namespace pgxn::feed
