#include "feed/upstream_target.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/temp_dir.h"
#include "feed/test_tls.h"
#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

TEST(UpstreamTargetTest, ParsesPlaintextAndTlsTargets) {
  const struct {
    std::string input;
    std::string address;
    bool tls;
  } cases[] = {
      {"127.0.0.1:7001", "127.0.0.1:7001", false},
      {"mirror.example.org:7101", "mirror.example.org:7101", false},
      {"[::1]:7001", "[::1]:7001", false},
      {"https://feed.example.org:7001", "feed.example.org:7001", true},
      {"https://feed.example.org", "feed.example.org:443", true},
      {"https://feed.example.org/", "feed.example.org:443", true},
      {"HTTPS://feed.example.org:8443", "feed.example.org:8443", true},
      {"https://127.0.0.1:7001", "127.0.0.1:7001", true},
      {"https://[::1]:7001", "[::1]:7001", true},
      {"https://[::1]", "[::1]:443", true},
  };
  for (const auto& c : cases) {
    absl::StatusOr<UpstreamTarget> target = ParseUpstream(c.input);
    ASSERT_TRUE(target.ok()) << c.input << ": " << target.status();
    EXPECT_EQ(target->address, c.address) << c.input;
    EXPECT_EQ(target->tls, c.tls) << c.input;
  }
}

TEST(UpstreamTargetTest, RefusesWhatIsNotAFeedTarget) {
  const struct {
    std::string input;
    std::string why;
  } cases[] = {
      {"http://feed.example.org:7001",
       "unsupported scheme \"http\"; use HOST:PORT for plaintext "
       "or https://HOST[:PORT] for TLS"},
      {"grpc://feed.example.org:7001", "unsupported scheme \"grpc\""},
      {"tls://feed.example.org:7001", "unsupported scheme \"tls\""},
      {"https://feed.example.org:7001/feed", "the Feed takes no path, query or fragment"},
      {"https://feed.example.org?x=1", "the Feed takes no path, query or fragment"},
      {"https://user:pw@feed.example.org:7001", "the Feed takes no user information"},
      {"https://", "no host"},
      {"https://feed.example.org:0", "port 0 is not a port one can connect to"},
      {"https://feed.example.org:https", "the port must be a number"},
      {"feed.example.org", "no port"},
      {"feed.example.org:0", "port 0 is not a port one can connect to"},
      {"", "no port"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<UpstreamTarget> target = ParseUpstream(c.input);
    ASSERT_FALSE(target.ok()) << c.input << " parsed as " << target->address;
    EXPECT_TRUE(absl::IsInvalidArgument(target.status())) << c.input;
    const std::string message(target.status().message());
    EXPECT_NE(message.find(absl::StrCat("\"", c.input, "\"")), std::string::npos)
        << c.input << ": " << message;
    EXPECT_NE(message.find(c.why), std::string::npos) << c.input << ": " << message;
  }
}

TEST(UpstreamTargetTest, LoadsTrustFromAPemFileOrTheSystemStore) {
  absl::StatusOr<UpstreamTrust> system = LoadUpstreamTrust("");
  ASSERT_TRUE(system.ok()) << system.status();
  EXPECT_TRUE(system->ca_pem.empty());
  EXPECT_EQ(DescribeTrust(*system), "the system's CA store");

  base::TempDir dir;
  absl::StatusOr<TestCredentials> ca = MakeTestCa("Test CA");
  ASSERT_TRUE(ca.ok()) << ca.status();
  const std::string ca_file = dir.path() + "/ca.pem";
  ASSERT_TRUE(base::WriteFileAtomically(ca_file, ca->cert_pem, 0644).ok());
  absl::StatusOr<UpstreamTrust> trust = LoadUpstreamTrust(ca_file);
  ASSERT_TRUE(trust.ok()) << trust.status();
  EXPECT_EQ(trust->ca_pem, ca->cert_pem);
  EXPECT_EQ(DescribeTrust(*trust), "--upstream-ca " + ca_file);

  const std::string missing = dir.path() + "/missing.pem";
  EXPECT_TRUE(absl::IsNotFound(LoadUpstreamTrust(missing).status()));
  const std::string junk = dir.path() + "/junk.pem";
  ASSERT_TRUE(base::WriteFileAtomically(junk, "not a certificate\n", 0644).ok());
  EXPECT_EQ(LoadUpstreamTrust(junk).status().message(),
            "--upstream-ca " + junk + " holds no PEM certificate");
  const std::string broken = dir.path() + "/broken.pem";
  ASSERT_TRUE(base::WriteFileAtomically(
                  broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0644)
                  .ok());
  EXPECT_EQ(LoadUpstreamTrust(broken).status().message(),
            "--upstream-ca " + broken + " holds a PEM certificate that does not parse");
}

TEST(UpstreamTargetTest, ExplainsTlsFailuresOfTlsUpstreamsOnly) {
  const UpstreamTarget tls{"feed.example.org:7001", true};
  const UpstreamTarget plain{"feed.example.org:7001", false};
  const UpstreamTrust trust{"/etc/ca.pem", "PEM"};
  const absl::Status verify = absl::UnavailableError(
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:7001: Ssl "
      "handshake failed: SSL_ERROR_SSL: error:0A000086:SSL routines::certificate verify failed");
  EXPECT_EQ(ExplainTlsFailure(verify, tls, trust).message(),
            absl::StrCat("TLS upstream https://feed.example.org:7001: its certificate does not "
                         "verify against --upstream-ca /etc/ca.pem (",
                         verify.message(), ")"));
  EXPECT_EQ(ExplainTlsFailure(verify, tls, trust).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ExplainTlsFailure(verify, plain, trust), verify);
  const absl::Status name = absl::UnavailableError(
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:7001: Peer name "
      "feed.example.org is not in peer certificate");
  EXPECT_EQ(ExplainTlsFailure(name, tls, trust).message(),
            absl::StrCat("TLS upstream https://feed.example.org:7001: its certificate does not "
                         "name feed.example.org (",
                         name.message(), ")"));
  const absl::Status plain_feed = absl::UnavailableError(
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:7001: Ssl "
      "handshake failed: SSL_ERROR_SSL: error:0A00010B:SSL routines::wrong version number");
  EXPECT_TRUE(absl::StrContains(ExplainTlsFailure(plain_feed, tls, trust).message(),
                                ": it does not speak TLS (a plaintext feed? then drop https://)"));
  const absl::Status refused = absl::UnavailableError("failed to connect to all addresses");
  EXPECT_EQ(ExplainTlsFailure(refused, tls, trust), refused);
  EXPECT_TRUE(ExplainTlsFailure(absl::OkStatus(), tls, trust).ok());
}

}  // namespace
}  // namespace pgxn::feed
