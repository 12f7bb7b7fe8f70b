// The Feed over TLS between real nodes (issue 14): an origin started with
// --tls-cert/--tls-key (throwaway CAs made at test time) serves its feed and
// HTTP over TLS only; a mirror given `--upstream https://... --upstream-ca`
// follows it, and `pgxnd tail` reads it; a node that does not trust the
// certificate (another CA, the system's store) or speaks plaintext does not
// connect and says why; a TLS client never falls back to a plaintext feed;
// a relay serves its own feed over TLS to the nodes below;
// after the files are replaced and SIGHUP, new nodes need the new CA while a
// mirror connected before keeps following on its open stream. One origin for
// every case, in order: the last renews its certificate.
#include <signal.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/temp_dir.h"
#include "feed/test_tls.h"
#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace pgxn::testing {
namespace {

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "correct horse battery";

class FeedTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new base::TempDir();
    absl::StatusOr<feed::TestCredentials> ca = feed::MakeTestCa("Feed Test CA");
    absl::StatusOr<feed::TestCredentials> cert =
        ca.ok() ? feed::IssueTestServerCert(*ca, "origin") : ca.status();
    absl::StatusOr<feed::TestCredentials> other = feed::MakeTestCa("Some Other CA");
    if (!cert.ok() || !other.ok() ||
        !feed::WriteTestCredentials(*cert, CertFile(), KeyFile()).ok() ||
        !base::WriteFileAtomically(CaFile(), ca->cert_pem, 0644).ok() ||
        !base::WriteFileAtomically(OtherCaFile(), other->cert_pem, 0644).ok()) {
      std::fprintf(stderr, "cannot make the test certificates\n");
      return;
    }
    origin_ = Node::Start("origin", dir_->path() + "/origin",
                          {"--unsafe-no-fsync", "--tls-cert", CertFile(), "--tls-key", KeyFile()})
                  .release();
    if (origin_ == nullptr) return;
    if (!AddUser(origin_->dir(), kUser, kPassword)) return;
    ready_ = true;
  }
  static void TearDownTestSuite() {
    delete mirror_;
    delete origin_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(origin_, nullptr);
    ASSERT_TRUE(ready_) << "the origin could not be set up";
  }

  static std::string CertFile() { return dir_->path() + "/cert.pem"; }
  static std::string KeyFile() { return dir_->path() + "/key.pem"; }
  static std::string CaFile() { return dir_->path() + "/ca.pem"; }
  static std::string OtherCaFile() { return dir_->path() + "/other-ca.pem"; }

  static std::string GrpcPort() {
    const std::string grpc = origin_->grpc_address();
    return grpc.substr(grpc.rfind(':') + 1);
  }
  static std::string TlsUpstream() { return "https://127.0.0.1:" + GrpcPort(); }
  static std::string OriginHttps() {
    return absl::StrCat("https://127.0.0.1:", origin_->http_port());
  }

  // Publishes NAME 1.0.0 over HTTPS, trusting `ca_file`.
  static void Publish(const std::string& name, const std::string& ca_file) {
    const std::string zip =
        MakeDistZip(MakeMeta(name, "1.0.0", "A release over TLS"), {{"README.md", "TLS.\n"}});
    UploadResult upload = UploadWithCurl(OriginHttps(), kUser, kPassword, zip, name + "-1.0.0.zip",
                                         dir_->path(), {"--cacert", ca_file});
    ASSERT_EQ(upload.status, 200) << name << ": " << upload.body;
  }

  // True once `node` serves NAME's dist JSON.
  static bool WaitForRelease(const Node& node, const std::string& name) {
    return WaitUntil([&] { return node.Get("/dist/" + name + ".json").status == 200; });
  }

  // Waits until `node`'s /_status reports a last_error containing `text`
  // (the reason it does not connect), then checks it applied nothing.
  static void ExpectRefusedFor(const Node& node, const std::string& text) {
    std::string last_error;
    ASSERT_TRUE(WaitUntil([&] {
      last_error = node.Status().value("last_error", "");
      return absl::StrContains(last_error, text);
    })) << "last_error: "
        << last_error;
    EXPECT_EQ(node.AppliedSeq(), 0u) << last_error;
    EXPECT_FALSE(node.Status().value("connected", true));
    // The log says it too, naming the upstream.
    EXPECT_TRUE(absl::StrContains(node.Log(), text)) << node.Log();
  }

  static RunResult Tail(const std::vector<std::string>& flags, uint64_t since = 0) {
    std::vector<std::string> argv = {PgxndPath(), "tail", "--since", std::to_string(since)};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return RunProgram(argv);
  }

  static base::TempDir* dir_;
  static Node* origin_;
  static bool ready_;
  // The mirror that follows over TLS, kept for the renewal case.
  static Node* mirror_;
};

base::TempDir* FeedTlsTest::dir_ = nullptr;
Node* FeedTlsTest::origin_ = nullptr;
bool FeedTlsTest::ready_ = false;
Node* FeedTlsTest::mirror_ = nullptr;

TEST_F(FeedTlsTest, MirrorAndTailFollowATlsOriginTheyTrust) {
  ASSERT_NO_FATAL_FAILURE(Publish("before", CaFile()));
  mirror_ = Node::Start("mirror", dir_->path() + "/mirror",
                        {"--upstream", TlsUpstream(), "--upstream-ca", CaFile()})
                .release();
  ASSERT_NE(mirror_, nullptr);
  // The snapshot, then a release that comes down the open stream.
  ASSERT_TRUE(WaitForRelease(*mirror_, "before")) << mirror_->Log();
  ASSERT_NO_FATAL_FAILURE(Publish("after", CaFile()));
  ASSERT_TRUE(WaitForRelease(*mirror_, "after")) << mirror_->Log();
  const nlohmann::json status = mirror_->Status();
  EXPECT_EQ(status["upstream"], TlsUpstream());
  EXPECT_TRUE(status.value("connected", false)) << status;
  EXPECT_EQ(status.value("last_error", "?"), "") << status;

  RunResult tail = Tail({"--upstream", TlsUpstream(), "--upstream-ca", CaFile()});
  ASSERT_EQ(tail.exit_code, 0) << tail.output;
  EXPECT_TRUE(absl::StrContains(tail.output, "\"dist\":\"before\"")) << tail.output;
  EXPECT_TRUE(absl::StrContains(tail.output, "\"dist\":\"after\"")) << tail.output;
}

TEST_F(FeedTlsTest, NodesThatDoNotTrustTheCertificateDoNotConnectAndSayWhy) {
  auto wrong_ca = Node::Start("mirror", dir_->path() + "/wrong-ca",
                              {"--upstream", TlsUpstream(), "--upstream-ca", OtherCaFile()});
  ASSERT_NE(wrong_ca, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectRefusedFor(
      *wrong_ca,
      absl::StrCat("TLS upstream ", TlsUpstream(),
                   ": its certificate does not verify against --upstream-ca ", OtherCaFile())));

  auto system_store =
      Node::Start("mirror", dir_->path() + "/system-store", {"--upstream", TlsUpstream()});
  ASSERT_NE(system_store, nullptr);
  ASSERT_NO_FATAL_FAILURE(ExpectRefusedFor(
      *system_store,
      absl::StrCat("TLS upstream ", TlsUpstream(),
                   ": its certificate does not verify against the system's CA store")));

  RunResult tail = Tail({"--upstream", TlsUpstream(), "--upstream-ca", OtherCaFile()});
  EXPECT_NE(tail.exit_code, 0) << tail.output;
  EXPECT_TRUE(absl::StrContains(tail.output,
                                "its certificate does not verify against "
                                "--upstream-ca " +
                                    OtherCaFile()))
      << tail.output;
}

TEST_F(FeedTlsTest, PlaintextIsRefusedBothWays) {
  // A plaintext client to the TLS feed.
  auto plain =
      Node::Start("mirror", dir_->path() + "/plain", {"--upstream", origin_->grpc_address()});
  ASSERT_NE(plain, nullptr);
  std::string last_error;
  ASSERT_TRUE(WaitUntil([&] {
    last_error = plain->Status().value("last_error", "");
    return !last_error.empty();
  }));
  EXPECT_EQ(plain->AppliedSeq(), 0u) << last_error;
  RunResult tail = Tail({"--upstream", origin_->grpc_address()});
  EXPECT_NE(tail.exit_code, 0) << tail.output;
  EXPECT_FALSE(absl::StrContains(tail.output, "\"seq\"")) << tail.output;

  // A TLS client to a plaintext feed (the mirror's own, which has no
  // certificate) fails instead of carrying on in plaintext.
  ASSERT_NE(mirror_, nullptr) << "needs the mirror of the first case";
  RunResult tls_to_plain =
      Tail({"--upstream", "https://" + mirror_->grpc_address(), "--upstream-ca", CaFile()});
  EXPECT_NE(tls_to_plain.exit_code, 0) << tls_to_plain.output;
  EXPECT_TRUE(
      absl::StrContains(tls_to_plain.output, "TLS upstream https://" + mirror_->grpc_address()))
      << tls_to_plain.output;
  EXPECT_FALSE(absl::StrContains(tls_to_plain.output, "\"seq\"")) << tls_to_plain.output;
  // While in plaintext it answers (its log starts at the snapshot it took).
  RunResult plain_to_plain =
      Tail({"--upstream", mirror_->grpc_address()}, mirror_->AppliedSeq() - 1);
  EXPECT_EQ(plain_to_plain.exit_code, 0) << plain_to_plain.output;
  EXPECT_TRUE(absl::StrContains(plain_to_plain.output, "\"seq\"")) << plain_to_plain.output;
}

TEST_F(FeedTlsTest, UsageErrorsAreCaughtBeforeConnecting) {
  RunResult scheme = Tail({"--upstream", "http://127.0.0.1:" + GrpcPort()});
  EXPECT_EQ(scheme.exit_code, 2) << scheme.output;
  EXPECT_TRUE(absl::StrContains(scheme.output, "unsupported scheme \"http\"")) << scheme.output;
  // A CA for a plaintext upstream means TLS was wanted and would not be had.
  RunResult ca_without_tls =
      Tail({"--upstream", origin_->grpc_address(), "--upstream-ca", CaFile()});
  EXPECT_EQ(ca_without_tls.exit_code, 2) << ca_without_tls.output;
  RunResult mirror = RunProgram({PgxndPath(), "mirror", "--data-dir", dir_->path() + "/usage",
                                 "--upstream", origin_->grpc_address(), "--upstream-ca", CaFile()});
  EXPECT_EQ(mirror.exit_code, 2) << mirror.output;
  EXPECT_TRUE(absl::StrContains(
      mirror.output, "--upstream-ca is for https:// upstreams, and no --upstream is one"))
      << mirror.output;
  RunResult missing_ca =
      Tail({"--upstream", TlsUpstream(), "--upstream-ca", dir_->path() + "/nope"});
  EXPECT_NE(missing_ca.exit_code, 0) << missing_ca.output;
  EXPECT_TRUE(
      absl::StrContains(missing_ca.output, "Cannot read --upstream-ca " + dir_->path() + "/nope"))
      << missing_ca.output;
}

// A mirror that relays serves its own feed over TLS with its own certificate,
// as the origin does; an indexer below it follows it.
TEST_F(FeedTlsTest, ARelayServesItsFeedOverTlsToo) {
  absl::StatusOr<feed::TestCredentials> ca = feed::MakeTestCa("Relay CA");
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<feed::TestCredentials> cert = feed::IssueTestServerCert(*ca, "relay");
  ASSERT_TRUE(cert.ok()) << cert.status();
  const std::string relay_ca = dir_->path() + "/relay-ca.pem";
  ASSERT_TRUE(base::WriteFileAtomically(relay_ca, ca->cert_pem, 0644).ok());
  const std::string relay_cert = dir_->path() + "/relay-cert.pem";
  const std::string relay_key = dir_->path() + "/relay-key.pem";
  ASSERT_TRUE(feed::WriteTestCredentials(*cert, relay_cert, relay_key).ok());
  auto relay = Node::Start("mirror", dir_->path() + "/relay",
                           {"--upstream", TlsUpstream(), "--upstream-ca", CaFile(), "--tls-cert",
                            relay_cert, "--tls-key", relay_key});
  ASSERT_NE(relay, nullptr);
  const std::string relay_upstream = "https://" + relay->grpc_address();
  // The relay's HTTP is HTTPS now; the indexer below shows what it relays.
  auto indexer = Node::Start("indexer", dir_->path() + "/below-relay",
                             {"--upstream", relay_upstream, "--upstream-ca", relay_ca});
  ASSERT_NE(indexer, nullptr);
  ASSERT_TRUE(WaitForRelease(*indexer, "after")) << indexer->Log() << relay->Log();

  // The relay's feed is TLS only, on its own certificate.
  RunResult plain = Tail({"--upstream", relay->grpc_address()}, indexer->AppliedSeq() - 1);
  EXPECT_NE(plain.exit_code, 0) << plain.output;
  RunResult origin_ca = Tail({"--upstream", relay_upstream, "--upstream-ca", CaFile()});
  EXPECT_NE(origin_ca.exit_code, 0) << origin_ca.output;
  EXPECT_TRUE(
      absl::StrContains(origin_ca.output, "does not verify against --upstream-ca " + CaFile()))
      << origin_ca.output;
}

// Without --upstream-ca the roots are gRPC's defaults: the system's CA store
// (which a throwaway CA is not in, as the second case shows), unless
// $GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names another file, which is how this
// case shows that the defaults are what verifies.
TEST_F(FeedTlsTest, WithoutUpstreamCaTheDefaultRootsVerify) {
  ASSERT_EQ(setenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", CaFile().c_str(), 1), 0);
  RunResult tail = Tail({"--upstream", TlsUpstream()});
  unsetenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH");
  EXPECT_EQ(tail.exit_code, 0) << tail.output;
  EXPECT_TRUE(absl::StrContains(tail.output, "\"dist\":\"before\"")) << tail.output;
}

// Last: it replaces the origin's certificate.
TEST_F(FeedTlsTest, SighupRenewsTheCertificateForNewConnections) {
  ASSERT_NE(mirror_, nullptr) << "needs the mirror of the first case";
  absl::StatusOr<feed::TestCredentials> ca = feed::MakeTestCa("Renewed CA");
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<feed::TestCredentials> cert = feed::IssueTestServerCert(*ca, "origin renewed");
  ASSERT_TRUE(cert.ok()) << cert.status();
  const std::string renewed_ca = dir_->path() + "/renewed-ca.pem";
  ASSERT_TRUE(base::WriteFileAtomically(renewed_ca, ca->cert_pem, 0644).ok());
  ASSERT_TRUE(feed::WriteTestCredentials(*cert, CertFile(), KeyFile()).ok());

  const size_t log_before = origin_->Log().size();
  ASSERT_EQ(kill(origin_->pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitUntil([&] {
    return absl::StrContains(origin_->Log().substr(log_before), "TLS certificate reloaded");
  })) << origin_->Log().substr(log_before);

  auto renewed = Node::Start("mirror", dir_->path() + "/renewed",
                             {"--upstream", TlsUpstream(), "--upstream-ca", renewed_ca});
  ASSERT_NE(renewed, nullptr);
  ASSERT_TRUE(WaitForRelease(*renewed, "after")) << renewed->Log();

  // New connections no longer get the old certificate.
  RunResult old_ca = Tail({"--upstream", TlsUpstream(), "--upstream-ca", CaFile()});
  EXPECT_NE(old_ca.exit_code, 0) << old_ca.output;
  EXPECT_TRUE(absl::StrContains(old_ca.output, "does not verify against --upstream-ca " + CaFile()))
      << old_ca.output;

  // HTTPS took the new certificate too, and the mirror connected before the
  // renewal still follows on its open stream.
  ASSERT_NO_FATAL_FAILURE(Publish("renewed", renewed_ca));
  ASSERT_TRUE(WaitForRelease(*renewed, "renewed")) << renewed->Log();
  ASSERT_TRUE(WaitForRelease(*mirror_, "renewed")) << mirror_->Log();
  delete mirror_;
  mirror_ = nullptr;
}

}  // namespace
}  // namespace pgxn::testing
