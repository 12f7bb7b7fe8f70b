// Refusal of cross-origin requests that change state: the defence against
// cross-site request forgery for endpoints that trust what a browser sends
// on its own. The origin's Manager authenticates with HTTP Basic, and a
// browser that has logged in once keeps those credentials for the host and
// sends them with every request to it, also with a form post or a fetch
// that a page on another site makes it send; a token in each form cannot
// help there (the Manager's API is called by scripts and pgxn-release, not
// from forms it served). The browser itself says where a request comes from:
// current browsers send Sec-Fetch-Site to HTTPS sites and localhost, and
// every browser sends Origin with a cross-origin POST (over plain HTTP
// too). Scripts, curl and pgxn-release send neither, so they are never
// refused. (The check is the one OWASP's CSRF cheat sheet calls "verifying
// origin with standard headers", in the order Go's net/http
// CrossOriginProtection applies it.)
//
// A pure function of the request's method and headers: safe from any thread.
#ifndef PGXN_GATEWAY_CROSS_ORIGIN_H_
#define PGXN_GATEWAY_CROSS_ORIGIN_H_

#include <string>

#include "absl/types/optional.h"
#include "gateway/http.h"

namespace pgxn::gateway {

// Why `request` (its header is enough) must be refused as a cross-origin
// request that changes state, or nullopt to let it through:
// - GET, HEAD and OPTIONS always pass (they must not change state);
// - Sec-Fetch-Site "same-origin" or "none" (typed by the user, a bookmark)
//   passes; any other value ("same-site", "cross-site", anything unknown)
//   is refused;
// - without Sec-Fetch-Site, a request without Origin passes (not a browser,
//   or a same-origin request of a browser from before 2020); with Origin,
//   it passes only if Origin's host and port are the request's Host header
//   (case-insensitive), or Origin is `public_origin` (the node's public
//   URL's scheme://host[:port], see OriginOfUrl; for a node behind a proxy
//   that does not pass the client's Host header on). "Origin: null" (a
//   sandboxed or privacy-sensitive context) is refused.
absl::optional<std::string> CrossOriginRefusal(const Request& request,
                                               absl::string_view public_origin = "");

// "https://pgxn.example.org/some/path" -> "https://pgxn.example.org", the
// form a browser's Origin header takes; "" for what is not such a URL.
std::string OriginOfUrl(absl::string_view url);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_CROSS_ORIGIN_H_
