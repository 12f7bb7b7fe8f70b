#include "origin/webhooks/target.h"

#include <arpa/inet.h>

#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

std::string Kind(const char* text) {
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text, bytes) == 1) {
    return ClassifyAddress(absl::string_view(reinterpret_cast<char*>(bytes), 4));
  }
  if (inet_pton(AF_INET6, text, bytes) == 1) {
    return ClassifyAddress(absl::string_view(reinterpret_cast<char*>(bytes), 16));
  }
  return "unparsable";
}

TEST(ClassifyAddressTest, NamesEveryNonPublicKind) {
  const std::pair<const char*, const char*> cases[] = {
      {"93.184.216.34", "public"},
      {"8.8.8.8", "public"},
      {"0.0.0.0", "unspecified"},
      {"127.0.0.1", "loopback"},
      {"127.255.0.9", "loopback"},
      {"10.1.2.3", "private"},
      {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},
      {"172.32.0.1", "public"},
      {"192.168.1.1", "private"},
      {"169.254.169.254", "link-local"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"100.64.0.1", "reserved"},
      {"0.1.2.3", "reserved"},
      {"192.0.2.1", "reserved"},
      {"198.18.0.1", "reserved"},
      {"203.0.113.5", "reserved"},
      {"240.0.0.1", "reserved"},
      {"255.255.255.255", "reserved"},
      {"2606:4700::1111", "public"},
      {"::", "unspecified"},
      {"::1", "loopback"},
      {"fe80::1", "link-local"},
      {"fc00::1", "private"},
      {"fd12:3456::1", "private"},
      {"ff02::1", "multicast"},
      {"2001:db8::1", "reserved"},
      {"::ffff:127.0.0.1", "loopback"},
      {"::ffff:10.0.0.1", "private"},
      {"::ffff:169.254.169.254", "link-local"},
      {"::ffff:93.184.216.34", "public"},
      {"::127.0.0.1", "loopback"},
      {"64:ff9b::7f00:1", "loopback"},
      {"2002:7f00:1::", "reserved"},
      {"100::1", "reserved"},
  };
  for (const auto& [address, kind] : cases) EXPECT_EQ(Kind(address), kind) << address;
}

TEST(ParseWebhookUrlTest, TakesHttpAndHttpsUrls) {
  absl::StatusOr<WebhookUrl> url = ParseWebhookUrl("https://Hooks.Example.org/pgxn?x=1");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "hooks.example.org");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->target, "/pgxn?x=1");

  url = ParseWebhookUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/");

  url = ParseWebhookUrl("http://[2001:db8::1]:81/h");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "2001:db8::1");
  EXPECT_EQ(url->port, 81);
  EXPECT_EQ(url->target, "/h");

  url = ParseWebhookUrl("HTTP://example.org?q");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->target, "/?q");
}

TEST(ParseWebhookUrlTest, RefusesWhatIsNotAnHttpUrlSayingWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "Invalid webhook URL: empty"},
      {"ftp://example.org/", "Invalid webhook URL: scheme \"ftp\" is not http or https"},
      {"file:///etc/passwd", "Invalid webhook URL: scheme \"file\" is not http or https"},
      {"example.org/hook", "Invalid webhook URL: it needs http:// or https://"},
      {"http://user:pw@example.org/", "Invalid webhook URL: user information is not allowed"},
      {"http:///path", "Invalid webhook URL: no host"},
      {"http://example.org:0/", "Invalid webhook URL: port \"0\" is not 1-65535"},
      {"http://example.org:99999/", "Invalid webhook URL: port \"99999\" is not 1-65535"},
      {"http://example.org:/", "Invalid webhook URL: empty port"},
      {"http://exa mple.org/",
       "Invalid webhook URL: spaces, control characters and non-ASCII bytes must be "
       "percent-encoded"},
      {"http://example.org/#frag", "Invalid webhook URL: a fragment is not sent; remove it"},
      {"http://[::1/", "Invalid webhook URL: unclosed [ in the host"},
      {"http://ex_ample.org/",
       "Invalid webhook URL: host \"ex_ample.org\" has a character other than letters, digits, "
       "'-' and '.'"},
      {"http://a..b/", "Invalid webhook URL: host \"a..b\" has an empty label"},
  };
  for (const auto& [url, message] : cases) {
    absl::StatusOr<WebhookUrl> parsed = ParseWebhookUrl(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().message(), message) << url;
  }
  EXPECT_FALSE(ParseWebhookUrl(std::string("http://example.org/") + std::string(3000, 'a')).ok());
}

}  // namespace
}  // namespace pgxn::origin
