// An administrator's removal of a release (issue 3, "Admin removal"): one
// `delete` event that removes the release's files (its zip, META.json and
// README.txt) and rewrites the dist, extension, tag, user and stats files as
// if it had never been released; a dist, extension or tag file with no
// release left is removed. The release's rows go too (its tags and provided
// extensions with it).
//
// The extension rows themselves stay, with their owner and co-owners, even
// when no release provides an extension any more: a removal takes a release
// out of the network, not a name from its owner, who can release it again
// (and nobody else can take it meanwhile). Version order is checked against
// the releases left, so the removed version can be uploaded again.
//
// Called by the Manager's admin endpoint (admin_http.cc), which checks that
// the caller is an administrator. Thread-compatible (one connection per call).
#ifndef PGXN_ORIGIN_INTAKE_RELEASE_REMOVAL_H_
#define PGXN_ORIGIN_INTAKE_RELEASE_REMOVAL_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "origin/pg/pg.h"
#include "origin/publishing/publisher.h"

namespace pgxn::origin {

// Removes the release `dist` `version` (compared case-insensitively) as
// `actor` and returns the committed event. NotFound
// (Distribution "D V" does not exist) for an unknown release; nothing is
// written on any error.
absl::StatusOr<v1::Event> RemoveRelease(PgConnection& conn, absl::string_view actor,
                                        absl::string_view dist, absl::string_view version,
                                        const Publishing& publishing);

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_INTAKE_RELEASE_REMOVAL_H_
