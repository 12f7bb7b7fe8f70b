// The pages about PGXN and this network: /about/, /faq/, /mirroring/ (how
// to run a mirror with pgxnd, and the mirrors meta/mirrors.json lists),
// /feeds/ (following releases), /spec/ (the Meta Spec the origin publishes
// at meta/spec.txt, as HTML), and an archive's files under
// /src/{dist}/{dist}-{version}/ (listings and escaped file contents).
// Thread-safe.
#ifndef PGXN_SITE_INFO_PAGES_H_
#define PGXN_SITE_INFO_PAGES_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/http.h"
#include "indexer/source_handler.h"
#include "site/catalog.h"
#include "site/page.h"

namespace pgxn::site {

// about, faq and feeds: the template's text and the page's title.
Page ProsePage(absl::string_view view);
absl::StatusOr<Page> MirroringPage(const Catalog& catalog);
absl::StatusOr<Page> SpecPage(const Catalog& catalog);

// The /src/ page for request.path, from what `source` answers for it:
// a directory's listing, a file's text inside <pre>, or for a binary file
// its size and a link to the raw bytes (?raw=1); redirects as `source`
// redirects; the 404 page for what it does not find.
// A text file larger than `max_inline_bytes` is shown as a binary one is;
// neither has its bytes read (SourceHandler::FileInfo). When `source` is
// busy with other large files (503), a 503 page.
absl::StatusOr<Page> SourcePage(const indexer::SourceHandler& source,
                                const gateway::Request& request, size_t max_inline_bytes);

}  // namespace pgxn::site

#endif  // PGXN_SITE_INFO_PAGES_H_
