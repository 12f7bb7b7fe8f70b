// The site's templates and static files, compiled into the binary from
// site/templates/ and site/ui/ (site/embed_files.cmake).
#ifndef PGXN_SITE_SITE_FILES_H_
#define PGXN_SITE_SITE_FILES_H_

#include <map>
#include <string>

namespace pgxn::site {

// Path relative to site/ ("templates/layout.mustache", "ui/pgxn.css") →
// the file's bytes.
const std::map<std::string, std::string>& EmbeddedSiteFiles();

}  // namespace pgxn::site

#endif  // PGXN_SITE_SITE_FILES_H_
