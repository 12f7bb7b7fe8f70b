// Writing a node's tree out as plain files (`pgxnd export`): the layout of
// PGXN's root mirror, for rsync mirrors and static web servers. Each file is
// written atomically (a temporary file in its directory, fsync, rename) with
// mode 0644, directories 0755; a file whose content is already right is not
// rewritten, so its mtime stays and rsync skips it. A rewritten file's mtime
// moves on by at least a whole second (rsync compares whole seconds), even
// when it is rewritten within the second it was last written.
//
// An export remembers the event it reflects (ExportMark, kept by the caller
// outside the exported directory). The next export reads the node's log from
// the event after it and writes or deletes only the paths those events
// changed (incremental); when it cannot (no mark, another epoch, a log that
// no longer reaches back that far after a snapshot bootstrap, or the
// directory gone), it compares every file of the tree with the directory
// and deletes whatever else the directory holds (full).
//
// Thread-safety: plain functions; one export at a time per directory.
#ifndef PGXN_REPLICA_TREE_EXPORT_H_
#define PGXN_REPLICA_TREE_EXPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "replica/store.h"

namespace pgxn::replica {

// The event an export reflects.
struct ExportMark {
  std::string epoch;
  uint64_t seq = 0;
  bool operator==(const ExportMark&) const = default;
};

// The mark kept in `file` (JSON: {"epoch": HEX, "seq": N}). NotFound if the
// file does not exist; InvalidArgument naming the file if it is not a mark.
absl::StatusOr<ExportMark> ReadExportMark(const std::string& file);
// Replaces `file` atomically.
absl::Status WriteExportMark(const std::string& file, const ExportMark& mark);

// A path's content after a run of events.
struct ExportFile {
  std::string sha256;  // 32 raw bytes
  uint64_t size = 0;
  bool operator==(const ExportFile&) const = default;
};
// Path → its final state after the events added: the file, or nullopt when
// the last op on it deleted it.
using TreeDelta = std::map<std::string, absl::optional<ExportFile>>;
// Adds `event`'s ops to `delta`; events are added in seq order, so a later
// op on a path replaces an earlier one.
void AddToDelta(const v1::Event& event, TreeDelta* delta);

struct ExportResult {
  uint64_t seq = 0;      // the event the directory now reflects
  uint64_t written = 0;  // files written (new or changed content)
  uint64_t deleted = 0;  // files removed
  bool incremental = false;
  ExportMark mark;  // to keep for the next export
};

// Brings directory `to` (created if missing) to the tree `store` holds at
// its tip. Incremental when `last` is of the store's epoch, at or below its
// tip, not before the start of its log, and `to` exists; full otherwise.
// Files are read from the store and checked against their sha256 before
// they are written (DataLoss otherwise). A tree path that CheckTreePath
// refuses is InvalidArgument, and nothing is ever written outside `to`.
// FailedPrecondition, with nothing written, if the store holds no events.
// The caller keeps result.mark only after OK: an export that failed
// half-way leaves whole files only, and the next one redoes it.
// `cancelled`, when given, is asked before each file: once it returns true
// the export stops there with Cancelled (every file whole, the mark not
// reached).
absl::StatusOr<ExportResult> ExportTree(const Store& store, const std::string& to,
                                        const absl::optional<ExportMark>& last,
                                        const std::function<bool()>& cancelled = {});

// "Exported seq N: P written, D deleted (incremental|full)".
std::string ExportSummary(const ExportResult& result);

}  // namespace pgxn::replica

#endif  // PGXN_REPLICA_TREE_EXPORT_H_
