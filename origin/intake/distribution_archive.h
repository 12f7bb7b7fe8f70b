// An uploaded distribution opened for release intake: its entries, where its
// META.json is and what it says, its README, and the zip to store for it with
// every member under "<name>-<version>/". Called by release intake
// (origin/intake/releases.cc) before validation and publishing; no database involved.
//
// Pure functions of their arguments: safe to call from any thread.
#ifndef PGXN_ORIGIN_INTAKE_DISTRIBUTION_ARCHIVE_H_
#define PGXN_ORIGIN_INTAKE_DISTRIBUTION_ARCHIVE_H_

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "archive/archive.h"

namespace pgxn::origin {

// Bounds on the META.json document itself (the archive limits bound the rest).
inline constexpr size_t kMaxMetaBytes = size_t{1} << 20;
inline constexpr int kMaxMetaDepth = 64;

struct DistributionArchive {
  archive::ArchiveFormat format = archive::ArchiveFormat::kZip;
  std::vector<archive::ArchiveEntry> entries;  // as ReadArchive returned them
  bool publishable_as_is = false;              // as ReadArchive returned it
  std::string top_dir;                         // "" if META.json is at the root
  std::string meta_path;                       // "pair-0.1.0/META.json" or "META.json"
  nlohmann::json meta;                         // an object; not yet validated
  // Raw bytes of the first top-level "README" or "README.<ext>" (a link to a
  // file reads as that file; one extension,
  // case as written), in archive order.
  absl::optional<std::string> readme;
};

// Reads the archive (see ReadArchive) and its META.json, which must be either
// at the root or in the single directory that holds every entry. A link to a
// file reads as that file, META.json and README included.
//
// Every error is FailedPrecondition (an upload conflict, HTTP 409), with the
// message naming the file: ReadArchive's errors, and
//   Cannot find a "META.json" in "<filename>"
//   The META.json in "<filename>" is larger than the limit of 1048576 bytes
//   Cannot parse JSON from "<meta_path>": <why>   (also nesting deeper than 64)
//   "<meta_path>" in "<filename>" must hold a JSON object, not <type>
absl::StatusOr<DistributionArchive> OpenDistribution(absl::string_view bytes,
                                                     absl::string_view filename,
                                                     const archive::ArchiveLimits& limits);

// The zip to store for the release, every member under
// "<lowercase name>-<lowercase version>/" (ASCII lowercasing, as tree paths):
// `original_bytes` unchanged when `dist` came from them as a zip whose top
// directory is already that prefix and whose paths are stored verbatim;
// otherwise a new zip (WriteZip) of the same
// entries in the same order with the top directory replaced by, or the root
// entries moved under, the prefix. FailedPrecondition if name or version cannot
// form a directory name (empty, or holding '/', '\' or a control character).
absl::StatusOr<std::string> NormalizedZip(const DistributionArchive& dist,
                                          absl::string_view original_bytes, absl::string_view name,
                                          absl::string_view version);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_INTAKE_DISTRIBUTION_ARCHIVE_H_
