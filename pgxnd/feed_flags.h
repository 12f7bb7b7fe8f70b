// The flags that bound what a node's Feed server gives its clients
// (--feed-max-streams, --feed-write-timeout, ...), shared by origin, mirror
// and indexer.
#ifndef PGXN_PGXND_FEED_FLAGS_H_
#define PGXN_PGXND_FEED_FLAGS_H_

#include "feed/feed_service.h"
#include "pgxnd/flags.h"

namespace pgxn::cli {

// Declares the flags on `flags`, writing into `limits` (whose values are the
// defaults shown).
void AddFeedFlags(FlagSet& flags, feed::FeedLimits* limits);

}  // namespace pgxn::cli

#endif  // PGXN_PGXND_FEED_FLAGS_H_
