#include "origin/publishing/publisher.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "base/log.h"
#include "feed/event_filter.h"
#include "feed/event_line.h"
#include "feed/tree_digest.h"
#include "gateway/media_type.h"

namespace pgxn::origin {

absl::StatusOr<feed::TreeDigest> TreeStateFromFiles(PgConnection& conn) {
  auto files = conn.Exec("SELECT path, sha256, media_type FROM tree_files");
  if (!files.ok()) return files.status();
  feed::TreeDigest tree;
  for (int row = 0; row < files->rows(); ++row) {
    tree.Add(files->Get(row, 0), files->Get(row, 1), files->Get(row, 2));
  }
  return tree;
}

absl::StatusOr<feed::ChainTip> ReadFeedHead(PgConnection& conn) {
  auto head = conn.Exec("SELECT seq, epoch, hash FROM feed_head");
  if (!head.ok()) return head.status();
  if (head->rows() != 1) return absl::DataLossError("feed_head must have exactly one row");
  return feed::ChainTip{static_cast<uint64_t>(head->GetInt(0, 0)), head->GetString(0, 1),
                        head->GetString(0, 2)};
}

absl::StatusOr<v1::Event> Publish(PgConnection& conn, const EventHeader& header,
                                  const BuildEvent& build, const Publishing& publishing) {
  if (publishing.key == nullptr) {
    return absl::InternalError("Publishing without the origin's signing key");
  }
  v1::Event event;
  absl::Status status = conn.Transaction([&]() -> absl::Status {
    // Taking the row lock first orders every publisher by commit.
    auto head = conn.Exec(
        "SELECT seq, epoch, hash, tree_state, tree_files, tree_bytes FROM feed_head FOR UPDATE");
    if (!head.ok()) return head.status();
    const feed::ChainTip tip{static_cast<uint64_t>(head->GetInt(0, 0)), head->GetString(0, 1),
                             head->GetString(0, 2)};
    absl::StatusOr<feed::TreeDigest> tree = head->IsNull(0, 3)
                                                ? TreeStateFromFiles(conn)
                                                : feed::TreeDigest::FromState(head->Get(0, 3));
    if (!tree.ok()) return tree.status();
    const uint64_t seq = tip.seq + 1;
    // Microseconds survive the round trip through timestamptz exactly.
    const absl::Time time = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));

    absl::StatusOr<std::vector<FileChange>> changes = build(time);
    if (!changes.ok()) return changes.status();
    if (header.changes_stats && !publishing.on_stats_changed) {
      if (!publishing.render_stats) {
        return absl::InternalError("Publishing has no stats renderer for a change of the stats");
      }
      absl::StatusOr<std::vector<FileChange>> stats = publishing.render_stats(conn);
      if (!stats.ok()) return stats.status();
      for (FileChange& file : *stats) changes->push_back(std::move(file));
    }
    if (header.recompute_tree_state) tree = TreeStateFromFiles(conn);
    if (!tree.ok()) return tree.status();
    int64_t tree_files = head->GetInt(0, 4);
    int64_t tree_bytes = head->GetInt(0, 5);
    if (header.recompute_tree_state || head->IsNull(0, 4) || head->IsNull(0, 5)) {
      auto counted = conn.Exec("SELECT count(*), coalesce(sum(size), 0)::bigint FROM tree_files");
      if (!counted.ok()) return counted.status();
      tree_files = counted->GetInt(0, 0);
      tree_bytes = counted->GetInt(0, 1);
    }

    std::vector<std::string> paths;
    std::vector<std::string> deferred;
    for (const FileChange& change : *changes) {
      if (absl::Status s = feed::CheckTreePath(change.path); !s.ok()) {
        return absl::InternalError(absl::StrCat("Refusing to publish: ", s.message()));
      }
      if (change.deferred) {
        if (!publishing.defers_aggregates()) {
          return absl::InternalError(absl::StrCat("Deferring ", change.path,
                                                  " without an aggregate refresher to publish it"));
        }
        deferred.push_back(change.path);
        // Subscribers filtering by tag learn of the change from the event
        // itself; the tag's file follows.
        if (absl::optional<std::string> tag = feed::TagOfPath(change.path)) {
          if (std::find(event.tags().begin(), event.tags().end(), *tag) == event.tags().end()) {
            event.add_tags(*std::move(tag));
          }
        }
        continue;
      }
      paths.push_back(change.path);
    }
    if (!deferred.empty()) {
      auto pending = conn.Exec(
          "INSERT INTO aggregate_pending (path) SELECT unnest($1::text[]) "
          "ON CONFLICT (path) DO UPDATE SET gen = nextval('aggregate_pending_gen')",
          PgParams().TextArray(deferred));
      if (!pending.ok()) return pending.status();
    }
    auto current =
        conn.Exec("SELECT path, sha256, media_type, size FROM tree_files WHERE path = ANY($1)",
                  PgParams().TextArray(paths));
    if (!current.ok()) return current.status();
    struct Existing {
      std::string sha256;
      std::string media_type;
      int64_t size;
    };
    absl::flat_hash_map<std::string, Existing> existing;
    for (int row = 0; row < current->rows(); ++row) {
      existing[current->GetString(row, 0)] =
          Existing{current->GetString(row, 1), current->GetString(row, 2), current->GetInt(row, 3)};
    }

    event.set_seq(seq);
    event.set_epoch(tip.epoch);
    event.set_time_us(absl::ToUnixMicros(time));
    event.set_kind(std::string(feed::EventKindName(header.kind)));
    event.set_actor(header.actor);
    event.mutable_subject()->set_dist(header.dist);
    event.mutable_subject()->set_version(header.version);
    // First decide the ops, then check them against what nodes accept (an
    // event they refuse would stop them all), and only then write.
    std::vector<const FileChange*> puts;
    uint64_t content_bytes = 0;
    for (const FileChange& change : *changes) {
      if (change.deferred) continue;
      auto found = existing.find(change.path);
      v1::Op op;
      op.set_path(change.path);
      if (change.remove) {
        if (found == existing.end()) continue;
        op.set_type(v1::Op::DELETE);
        tree->Remove(change.path, found->second.sha256, found->second.media_type);
        tree_files -= 1;
        tree_bytes -= found->second.size;
      } else {
        const std::string sha256 = base::Sha256(change.content);
        const std::string media_type = change.media_type.empty()
                                           ? std::string(gateway::MediaTypeForPath(change.path))
                                           : change.media_type;
        if (found != existing.end() && found->second.sha256 == sha256 &&
            found->second.media_type == media_type) {
          continue;
        }
        if (found != existing.end()) {
          tree->Remove(change.path, found->second.sha256, found->second.media_type);
          tree_files -= 1;
          tree_bytes -= found->second.size;
        }
        tree->Add(change.path, sha256, media_type);
        tree_files += 1;
        tree_bytes += static_cast<int64_t>(change.content.size());
        op.set_type(v1::Op::PUT);
        op.set_sha256(sha256);
        op.set_size(change.content.size());
        op.set_media_type(media_type);
        content_bytes += change.content.size();
        puts.push_back(&change);
      }
      *event.add_ops() = std::move(op);
    }
    if (static_cast<size_t>(event.ops_size()) > feed::kMaxOpsPerEvent) {
      return absl::FailedPreconditionError(
          absl::StrCat("This change touches ", event.ops_size(), " files, more than the ",
                       feed::kMaxOpsPerEvent, " one event may carry"));
    }
    if (content_bytes > feed::kMaxEventContentBytes) {
      return absl::FailedPreconditionError(
          absl::StrCat("This change writes ", content_bytes, " bytes of files, more than the ",
                       feed::kMaxEventContentBytes, " one event may carry"));
    }
    size_t next_put = 0;
    for (const v1::Op& op : event.ops()) {
      if (op.type() == v1::Op::DELETE) {
        auto r = conn.Exec("DELETE FROM tree_files WHERE path = $1", PgParams().Text(op.path()));
        if (!r.ok()) return r.status();
        continue;
      }
      const std::string& content = puts[next_put++]->content;
      auto blob = conn.Exec(
          "INSERT INTO blobs (sha256, size, content) VALUES ($1, $2, $3) "
          "ON CONFLICT (sha256) DO NOTHING",
          PgParams().Bytes(op.sha256()).Int(static_cast<int64_t>(op.size())).Bytes(content));
      if (!blob.ok()) return blob.status();
      auto file = conn.Exec(
          "INSERT INTO tree_files (path, sha256, size, media_type, seq, updated_at) "
          "VALUES ($1, $2, $3, $4, $5, 'epoch'::timestamptz + $6::bigint * interval '1 "
          "microsecond') "
          "ON CONFLICT (path) DO UPDATE SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, "
          "media_type = EXCLUDED.media_type, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at",
          PgParams()
              .Text(op.path())
              .Bytes(op.sha256())
              .Int(static_cast<int64_t>(op.size()))
              .Text(op.media_type())
              .Int(static_cast<int64_t>(seq))
              .Int(event.time_us()));
      if (!file.ok()) return file.status();
    }
    if (event.ops().empty() && event.tags().empty() && header.skip_if_unchanged) {
      // The domain changes commit; the log does not grow.
      event.Clear();
      return absl::OkStatus();
    }
    event.set_tree_digest(tree->Digest());
    event.set_tree_files(static_cast<uint64_t>(tree_files));
    event.set_tree_bytes(static_cast<uint64_t>(tree_bytes));
    feed::SealEvent(tip, &event);
    feed::SignEvent(publishing.key->secret_key, &event);

    auto inserted = conn.Exec(
        "INSERT INTO events (seq, epoch, time, kind, actor, dist, version, hash, record) "
        "VALUES ($1, $2, 'epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4, $5, $6, "
        "$7, $8, $9)",
        PgParams()
            .Int(static_cast<int64_t>(seq))
            .Text(event.epoch())
            .Int(event.time_us())
            .Text(event.kind())
            .Text(event.actor())
            .Text(header.dist)
            .Text(header.version)
            .Bytes(event.hash())
            .Bytes(event.SerializeAsString()));
    if (!inserted.ok()) return inserted.status();
    auto updated = conn.Exec(
        "UPDATE feed_head SET seq = $1, hash = $2, tree_state = $3, tree_files = $4, "
        "tree_bytes = $5",
        PgParams()
            .Int(static_cast<int64_t>(seq))
            .Bytes(event.hash())
            .Bytes(tree->State())
            .Int(tree_files)
            .Int(tree_bytes));
    if (!updated.ok()) return updated.status();
    // Delivered to listeners only when (and if) the transaction commits.
    auto notified = conn.Exec("SELECT pg_notify($1, $2)",
                              PgParams().Text(kFeedChannel).Text(absl::StrCat(seq)));
    return notified.status();
  });
  if (!status.ok()) return status;
  if (header.changes_stats && publishing.on_stats_changed) publishing.on_stats_changed();
  if (event.seq() == 0) return event;
  base::LogInfo(absl::StrCat("Published ", feed::EventLine(event)));
  if (publishing.on_commit) publishing.on_commit(feed::TipAfter(event));
  return event;
}

}  // namespace pgxn::origin
