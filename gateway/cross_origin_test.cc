#include "gateway/cross_origin.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

Request Make(std::string method, std::vector<std::pair<std::string, std::string>> headers) {
  Request request;
  request.method = std::move(method);
  request.path = "/account/password";
  request.headers = std::move(headers);
  return request;
}

TEST(CrossOriginRefusalTest, SafeMethodsAlwaysPass) {
  for (const char* method : {"GET", "HEAD", "OPTIONS"}) {
    EXPECT_EQ(CrossOriginRefusal(Make(method, {{"host", "pgxn.example"},
                                               {"sec-fetch-site", "cross-site"},
                                               {"origin", "https://evil.example"}})),
              absl::nullopt)
        << method;
  }
}

TEST(CrossOriginRefusalTest, ClientsThatAreNotBrowsersPass) {
  // curl, pgxn-release, scripts: neither header.
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    EXPECT_EQ(CrossOriginRefusal(Make(method, {{"host", "pgxn.example"}})), absl::nullopt)
        << method;
  }
  EXPECT_EQ(CrossOriginRefusal(Make("POST", {})), absl::nullopt);
}

TEST(CrossOriginRefusalTest, SecFetchSiteDecidesWhenPresent) {
  for (const char* site : {"same-origin", "none", "Same-Origin", " none "}) {
    // Sec-Fetch-Site wins over an Origin that does not match (a browser's
    // own word on where the request comes from).
    EXPECT_EQ(CrossOriginRefusal(Make("POST", {{"host", "pgxn.example"},
                                               {"sec-fetch-site", site},
                                               {"origin", "https://other.example"}})),
              absl::nullopt)
        << site;
  }
  for (const char* site : {"cross-site", "same-site", "something-new"}) {
    const absl::optional<std::string> refusal = CrossOriginRefusal(Make(
        "POST",
        {{"host", "pgxn.example"}, {"sec-fetch-site", site}, {"origin", "https://pgxn.example"}}));
    ASSERT_TRUE(refusal.has_value()) << site;
    EXPECT_EQ(*refusal,
              std::string("Cross-origin request refused: the browser sent it from another site "
                          "(Sec-Fetch-Site: ") +
                  site + ")");
  }
}

TEST(CrossOriginRefusalTest, OriginMustBeThisHostWithoutSecFetchSite) {
  for (const auto& [origin, host] : std::vector<std::pair<std::string, std::string>>{
           {"https://pgxn.example", "pgxn.example"},
           {"http://localhost:7000", "localhost:7000"},
           {"HTTP://PGXN.Example", "pgxn.example"},
           {"http://[::1]:7000", "[::1]:7000"},
       }) {
    EXPECT_EQ(CrossOriginRefusal(Make("POST", {{"host", host}, {"origin", origin}})), absl::nullopt)
        << origin;
  }
  for (const auto& [origin, host] : std::vector<std::pair<std::string, std::string>>{
           {"https://evil.example", "pgxn.example"},
           {"http://localhost:7001", "localhost:7000"},
           {"http://localhost", "localhost:7000"},
           {"null", "pgxn.example"},
           {"pgxn.example", "pgxn.example"},
           {"https://pgxn.example/path", "pgxn.example/path"},
           {"https://user@pgxn.example", "user@pgxn.example"},
           {"https://", ""},
           {"https://pgxn.example", ""},
       }) {
    const absl::optional<std::string> refusal =
        CrossOriginRefusal(Make("DELETE", {{"host", host}, {"origin", origin}}));
    ASSERT_TRUE(refusal.has_value()) << origin << " on " << host;
    EXPECT_NE(refusal->find("Origin " + origin + " is not this host"), std::string::npos)
        << *refusal;
  }
  EXPECT_EQ(*CrossOriginRefusal(Make("POST", {{"origin", "https://evil.example"}})),
            "Cross-origin request refused: Origin https://evil.example is not this host "
            "(no Host header)");
}

TEST(CrossOriginRefusalTest, ThePublicOriginPassesWhateverTheHost) {
  // Behind a proxy that passes its own Host on, a browser on the node's own
  // pages still sends the public origin.
  const Request request =
      Make("POST", {{"host", "127.0.0.1:7000"}, {"origin", "https://pgxn.example.org"}});
  EXPECT_EQ(CrossOriginRefusal(request, "https://pgxn.example.org"), absl::nullopt);
  EXPECT_EQ(CrossOriginRefusal(request, "HTTPS://PGXN.example.org"), absl::nullopt);
  EXPECT_TRUE(CrossOriginRefusal(request, "https://other.example.org").has_value());
  EXPECT_TRUE(CrossOriginRefusal(request, "").has_value());
  EXPECT_TRUE(CrossOriginRefusal(
                  Make("POST", {{"host", "127.0.0.1:7000"}, {"origin", "https://evil.example"}}),
                  "https://pgxn.example.org")
                  .has_value());
}

TEST(OriginOfUrlTest, KeepsSchemeHostAndPort) {
  EXPECT_EQ(OriginOfUrl("https://pgxn.example.org"), "https://pgxn.example.org");
  EXPECT_EQ(OriginOfUrl("https://pgxn.example.org/"), "https://pgxn.example.org");
  EXPECT_EQ(OriginOfUrl("http://localhost:7000/manager?x#y"), "http://localhost:7000");
  EXPECT_EQ(OriginOfUrl("http://[::1]:7000/"), "http://[::1]:7000");
  EXPECT_EQ(OriginOfUrl(""), "");
  EXPECT_EQ(OriginOfUrl("pgxn.example.org"), "");
  EXPECT_EQ(OriginOfUrl("https://"), "");
  EXPECT_EQ(OriginOfUrl("https://user@pgxn.example.org/"), "");
}

}  // namespace
}  // namespace pgxn::gateway
