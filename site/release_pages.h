// The pages of a distribution: pgxn.org's /dist/{dist}/ (its newest stable
// release, or the newest of any status when none is stable),
// /dist/{dist}/{version}/, a doc at /dist/{dist}/{version}/{docpath}.html or
// /dist/{dist}/{docpath}.html (the shown release), and /extension/{ext}/,
// which redirects to the extension's doc (or its dist when it has none).
//
// Names are matched as the tree names them (ASCII case-insensitively);
// anything unknown is the 404 page. Thread-safe.
#ifndef PGXN_SITE_RELEASE_PAGES_H_
#define PGXN_SITE_RELEASE_PAGES_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "site/catalog.h"
#include "site/page.h"

namespace pgxn::site {

// `version` "" shows the dist's shown release. Errors: the catalog's other
// than NotFound.
absl::StatusOr<Page> DistPage(const Catalog& catalog, absl::string_view dist,
                              absl::string_view version);

// `version` "" reads the doc of the shown release; `docpath` without
// ".html" ("doc/pair").
absl::StatusOr<Page> DocPage(const Catalog& catalog, absl::string_view dist,
                             absl::string_view version, absl::string_view docpath);

// Whether `segment` names a release of `dist` (so /dist/D/SEGMENT/... is a
// versioned path rather than a docpath of the shown release).
absl::StatusOr<bool> IsReleaseOf(const Catalog& catalog, absl::string_view dist,
                                 absl::string_view segment);

absl::StatusOr<Page> ExtensionRedirect(const Catalog& catalog, absl::string_view extension);

}  // namespace pgxn::site

#endif  // PGXN_SITE_RELEASE_PAGES_H_
