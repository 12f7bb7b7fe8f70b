// The site's Mustache templates (site/templates/*.mustache), rendered with
// kainjow's Mustache (libkainjow-mustache-dev): every {{value}} is
// HTML-escaped; only {{{value}}} is not, and templates use it solely for HTML
// the indexer already sanitised (rendered docs, search excerpts) or that the
// site itself rendered (a page's body inside the layout).
//
// A page's data is a JSON value: objects and arrays become Mustache contexts
// and lists, strings stay strings, numbers print as JSON does, true is true,
// and false, null, "" and empty arrays leave a section out (and print "").
//
// Thread-safe: Render may run on many threads at once (each render takes a
// parsed copy of its template from a small pool, since kainjow's renderer
// is not const).
#ifndef PGXN_SITE_TEMPLATES_H_
#define PGXN_SITE_TEMPLATES_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace pgxn::site {

class Templates {
 public:
  // Parses every "templates/NAME.mustache" of `files` (path → text) as the
  // template NAME. InvalidArgument naming the template and the parser's
  // message if one does not parse.
  static absl::StatusOr<std::unique_ptr<Templates>> Load(
      const std::map<std::string, std::string>& files);
  ~Templates();

  // Renders template `name` with `data`. NotFound for an unknown name;
  // Internal if rendering fails.
  absl::StatusOr<std::string> Render(absl::string_view name, const nlohmann::json& data) const;

 private:
  class Pool;
  Templates() = default;
  std::map<std::string, std::unique_ptr<Pool>, std::less<>> pools_;
};

}  // namespace pgxn::site

#endif  // PGXN_SITE_TEMPLATES_H_
