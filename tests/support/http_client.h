// Test support: a small blocking HTTP client (libcurl) for checking what nodes
// serve.
#ifndef PGXN_TESTS_SUPPORT_HTTP_CLIENT_H_
#define PGXN_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

namespace pgxn::testing {

struct HttpResult {
  long status = 0;  // 0 if the request failed at the transport level
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string error;                                         // transport error, if any

  std::string Header(const std::string& name) const;
};

// GET (or HEAD) `url` with extra request headers ("Name: value").
HttpResult HttpGet(const std::string& url, const std::vector<std::string>& headers = {},
                   bool head = false);

// POST `body` with the given request headers.
HttpResult HttpPost(const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers);

// Any method (PUT, DELETE, ...), with a body when `body` is not empty.
HttpResult HttpRequest(const std::string& method, const std::string& url, const std::string& body,
                       const std::vector<std::string>& headers);

// The Authorization header of HTTP Basic credentials.
std::string BasicAuthHeader(const std::string& user, const std::string& password);

}  // namespace pgxn::testing

#endif  // PGXN_TESTS_SUPPORT_HTTP_CLIENT_H_
