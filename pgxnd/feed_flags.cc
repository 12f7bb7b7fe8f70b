#include "pgxnd/feed_flags.h"

namespace pgxn::cli {

void AddFeedFlags(FlagSet& flags, feed::FeedLimits* limits) {
  flags.Uint64("feed-max-streams", &limits->max_streams,
               "most Subscribe and Snapshot streams the Feed serves at once; more get "
               "RESOURCE_EXHAUSTED");
  flags.Uint64("feed-max-streams-per-peer", &limits->max_streams_per_peer,
               "most Feed streams open at once from one IP address");
  flags.Uint64("feed-max-snapshots", &limits->max_snapshots,
               "most Snapshot streams (new nodes bootstrapping) served at once");
  flags.Uint64("feed-max-snapshots-per-peer", &limits->max_snapshots_per_peer,
               "most Snapshot streams open at once from one IP address");
  flags.Duration("feed-write-timeout", &limits->write_timeout,
                 "drop a Feed stream whose client has not taken a message this long after it "
                 "was written (a subscriber that does not read)");
  flags.Bytes("feed-max-buffered", &limits->max_buffered_bytes,
              "most file contents read for Feed streams and not yet taken by their clients, "
              "over all streams (one event larger than this is still sent, alone)");
  flags.Uint64("feed-max-reports-per-peer", &limits->max_reports_per_peer,
               "most Report calls (nodes below reporting to the network view) the Feed takes "
               "from one IP address per minute; more get RESOURCE_EXHAUSTED");
}

}  // namespace pgxn::cli
