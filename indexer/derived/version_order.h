// A loose order of release versions for the indexer, which must pick "the
// newest" among releases listed in tree files without trusting them to be
// valid SemVer: numeric major.minor.patch, then a release above its
// prereleases, then the text. Thread-safe (pure).
#ifndef PGXN_INDEXER_DERIVED_VERSION_ORDER_H_
#define PGXN_INDEXER_DERIVED_VERSION_ORDER_H_

#include "absl/strings/string_view.h"

namespace pgxn::indexer {

// True if `a` orders before `b`.
bool VersionBefore(absl::string_view a, absl::string_view b);

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DERIVED_VERSION_ORDER_H_
