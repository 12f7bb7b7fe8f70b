#include "origin/webhooks/webhooks.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "origin/testing/test_postgres.h"
#include "origin/testing/test_releases.h"

namespace pgxn::origin {
namespace {

class WebhooksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new TestPostgres();
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    auto conn = pg_->Connect();
    for (const char* nick : {"alice", "bob"}) ASSERT_TRUE(AddTestUser(*conn, nick).ok());
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  static TestPostgres* pg_;
};
TestPostgres* WebhooksTest::pg_ = nullptr;

TEST_F(WebhooksTest, AnAccountReachesOnlyItsOwnHooksAndNeverTheirSecrets) {
  auto conn = pg_->Connect();
  feed::EventFilter filter;
  filter.kinds = {"release"};
  filter.tags = {"json"};
  absl::StatusOr<NewWebhook> created =
      CreateWebhook(*conn, "alice", "https://hooks.example.org/pgxn", filter, WebhookRules{});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(absl::StartsWith(created->secret, "whsec_"));
  EXPECT_TRUE(created->hook.enabled);

  absl::StatusOr<std::vector<Webhook>> alice = ListWebhooks(*conn, "alice");
  ASSERT_TRUE(alice.ok()) << alice.status();
  ASSERT_EQ(alice->size(), 1u);
  EXPECT_EQ((*alice)[0].url, "https://hooks.example.org/pgxn");
  EXPECT_EQ((*alice)[0].filter.kinds, std::vector<std::string>{"release"});
  EXPECT_EQ((*alice)[0].filter.tags, std::vector<std::string>{"json"});
  absl::StatusOr<std::vector<Webhook>> bob = ListWebhooks(*conn, "bob");
  ASSERT_TRUE(bob.ok());
  EXPECT_TRUE(bob->empty());

  const int64_t id = created->hook.id;
  EXPECT_TRUE(absl::IsNotFound(DeleteWebhook(*conn, "bob", id)));
  EXPECT_TRUE(absl::IsNotFound(EnableWebhook(*conn, "bob", id)));
  ASSERT_TRUE(
      RecordWebhookDelivery(
          *conn, id, WebhookDelivery{0, "msg_x", 3, "release.published", 1, 500, 1200, "HTTP 500"})
          .ok());
  alice = ListWebhooks(*conn, "alice");
  ASSERT_EQ((*alice)[0].deliveries.size(), 1u);
  EXPECT_EQ((*alice)[0].deliveries[0].status, 500);
  EXPECT_EQ((*alice)[0].deliveries[0].error, "HTTP 500");
  EXPECT_TRUE(DeleteWebhook(*conn, "alice", id).ok());
  EXPECT_TRUE(absl::IsNotFound(DeleteWebhook(*conn, "alice", id)));
}

TEST_F(WebhooksTest, RefusesBadUrlsPrivateLiteralsBadFiltersAndTooManyHooks) {
  auto conn = pg_->Connect();
  const WebhookRules rules{3, false};
  absl::StatusOr<NewWebhook> bad = CreateWebhook(*conn, "bob", "ftp://x.org/", {}, rules);
  EXPECT_EQ(bad.status().message(), "Invalid webhook URL: scheme \"ftp\" is not http or https");
  bad = CreateWebhook(*conn, "bob", "http://127.0.0.1:9/", {}, rules);
  EXPECT_EQ(bad.status().message(),
            "Invalid webhook URL: 127.0.0.1 is a loopback address; webhooks go to public "
            "addresses only");
  bad = CreateWebhook(*conn, "bob", "http://[::ffff:10.0.0.1]/", {}, rules);
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  EXPECT_TRUE(CreateWebhook(*conn, "bob", "http://127.0.0.1:9/", {}, WebhookRules{3, true}).ok());
  feed::EventFilter filter;
  filter.kinds = {"nonsense"};
  bad = CreateWebhook(*conn, "bob", "https://example.org/", filter, rules);
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  feed::EventFilter many;
  many.dists.assign(kMaxFilterValues + 1, "pair");
  bad = CreateWebhook(*conn, "bob", "https://example.org/", many, rules);
  EXPECT_EQ(bad.status().message(), "Too many values for one filter: at most 32");
  feed::EventFilter long_value;
  long_value.users = {std::string(kMaxFilterValueBytes + 1, 'a')};
  bad = CreateWebhook(*conn, "bob", "https://example.org/", long_value, rules);
  EXPECT_EQ(bad.status().message(), "A filter value is too long: at most 256 bytes");
  EXPECT_TRUE(CreateWebhook(*conn, "bob", "https://example.org/1", {}, rules).ok());
  EXPECT_TRUE(CreateWebhook(*conn, "bob", "https://example.org/2", {}, rules).ok());
  bad = CreateWebhook(*conn, "bob", "https://example.org/3", {}, rules);
  EXPECT_EQ(bad.status().message(),
            "Account \"bob\" has 3 webhooks, the most allowed; delete one first");
}

}  // namespace
}  // namespace pgxn::origin
