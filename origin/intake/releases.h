// Release intake on the origin (docs/pgxn.md §3 "Release processing"): an uploaded
// archive is opened, its META.json validated, ownership and version order
// checked, and the release published as one `release` event with every tree
// file it changes. Every rejection is FailedPrecondition (HTTP 409) with
// PGXN's message, except one rule PGXN lacks: a new release of an existing
// distribution is PermissionDenied (HTTP 403, naming the owners) unless the
// uploader owns or co-owns one of the extensions the distribution's latest
// release provides, or is an administrator. A rejection leaves nothing
// behind. Thread-compatible (one
// connection per call).
#ifndef PGXN_ORIGIN_INTAKE_RELEASES_H_
#define PGXN_ORIGIN_INTAKE_RELEASES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "archive/archive.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

struct Upload {
  std::string user;      // the authenticated nickname
  std::string filename;  // as the client named the file (for messages)
  absl::string_view bytes;
  // The zip stored, after any repacking, may not be larger (the origin's
  // --max-upload).
  uint64_t max_zip_bytes = uint64_t{64} << 20;
  // Accept versions in the SemVer 1.0 form (the origin's --accept-semver1).
  bool accept_semver1 = false;
  // The uploader is an administrator: may release any distribution.
  bool user_is_admin = false;
};

// Limits on what one META.json may list, so one release stays one event of
// bounded size.
inline constexpr size_t kMaxTags = 100;
inline constexpr size_t kMaxProvides = 1000;

// PGXN's version-order rule (§3 step 6): nullopt-like OK when `version` may
// follow `existing`, else FailedPrecondition naming the release it does not
// exceed. `existing` are the versions already published for `dist`.
absl::Status CheckVersionOrder(absl::string_view dist, absl::string_view version,
                               const std::vector<std::string>& existing);

absl::StatusOr<v1::Event> PublishRelease(PgConnection& conn, const Upload& upload,
                                         const archive::ArchiveLimits& limits,
                                         const Publishing& publishing);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_INTAKE_RELEASES_H_
