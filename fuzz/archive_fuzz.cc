// Fuzzes the reading of an uploaded distribution archive (archive/archive.h):
// zip, tar, tar.gz or tar.bz2 from bytes, every hostile construct to be
// refused. Limits are smaller than the origin's so that one input stays
// cheap; the code paths are the same.
//
// Invariants: every entry ReadArchive returns has a relative path without
// empty, "." or ".." segments or a backslash, no two share a path, a file's
// data fits the limits, a link has resolved to such a path; and
// what ReadArchive accepts, WriteZip writes and ReadArchive reads back with
// the same paths.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "archive/archive.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"

namespace {

using pgxn::archive::ArchiveEntry;

void CheckPath(absl::string_view path) {
  FUZZ_CHECK(!path.empty() && path[0] != '/', "a path is relative");
  FUZZ_CHECK(path.find('\\') == absl::string_view::npos, "a path has no backslash");
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    FUZZ_CHECK(!segment.empty() && segment != "." && segment != "..",
               "no empty, \".\" or \"..\" segment");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pgxn::archive::ArchiveLimits limits;
  limits.max_entries = 64;
  limits.max_entry_bytes = 256 << 10;
  limits.max_total_bytes = 1 << 20;
  absl::StatusOr<pgxn::archive::ReadArchiveResult> read =
      pgxn::archive::ReadArchive(pgxn::fuzz::AsText(data, size), "fuzz.zip", limits);
  if (!read.ok()) {
    FUZZ_CHECK(read.status().code() == absl::StatusCode::kFailedPrecondition,
               "a refused archive is FailedPrecondition");
    return 0;
  }
  FUZZ_CHECK(read->entries.size() <= limits.max_entries, "at most max_entries");
  absl::flat_hash_set<std::string> paths;
  uint64_t total = 0;
  for (const ArchiveEntry& entry : read->entries) {
    CheckPath(entry.path);
    FUZZ_CHECK(paths.insert(entry.path).second, "no two entries share a path");
    if (entry.type == ArchiveEntry::Type::kFile) {
      FUZZ_CHECK(entry.data.size() <= limits.max_entry_bytes, "an entry fits the limit");
      total += entry.data.size();
    }
    FUZZ_CHECK((entry.mode & ~0777u) == 0, "permission bits only");
  }
  FUZZ_CHECK(total <= limits.max_total_bytes, "the entries fit the limit");
  for (const ArchiveEntry& entry : read->entries) {
    if (entry.type != ArchiveEntry::Type::kSymlink) continue;
    CheckPath(entry.resolved);
  }

  // An empty tar is accepted (PGXN extracts it, then finds no META.json); a
  // zip of nothing is not, so there is nothing to write back.
  if (read->entries.empty()) return 0;
  absl::StatusOr<std::string> zip = pgxn::archive::WriteZip(read->entries);
  FUZZ_CHECK(zip.ok(), "what ReadArchive accepts, WriteZip writes");
  pgxn::archive::ArchiveLimits large;
  absl::StatusOr<pgxn::archive::ReadArchiveResult> again =
      pgxn::archive::ReadArchive(*zip, "again.zip", large);
  FUZZ_CHECK(again.ok(), "a zip WriteZip wrote reads back");
  FUZZ_CHECK(again->entries.size() == read->entries.size(), "as many entries");
  for (size_t i = 0; i < again->entries.size(); ++i) {
    FUZZ_CHECK(again->entries[i].path == read->entries[i].path, "the same paths, in order");
    FUZZ_CHECK(again->entries[i].type == read->entries[i].type, "the same types");
  }
  return 0;
}
