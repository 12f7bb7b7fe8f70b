// Maps a request's method and decoded path to the handler registered for it.
// Each role (origin, mirror, indexer) builds one Router at start-up and hands
// `Dispatch` to its HttpServer.
//
// Thread-safety: register every route before serving; after that, Dispatch is
// const and may run on many threads at once (it only reads the tables).
#ifndef PGXN_GATEWAY_ROUTER_H_
#define PGXN_GATEWAY_ROUTER_H_

#include <map>
#include <string>
#include <vector>

#include "gateway/http.h"

namespace pgxn::gateway {

class Router {
 public:
  // Routes `method` requests for exactly `exact_path` (a decoded path, e.g.
  // "/index.json"). A later registration of the same method and path replaces
  // the earlier one. Methods are case-sensitive, as in HTTP: use "GET".
  void Handle(std::string method, std::string exact_path, Handler handler);

  // Routes `method` requests for every path starting with `path_prefix`. The
  // match is on characters, not segments: pass "/dist/" rather than "/dist" to
  // keep "/distx" out.
  void HandlePrefix(std::string method, std::string path_prefix, Handler handler);

  // Calls the handler of the most specific route for request.path that accepts
  // request.method: the exact route first, then prefixes from longest to
  // shortest. A HEAD request falls back to the GET handler of a route without
  // a HEAD handler. If routes match the path but none accepts the method: 405
  // with an Allow header listing their methods. If none matches: 404 with the
  // plain-text body "Not found: <path>\n". Exceptions from handlers propagate.
  Response Dispatch(const Request& request) const;

 private:
  using MethodTable = std::map<std::string, Handler>;

  struct PrefixRoute {
    std::string prefix;
    MethodTable methods;
  };

  std::map<std::string, MethodTable> exact_;
  std::vector<PrefixRoute> prefixes_;  // longest prefix first
};

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_ROUTER_H_
