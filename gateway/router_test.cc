#include "gateway/router.h"

#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

// A handler that answers with its own name, so a test can see who was called.
Handler Named(std::string name) {
  return [name](const Request&) { return TextResponse(200, name); };
}

Request Make(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.target = request.path;
  return request;
}

Router MakeRouter() {
  Router router;
  router.Handle("GET", "/index.json", Named("index"));
  router.Handle("POST", "/upload", Named("upload"));
  router.Handle("GET", "/dist/special.json", Named("special"));
  router.HandlePrefix("GET", "/", Named("tree"));
  router.HandlePrefix("GET", "/dist/", Named("dist"));
  router.HandlePrefix("HEAD", "/dist/", Named("dist-head"));
  router.HandlePrefix("GET", "/search/", Named("search"));
  router.HandlePrefix("PUT", "/admin/", Named("admin-put"));
  router.HandlePrefix("DELETE", "/admin/", Named("admin-delete"));
  return router;
}

TEST(RouterTest, DispatchesToTheMostSpecificRoute) {
  const Router router = MakeRouter();
  const struct {
    std::string method;
    std::string path;
    std::string handler;
  } kCases[] = {
      {"GET", "/index.json", "index"},
      {"HEAD", "/index.json", "index"},  // HEAD falls back to GET
      {"POST", "/upload", "upload"},
      {"GET", "/upload", "tree"},                // the exact route has no GET; the "/" prefix has
      {"GET", "/dist/special.json", "special"},  // exact beats a longer-matching prefix
      {"GET", "/dist/pair.json", "dist"},        // longest prefix wins
      {"HEAD", "/dist/pair.json", "dist-head"},  // an explicit HEAD beats the GET fallback
      {"GET", "/dist", "tree"},                  // "/dist/" does not match "/dist"
      {"GET", "/distx", "tree"},
      {"GET", "/search/docs/", "search"},
      {"HEAD", "/search/docs/", "search"},
      {"GET", "/", "tree"},
      {"PUT", "/admin/x", "admin-put"},
      {"DELETE", "/admin/x", "admin-delete"},
  };
  for (const auto& c : kCases) {
    const Response response = router.Dispatch(Make(c.method, c.path));
    EXPECT_EQ(response.status, 200) << c.method << " " << c.path;
    EXPECT_EQ(response.body, c.handler) << c.method << " " << c.path;
  }
}

TEST(RouterTest, UnknownMethodIs405WithAllow) {
  const Router router = MakeRouter();
  const struct {
    std::string method;
    std::string path;
    std::string allow;
  } kCases[] = {
      {"POST", "/index.json", "GET, HEAD"},  // exact GET plus the "/" prefix
      {"DELETE", "/upload", "GET, HEAD, POST"},
      {"POST", "/dist/pair.json", "GET, HEAD"},
      {"PATCH", "/admin/x", "DELETE, GET, HEAD, PUT"},
      {"get", "/index.json", "GET, HEAD"},  // methods are case-sensitive
  };
  for (const auto& c : kCases) {
    const Response response = router.Dispatch(Make(c.method, c.path));
    EXPECT_EQ(response.status, 405) << c.method << " " << c.path;
    EXPECT_EQ(response.Header("Allow"), c.allow) << c.method << " " << c.path;
    EXPECT_EQ(response.body, "Method not allowed: " + c.method + " " + c.path + "\n")
        << c.method << " " << c.path;
  }
}

TEST(RouterTest, NoRouteIs404PlainText) {
  Router router;
  router.Handle("GET", "/index.json", Named("index"));
  router.HandlePrefix("GET", "/dist/", Named("dist"));
  const std::string kPaths[] = {"/", "/index.jsonx", "/dist", "/tag/key value.json", "/INDEX.JSON"};
  for (const std::string& path : kPaths) {
    const Response response = router.Dispatch(Make("GET", path));
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.Header("Content-Type"), "text/plain; charset=utf-8") << path;
    EXPECT_EQ(response.body, "Not found: " + path + "\n") << path;
  }
}

TEST(RouterTest, LaterRegistrationReplaces) {
  Router router;
  router.Handle("GET", "/a", Named("first"));
  router.Handle("GET", "/a", Named("second"));
  router.HandlePrefix("GET", "/p/", Named("first prefix"));
  router.HandlePrefix("GET", "/p/", Named("second prefix"));
  EXPECT_EQ(router.Dispatch(Make("GET", "/a")).body, "second");
  EXPECT_EQ(router.Dispatch(Make("GET", "/p/x")).body, "second prefix");
}

TEST(RouterTest, PrefixOrderDoesNotDependOnRegistrationOrder) {
  Router router;
  router.HandlePrefix("GET", "/a/b/", Named("ab"));
  router.HandlePrefix("GET", "/", Named("root"));
  router.HandlePrefix("GET", "/a/", Named("a"));
  router.HandlePrefix("GET", "/a/b/c/", Named("abc"));
  const struct {
    std::string path;
    std::string handler;
  } kCases[] = {{"/a/b/c/d", "abc"}, {"/a/b/x", "ab"}, {"/a/x", "a"}, {"/x", "root"}};
  for (const auto& c : kCases) {
    EXPECT_EQ(router.Dispatch(Make("GET", c.path)).body, c.handler) << c.path;
  }
}

TEST(RouterTest, PassesTheRequestAndPropagatesExceptions) {
  Router router;
  router.Handle("POST", "/echo",
                [](const Request& request) { return TextResponse(201, std::string(request.body.view())); });
  router.Handle("GET", "/throw",
                [](const Request&) -> Response { throw std::runtime_error("boom"); });
  Request echo = Make("POST", "/echo");
  echo.body = "payload";
  const Response response = router.Dispatch(echo);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "payload");
  EXPECT_THROW(router.Dispatch(Make("GET", "/throw")), std::runtime_error);
}

}  // namespace
}  // namespace pgxn::gateway
