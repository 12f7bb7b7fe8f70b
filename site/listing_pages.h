// The pages that list: the home page (search, newest releases, counts,
// popular tags, most prolific users), /recent/, /user/{nick}/,
// /users/?c={letter}, /tags/, /tag/{tag}/ and /search?q=&in=&o=&l=.
// Thread-safe.
#ifndef PGXN_SITE_LISTING_PAGES_H_
#define PGXN_SITE_LISTING_PAGES_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/path.h"
#include "site/catalog.h"
#include "site/page.h"

namespace pgxn::site {

// How many of the newest releases the home page shows; /recent/ shows all
// that stats/dist.json lists.
inline constexpr size_t kHomeRecent = 8;

absl::StatusOr<Page> HomePage(const Catalog& catalog);
absl::StatusOr<Page> RecentPage(const Catalog& catalog);
// The dists of a user or a tag are listed kDistsPerPage at a time, by name;
// `page` is ?p= (1 for anything that is not a page number, the last page
// past the end).
inline constexpr size_t kDistsPerPage = 100;
absl::StatusOr<Page> UserPage(const Catalog& catalog, absl::string_view nickname,
                              absl::string_view page = "");
// `letter` from ?c=: one ASCII letter (either case); "" or anything else
// shows "a".
absl::StatusOr<Page> UsersPage(const Catalog& catalog, absl::string_view letter);
absl::StatusOr<Page> TagsPage(const Catalog& catalog);
absl::StatusOr<Page> TagPage(const Catalog& catalog, absl::string_view tag,
                             absl::string_view page = "");

// /search with the query's parameters: q (required), in (docs, dists,
// extensions, users or tags; default docs), o (offset), l (limit, at most
// 100, default 20). An empty or invalid query, index or number is a 400
// page that says what is wrong and keeps the form.
absl::StatusOr<Page> SearchPage(const Catalog& catalog, const gateway::QueryParams& params);

}  // namespace pgxn::site

#endif  // PGXN_SITE_LISTING_PAGES_H_
