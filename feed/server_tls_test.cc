// The Feed served over TLS (feed/server_tls.h) to the Feed's own client
// (FetchHead, feed/upstream_target.h), over real gRPC on a loopback port with
// throwaway certificates: verification against the right and the wrong
// roots and of the name, plaintext refused both ways, TLS 1.2 as the floor,
// and a reload that new connections see while an open stream carries on.
#include "feed/server_tls.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/files.h"
#include "base/temp_dir.h"
#include "feed/feed_client.h"
#include "feed/feed_service.h"
#include "feed/test_events.h"
#include "feed/test_tls.h"
#include "gtest/gtest.h"
#include "pgxn/feed/v1/feed.grpc.pb.h"

namespace pgxn::feed {
namespace {

// A log with no events whose origin heartbeats, which is all a TLS test needs
// the Feed to say.
class EmptyLog final : public EventLog {
 public:
  absl::StatusOr<ChainTip> Head() const override {
    ChainTip tip;
    tip.hash = GenesisHash();
    return tip;
  }
  absl::StatusOr<std::vector<v1::Event>> ReadAfter(uint64_t, size_t, size_t, bool) const override {
    return std::vector<v1::Event>();
  }
  uint64_t WaitForHeadAbove(uint64_t, absl::Time deadline) const override {
    // Nothing ever arrives; the ticker just waits out its tick.
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(&never_), deadline);
    return 0;
  }
  std::string OriginKey() const override { return TestChain::Key().public_key; }
  absl::optional<v1::Heartbeat> OriginHeartbeat() const override {
    return TestChain().Heartbeat(absl::ToUnixMicros(absl::Now()));
  }
  uint64_t LogStart() const override { return 0; }
  absl::StatusOr<std::unique_ptr<SnapshotReader>> OpenSnapshot() const override {
    return absl::FailedPreconditionError("empty");
  }

 private:
  mutable absl::Mutex mu_;
  bool never_ = false;
};

class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCredentials> ca = MakeTestCa("First CA");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = *ca;
    ASSERT_NO_FATAL_FAILURE(Issue(ca_, "feed one"));
    ca_file_ = dir_.path() + "/ca.pem";
    ASSERT_TRUE(base::WriteFileAtomically(ca_file_, ca_.cert_pem, 0644).ok());
  }

  // Writes a server certificate from `ca` to the files the server reads.
  void Issue(const TestCredentials& ca, const std::string& name) {
    absl::StatusOr<TestCredentials> cert = IssueTestServerCert(ca, name);
    ASSERT_TRUE(cert.ok()) << cert.status();
    ASSERT_TRUE(WriteTestCredentials(*cert, cert_file(), key_file()).ok());
  }

  void StartServer() {
    GrpcServerOptions server;
    server.tls_cert_file = cert_file();
    server.tls_key_file = key_file();
    FeedServiceOptions feed;
    feed.role = "origin";
    feed.heartbeat_interval = absl::Milliseconds(50);
    absl::StatusOr<std::unique_ptr<FeedServer>> started = FeedServer::Start(server, feed, &log_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
  }

  UpstreamTrust Trust(const std::string& pem) {
    const std::string file = dir_.path() + "/trust" + std::to_string(++trust_files_) + ".pem";
    EXPECT_TRUE(base::WriteFileAtomically(file, pem, 0644).ok());
    absl::StatusOr<UpstreamTrust> trust = LoadUpstreamTrust(file);
    EXPECT_TRUE(trust.ok()) << trust.status();
    return trust.ok() ? *trust : UpstreamTrust();
  }

  std::string cert_file() const { return dir_.path() + "/cert.pem"; }
  std::string key_file() const { return dir_.path() + "/key.pem"; }
  std::string tls_upstream() const { return absl::StrCat("https://127.0.0.1:", server_->port()); }
  std::string plain_upstream() const { return absl::StrCat("127.0.0.1:", server_->port()); }

  absl::StatusOr<v1::Head> Head(const std::string& upstream, const UpstreamTrust& trust) {
    return FetchHead(upstream, absl::Seconds(30), trust);
  }

  base::TempDir dir_;
  TestCredentials ca_;
  std::string ca_file_;
  int trust_files_ = 0;
  EmptyLog log_;
  std::unique_ptr<FeedServer> server_;
};

TEST_F(ServerTlsTest, ServesClientsThatTrustItsCa) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::StatusOr<v1::Head> head = Head(tls_upstream(), Trust(ca_.cert_pem));
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->role(), "origin");
  EXPECT_EQ(head->origin_key(), TestChain::Key().public_key);
}

TEST_F(ServerTlsTest, RefusesClientsThatDoNotTrustItsCaAndSaysWhy) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::StatusOr<TestCredentials> other = MakeTestCa("Other CA");
  ASSERT_TRUE(other.ok()) << other.status();
  const UpstreamTrust wrong = Trust(other->cert_pem);
  absl::StatusOr<v1::Head> head = Head(tls_upstream(), wrong);
  ASSERT_FALSE(head.ok());
  EXPECT_TRUE(absl::IsUnavailable(head.status())) << head.status();
  EXPECT_TRUE(absl::StartsWith(head.status().message(),
                               absl::StrCat("TLS upstream ", tls_upstream(),
                                            ": its certificate does not verify against "
                                            "--upstream-ca ",
                                            wrong.ca_file)))
      << head.status();

  // The system's store does not hold a CA made a moment ago either.
  head = Head(tls_upstream(), UpstreamTrust());
  ASSERT_FALSE(head.ok());
  EXPECT_TRUE(absl::StrContains(head.status().message(),
                                "its certificate does not verify against the system's CA store"))
      << head.status();
}

TEST_F(ServerTlsTest, RefusesACertificateForAnotherNameAndSaysWhy) {
  absl::StatusOr<TestCredentials> elsewhere =
      IssueTestServerCert(ca_, "elsewhere", "DNS:feed.example.org");
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  ASSERT_TRUE(WriteTestCredentials(*elsewhere, cert_file(), key_file()).ok());
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::StatusOr<v1::Head> head = Head(tls_upstream(), Trust(ca_.cert_pem));
  ASSERT_FALSE(head.ok()) << "a certificate for feed.example.org passed for 127.0.0.1";
  EXPECT_TRUE(absl::StartsWith(
      head.status().message(),
      absl::StrCat("TLS upstream ", tls_upstream(), ": its certificate does not name 127.0.0.1")))
      << head.status();
}

TEST_F(ServerTlsTest, NeitherEndFallsBackToPlaintext) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  absl::StatusOr<v1::Head> head = Head(plain_upstream(), UpstreamTrust());
  ASSERT_FALSE(head.ok()) << "a plaintext client got an answer from a TLS feed";
  EXPECT_TRUE(absl::IsUnavailable(head.status())) << head.status();

  // A TLS client to a plaintext feed.
  GrpcServerOptions plain_options;
  FeedServiceOptions feed;
  absl::StatusOr<std::unique_ptr<FeedServer>> plain = FeedServer::Start(plain_options, feed, &log_);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(Head(absl::StrCat("127.0.0.1:", (*plain)->port()), UpstreamTrust()).ok());
  head = Head(absl::StrCat("https://127.0.0.1:", (*plain)->port()), Trust(ca_.cert_pem));
  ASSERT_FALSE(head.ok()) << "a TLS client got an answer from a plaintext feed";
  EXPECT_TRUE(absl::StartsWith(head.status().message(), "TLS upstream https://127.0.0.1:"))
      << head.status();
}

// A raw OpenSSL handshake with the server, its version capped at `max_version`;
// true if it completed.
bool Handshakes(int port, int max_version) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  // Allow the old versions on this side, so only the server can refuse them.
  SSL_CTX_set_security_level(context, 0);
  SSL_CTX_set_min_proto_version(context, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(context, max_version);
  SSL_CTX_set_alpn_protos(context, reinterpret_cast<const unsigned char*>("\x02h2"), 3);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  bool done = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, fd);
    done = SSL_connect(ssl) == 1;
    SSL_free(ssl);
  }
  close(fd);
  SSL_CTX_free(context);
  return done;
}

TEST_F(ServerTlsTest, SpeaksTls12AndLaterOnly) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_TRUE(Handshakes(server_->port(), TLS1_2_VERSION));
  EXPECT_TRUE(Handshakes(server_->port(), TLS1_3_VERSION));
  EXPECT_FALSE(Handshakes(server_->port(), TLS1_1_VERSION));
  EXPECT_FALSE(Handshakes(server_->port(), TLS1_VERSION));
}

TEST_F(ServerTlsTest, ReloadServesTheNewCertificateToNewConnectionsOnly) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const UpstreamTrust first = Trust(ca_.cert_pem);

  // A stream open before the renewal.
  grpc::ChannelArguments args;
  auto open_channel = grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", server_->port()),
      ChannelCredentialsFor(UpstreamTarget{"127.0.0.1", true}, first), args);
  auto stub = v1::Feed::NewStub(open_channel);
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  std::unique_ptr<grpc::ClientReader<v1::FeedMessage>> reader = stub->Subscribe(&context, request);
  v1::FeedMessage message;
  ASSERT_TRUE(reader->Read(&message));
  ASSERT_TRUE(message.has_heartbeat());

  absl::StatusOr<TestCredentials> second_ca = MakeTestCa("Second CA");
  ASSERT_TRUE(second_ca.ok()) << second_ca.status();
  ASSERT_NO_FATAL_FAILURE(Issue(*second_ca, "feed two"));
  // Until the reload, the old certificate is served.
  ASSERT_TRUE(Head(tls_upstream(), first).ok());
  ASSERT_TRUE(server_->ReloadTls().ok());

  const UpstreamTrust second = Trust(second_ca->cert_pem);
  absl::StatusOr<v1::Head> head = Head(tls_upstream(), second);
  EXPECT_TRUE(head.ok()) << head.status();
  head = Head(tls_upstream(), first);
  EXPECT_FALSE(head.ok()) << "the old certificate is still served to new connections";

  // The stream opened before goes on over its connection: more heartbeats.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader->Read(&message)) << "the open stream ended at the reload";
    EXPECT_TRUE(message.has_heartbeat());
  }
  context.TryCancel();
  reader->Finish();
}

TEST_F(ServerTlsTest, AFailedReloadKeepsTheCertificateInUse) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_TRUE(base::WriteFileAtomically(key_file(), "not a key", 0600).ok());
  absl::Status reloaded = server_->ReloadTls();
  EXPECT_TRUE(absl::IsInvalidArgument(reloaded)) << reloaded;
  EXPECT_TRUE(absl::StartsWith(reloaded.message(), "Cannot load the TLS private key " + key_file()))
      << reloaded;
  EXPECT_EQ(reloaded.message().find("not a key"), absl::string_view::npos) << reloaded;

  // A key from another certificate does not match.
  absl::StatusOr<TestCredentials> stray = IssueTestServerCert(ca_, "stray");
  ASSERT_TRUE(stray.ok()) << stray.status();
  ASSERT_TRUE(base::WriteFileAtomically(key_file(), stray->key_pem, 0600).ok());
  reloaded = server_->ReloadTls();
  EXPECT_EQ(reloaded.message(), absl::StrCat("The TLS private key ", key_file(),
                                             " does not match the certificate ", cert_file()));

  absl::StatusOr<v1::Head> head = Head(tls_upstream(), Trust(ca_.cert_pem));
  EXPECT_TRUE(head.ok()) << head.status();
}

TEST_F(ServerTlsTest, RefusesToStartWithoutUsableFiles) {
  GrpcServerOptions server;
  server.tls_cert_file = cert_file();
  FeedServiceOptions feed;
  absl::StatusOr<std::unique_ptr<FeedServer>> started = FeedServer::Start(server, feed, &log_);
  EXPECT_TRUE(absl::IsInvalidArgument(started.status())) << started.status();

  server.tls_key_file = dir_.path() + "/missing-key.pem";
  started = FeedServer::Start(server, feed, &log_);
  EXPECT_TRUE(absl::IsNotFound(started.status())) << started.status();
  EXPECT_TRUE(absl::StrContains(started.status().message(), "missing-key.pem")) << started.status();
}

}  // namespace
}  // namespace pgxn::feed
