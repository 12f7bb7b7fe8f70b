#include "origin/webhooks/signature.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

// Expected values computed independently with Python's hmac, hashlib and
// base64 modules; the second is the example of the Standard Webhooks
// specification.
TEST(SignWebhookTest, MatchesIndependentlyComputedSignatures) {
  struct Case {
    const char* secret;
    const char* id;
    int64_t timestamp;
    const char* body;
    const char* expected;
  } cases[] = {
      {"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "msg_1_7", 1700000000,
       R"({"type":"release.published","seq":7})",
       "v1,9wGoaqBczdMJwhl/bHseqWoSzcOpu27pEJ0LRJHpWms="},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
       R"({"test": 2432232314})", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> signature = SignWebhook(c.secret, c.id, c.timestamp, c.body);
    ASSERT_TRUE(signature.ok()) << c.id << ": " << signature.status();
    EXPECT_EQ(*signature, c.expected) << c.id;
  }
}

TEST(SignWebhookTest, RefusesSecretsThatAreNotWhsecAndBase64) {
  for (const char* secret : {"", "whsec_", "AAECAwQF", "whsec_not base64!", "whsec_abc"}) {
    EXPECT_FALSE(SignWebhook(secret, "msg", 1, "{}").ok()) << secret;
  }
}

TEST(GenerateWebhookSecretTest, IsWhsecAnd32RandomBytes) {
  const std::string a = GenerateWebhookSecret();
  const std::string b = GenerateWebhookSecret();
  EXPECT_NE(a, b);
  ASSERT_TRUE(absl::StartsWith(a, "whsec_")) << a;
  absl::StatusOr<std::string> key = Base64Decode(a.substr(6));
  ASSERT_TRUE(key.ok()) << a;
  EXPECT_EQ(key->size(), 32u);
  EXPECT_TRUE(SignWebhook(a, "msg", 1, "{}").ok());
}

TEST(Base64Test, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    if (n > 0) {
      absl::StatusOr<std::string> back = Base64Decode(Base64Encode(bytes));
      ASSERT_TRUE(back.ok()) << n;
      EXPECT_EQ(*back, bytes) << n;
    }
    bytes.push_back(static_cast<char>(n * 37));
  }
}

}  // namespace
}  // namespace pgxn::origin
