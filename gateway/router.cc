#include "gateway/router.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pgxn::gateway {
namespace {

// The handler in `methods` for `method`, with HEAD served by GET, or nullptr.
const Handler* FindHandler(const std::map<std::string, Handler>& methods,
                           const std::string& method) {
  if (auto it = methods.find(method); it != methods.end()) return &it->second;
  if (method == "HEAD") {
    if (auto it = methods.find("GET"); it != methods.end()) return &it->second;
  }
  return nullptr;
}

void AddAllowed(const std::map<std::string, Handler>& methods, std::set<std::string>& allowed) {
  for (const auto& [method, handler] : methods) {
    allowed.insert(method);
    if (method == "GET") allowed.insert("HEAD");
  }
}

}  // namespace

void Router::Handle(std::string method, std::string exact_path, Handler handler) {
  exact_[std::move(exact_path)][std::move(method)] = std::move(handler);
}

void Router::HandlePrefix(std::string method, std::string path_prefix, Handler handler) {
  auto it = std::find_if(prefixes_.begin(), prefixes_.end(),
                         [&](const PrefixRoute& route) { return route.prefix == path_prefix; });
  if (it == prefixes_.end()) {
    // Keep longest first so Dispatch can stop at the first match; equal
    // lengths cannot both match one path unless they are the same prefix.
    it = std::find_if(prefixes_.begin(), prefixes_.end(), [&](const PrefixRoute& route) {
      return route.prefix.size() < path_prefix.size();
    });
    it = prefixes_.insert(it, PrefixRoute{std::move(path_prefix), {}});
  }
  it->methods[std::move(method)] = std::move(handler);
}

Response Router::Dispatch(const Request& request) const {
  std::vector<const MethodTable*> candidates;
  if (auto it = exact_.find(request.path); it != exact_.end()) candidates.push_back(&it->second);
  for (const PrefixRoute& route : prefixes_) {
    if (absl::StartsWith(request.path, route.prefix)) candidates.push_back(&route.methods);
  }
  for (const MethodTable* methods : candidates) {
    if (const Handler* handler = FindHandler(*methods, request.method)) return (*handler)(request);
  }
  if (candidates.empty()) return TextResponse(404, absl::StrCat("Not found: ", request.path, "\n"));

  std::set<std::string> allowed;
  for (const MethodTable* methods : candidates) AddAllowed(*methods, allowed);
  Response response = TextResponse(
      405, absl::StrCat("Method not allowed: ", request.method, " ", request.path, "\n"));
  response.SetHeader("Allow", absl::StrJoin(allowed, ", "));
  return response;
}

}  // namespace pgxn::gateway
