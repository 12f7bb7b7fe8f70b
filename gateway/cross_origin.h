// Refusal of cross-origin requests that change state: the defence against
// cross-site request forgery for endpoints that trust what a browser sends
// on its own. The origin's Manager authenticates with HTTP Basic, and a
// browser that has logged in once keeps those credentials for the host and
// sends them with every request to it, also with a form post or a fetch
// that a page on another site makes it send; a token in each form cannot
// help there (the Manager's API is called by scripts and pgxn-release, not
// from forms it served). The browser itself says where a request comes from:
// every current browser sends Sec-Fetch-Site, and older ones send Origin
// with a cross-origin POST. Scripts, curl and pgxn-release send neither, so
// they are never refused. (The check is the one OWASP's CSRF cheat sheet
// calls "verifying origin with standard headers", in the order Go's
// net/http CrossOriginProtection applies it.)
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
//   (case-insensitive). "Origin: null" (a sandboxed or privacy-sensitive
//   context) is refused.
// A reverse proxy in front of a node must pass the client's Host header on
// (nginx: proxy_set_header Host $host) for the last rule to hold.
absl::optional<std::string> CrossOriginRefusal(const Request& request);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_CROSS_ORIGIN_H_
