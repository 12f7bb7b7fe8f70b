// The website (pgxn.org's pages) an indexer serves on its own listener
// (`pgxnd indexer --site`): server-rendered HTML5 with pgxn.org's paths,
// from the indexer's store, derived documents and search index, fresh with
// every event the indexer serves. The pages and their paths:
//
//   /                                   home: search, newest releases, counts,
//                                       popular tags, prolific users
//   /search?q=&in=&o=&l=                results of one index, paged
//   /dist/{dist}/                       the dist's shown release
//   /dist/{dist}/{version}/             one release
//   /dist/{dist}/{version}/{doc}.html   a doc of that release
//   /dist/{dist}/{doc}.html             a doc of the shown release
//   /dist/{dist}/{version}/{file}       the zip, META.json, README.txt
//   /extension/{ext}/                   302 to its doc, or its dist
//   /user/{nick}/  /users/?c=L  /tags/  /tag/{tag}/  /recent/
//   /src/{dist}/{dist}-{version}/...    the archive's files (?raw=1: bytes)
//   /about/ /faq/ /mirroring/ /feeds/ /spec/  /meta/spec.txt
//   /feeds/recent.atom                  the Atom feed, as on every node
//   /feeds/{dist,user,tag}/{name}.atom  per-topic feeds, as on every node
//   /contact.html /mirroring.html /faq.html /meta/spec.html
//                                       301 to their pages (pgxn.org's old paths)
//   /ui/...                             the stylesheet and icon
// A page path without its trailing slash answers 301 with the slash (the
// query kept), so relative links in READMEs resolve. Anything else, and any
// unknown dist, version, doc, user or tag, is the 404 page (in the layout,
// with a search form). Methods other than GET and HEAD: 405.
//
// HTTP: pages carry a weak ETag of the served seq and the site's
// fingerprint (templates, static files, kPageFormat), so it changes whenever
// the tree or the build does, and answer If-None-Match with 304 before
// reading anything; `Cache-Control: no-cache` (a
// client revalidates every time, so a release shows at once, and the 304
// is cheap); the stylesheet's name holds a digest of its bytes and is
// cached for a year. Text is gzipped when the client accepts it.
//
// Thread-safe: Handle runs on the site listener's I/O threads, concurrently.
#ifndef PGXN_SITE_SITE_H_
#define PGXN_SITE_SITE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/http.h"
#include "gateway/router.h"
#include "indexer/source_handler.h"
#include "site/catalog.h"
#include "site/page.h"
#include "site/templates.h"

namespace pgxn::site {

class Site {
 public:
  // Loads the embedded templates (an error names a template that does not
  // parse). The sources must outlive the site.
  static absl::StatusOr<std::unique_ptr<Site>> Create(SiteSources sources);

  // Registers Handle for every GET (and so HEAD) path, and 405 for others.
  void AddRoutes(gateway::Router* router) const;

  gateway::Response Handle(const gateway::Request& request) const;

  // Bump when the C++ changes what a page shows, so that browsers holding a
  // page of an older build do not get a 304 for it.
  static constexpr char kPageFormat[] = "1";
  // Source files larger than this are not shown inline: the page links to
  // the raw bytes instead (a 60 MB file would cost GBs to render).
  static constexpr size_t kMaxInlineSourceBytes = size_t{1} << 20;

  // The stylesheet's fingerprinted path, "/ui/pgxn.0123abcd.css".
  const std::string& stylesheet_path() const { return css_path_; }

 private:
  struct Asset {
    std::string body;
    std::string gzipped;  // the body gzipped, "" when not worth it
    std::string media_type;
    std::string etag;
    bool immutable = false;
  };

  Site(SiteSources sources, std::unique_ptr<Templates> templates);
  absl::StatusOr<Page> Route(const gateway::Request& request,
                             gateway::Response* direct) const;
  // `etag`: the page's, for a 200 (read before the page's data, so that it
  // never names a newer seq than the data shows).
  gateway::Response Render(const gateway::Request& request, const Page& page,
                           const std::string& etag) const;
  gateway::Response ServeAsset(const gateway::Request& request, const Asset& asset) const;

  Catalog catalog_;
  std::unique_ptr<Templates> templates_;
  indexer::SourceHandler source_;
  std::shared_ptr<const gateway::TreeReader> tree_;
  std::map<std::string, Asset, std::less<>> assets_;  // by request path
  std::string css_path_;
  std::string icon_path_;
  // A digest of everything a page depends on besides the tree: every
  // embedded template and static file, and kPageFormat.
  std::string fingerprint_;
};

}  // namespace pgxn::site

#endif  // PGXN_SITE_SITE_H_
