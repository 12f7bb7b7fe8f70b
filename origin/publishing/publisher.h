// Appends events to the origin's log (docs/architecture.md §2, §4). One Publish call is
// one Postgres transaction that locks the feed head (so seqs are gapless and in
// commit order), lets the caller make its domain changes and name the tree
// files they produce, stores those files (contents once per sha256), appends
// one sealed event, and notifies feed listeners on commit. If anything fails,
// nothing is written: no row, no file, no event.
//
// Thread-safety: Publish may be called concurrently on different connections;
// the feed-head row lock serialises the transactions.
#ifndef PGXN_ORIGIN_PUBLISHING_PUBLISHER_H_
#define PGXN_ORIGIN_PUBLISHING_PUBLISHER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "feed/event_chain.h"
#include "feed/event_kind.h"
#include "feed/signing.h"
#include "feed/tree_digest.h"
#include "origin/pg/pg.h"

namespace pgxn::origin {

namespace v1 = ::pgxn::feed::v1;

// A tree file to write (or remove) as part of an event.
struct FileChange {
  std::string path;  // relative, lower case, e.g. dist/pair.json
  std::string content;
  std::string media_type;  // empty: derived from the path
  bool remove = false;
  // An aggregate file (a tag's or a user's list, which grows with the
  // catalog) that this event does not render: its path is recorded in
  // aggregate_pending and the aggregate refresher publishes it a moment later
  // (origin/catalog/aggregate_refresher.h). content and remove are unused.
  // Only with a Publishing that defers (on_stats_changed set).
  bool deferred = false;
};

struct EventHeader {
  feed::EventKind kind;
  std::string actor;
  std::string dist;
  std::string version;
  // When no file actually changes, commit the domain changes without an
  // event and return an event with seq 0, instead of an event without ops.
  bool skip_if_unchanged = false;
  // Compute the tree's digest state afresh from tree_files (after `build`
  // ran) instead of carrying it forward: for repairs of rows changed behind
  // the publisher's back (`pgxnd origin rebuild --fix`).
  bool recompute_tree_state = false;
  // The change can alter the stats files (stats/*.json: counts, the newest
  // releases, the most prolific users, the popular tags). They are then
  // rendered into this event, as PGXN does, unless the publishing defers
  // them to an event of their own (Publishing::on_stats_changed).
  bool changes_stats = false;
};

// Runs inside the transaction with the time the event will carry; makes the
// domain changes on the same connection and returns the files they change.
using BuildEvent = std::function<absl::StatusOr<std::vector<FileChange>>(absl::Time event_time)>;

// Told about each committed event, to wake feed streams in this process
// without waiting for the NOTIFY round trip.
using CommitListener = std::function<void(const feed::ChainTip&)>;

// How events are sealed and announced: every event is signed with the
// origin's key (feed/signing.h).
struct Publishing {
  const feed::KeyPair* key = nullptr;  // required
  CommitListener on_commit;            // optional
  // Optional. If set, events that change the stats leave the stats files
  // out, builds may defer aggregate files (FileChange::deferred), and this is
  // called after such a change commits, so that an AggregateRefresher
  // publishes them a moment later, once for many changes
  // (origin/catalog/aggregate_refresher.h).
  std::function<void()> on_stats_changed;
  bool defers_aggregates() const { return static_cast<bool>(on_stats_changed); }
  // Renders the stats files as the transaction leaves the rows, for events
  // that change the stats while on_stats_changed is unset: the catalog's
  // RenderStatsFiles (publishing sits below the catalog and cannot call it).
  std::function<absl::StatusOr<std::vector<FileChange>>(PgConnection&)> render_stats;
};

// Name of the NOTIFY channel; the payload is the new head seq.
inline constexpr char kFeedChannel[] = "pgxn_feed";

// Publishes one event, signed, with the digest of the tree it leaves (the
// tree's LtHash state is kept in feed_head). Files whose content is unchanged
// are left out of the event; removing an absent file is a no-op. Returns the
// committed event without file contents.
absl::StatusOr<v1::Event> Publish(PgConnection& conn, const EventHeader& header,
                                  const BuildEvent& build, const Publishing& publishing);

// The LtHash state of the tree as tree_files holds it, computed from scratch.
absl::StatusOr<feed::TreeDigest> TreeStateFromFiles(PgConnection& conn);

// The current head of the log (seq 0 and the genesis hash when empty).
absl::StatusOr<feed::ChainTip> ReadFeedHead(PgConnection& conn);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_PUBLISHING_PUBLISHER_H_
