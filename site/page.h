// A page of the site before it is rendered: which template shows it, the
// values it shows (a JSON value; site/templates.h), and what the layout
// needs (title, description, the feed link, the query in the header's
// search form). Page functions (site/*_pages.h) build them from the
// Catalog; Site (site/site.h) renders them and answers HTTP.
#ifndef PGXN_SITE_PAGE_H_
#define PGXN_SITE_PAGE_H_

#include <string>
#include <utility>

#include "nlohmann/json.hpp"

namespace pgxn::site {

struct Page {
  int status = 200;
  std::string view;         // the template: "dist" renders templates/dist.mustache
  std::string title;        // <title>, before " — PGXN"
  std::string description;  // <meta name="description">
  nlohmann::json data = nlohmann::json::object();
  bool recent_feed = false;  // <link rel="alternate"> to /feeds/recent.atom
  std::string query;         // kept in the header's search form
  std::string search_in;
  std::string location;  // a redirect (status 301 or 302) to here
};

// The layout's 404 page: `what` names what was not found ("No distribution
// named “foo”."); it carries a search form.
inline Page NotFoundPage(std::string what) {
  Page page;
  page.status = 404;
  page.view = "not_found";
  page.title = "Not found";
  page.description = "Nothing on PGXN answers this address.";
  page.data["message"] = std::move(what);
  return page;
}

inline Page Redirect(int status, std::string location) {
  Page page;
  page.status = status;
  page.location = std::move(location);
  return page;
}

}  // namespace pgxn::site

#endif  // PGXN_SITE_PAGE_H_
