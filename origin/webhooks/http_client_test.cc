#include "origin/webhooks/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/temp_dir.h"
#include "feed/test_tls.h"
#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

// A one-connection-at-a-time HTTP server on 127.0.0.1:0 that reads a
// request (headers and a Content-Length body) and gives `answer` to it.
class RawServer {
 public:
  explicit RawServer(std::function<void(int fd, const std::string& request)> answer)
      : answer_(std::move(answer)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 8);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string last_request() const { return last_; }

 private:
  void Serve() {
    while (!stop_) {
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string request;
      char buf[4096];
      while (true) {
        const size_t end = request.find("\r\n\r\n");
        if (end != std::string::npos) {
          const size_t cl = request.find("Content-Length: ");
          const size_t want = cl == std::string::npos ? 0 : std::stoul(request.substr(cl + 16));
          if (request.size() >= end + 4 + want) break;
        }
        const ssize_t n = read(client, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, n);
      }
      last_ = request;
      answer_(client, request);
      close(client);
    }
  }

  std::function<void(int, const std::string&)> answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::string last_;
  std::thread thread_;
};

// An HTTPS server for one request at a time, on 127.0.0.1:0, answering 200
// with the certificate it is given.
class TlsServer {
 public:
  explicit TlsServer(const feed::TestCredentials& credentials) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    BIO* cert =
        BIO_new_mem_buf(credentials.cert_pem.data(), static_cast<int>(credentials.cert_pem.size()));
    X509* x509 = PEM_read_bio_X509(cert, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(ctx_, x509);
    X509_free(x509);
    BIO_free(cert);
    BIO* key =
        BIO_new_mem_buf(credentials.key_pem.data(), static_cast<int>(credentials.key_pem.size()));
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
    SSL_CTX_use_PrivateKey(ctx_, pkey);
    EVP_PKEY_free(pkey);
    BIO_free(key);
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 8);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (true) {
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, client);
      if (SSL_accept(ssl) == 1) {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n{}") == std::string::npos) {
          const int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          request.append(buf, n);
        }
        const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      close(client);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

void Send(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t n = write(fd, text.data() + sent, text.size() - sent);
    if (n <= 0) return;
    sent += n;
  }
}

WebhookUrl Local(int port, const std::string& target = "/hook") {
  return WebhookUrl{false, "127.0.0.1", static_cast<uint16_t>(port), target};
}

WebhookClientOptions AllowPrivate(absl::Duration timeout = absl::Seconds(10)) {
  WebhookClientOptions options;
  options.allow_private = true;
  options.timeout = timeout;
  return options;
}

TEST(WebhookClientTest, PostsTheBodyAndHeadersAndReadsTheStatus) {
  RawServer server([](int fd, const std::string&) {
    Send(fd, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  });
  WebhookClient client(AllowPrivate());
  absl::StatusOr<WebhookResponse> response =
      client.Post(Local(server.port()), {{"webhook-id", "msg_1"}}, R"({"seq":1})");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 204);
  const std::string request = server.last_request();
  EXPECT_TRUE(absl::StartsWith(request, "POST /hook HTTP/1.1\r\n")) << request;
  EXPECT_TRUE(absl::StrContains(request, "webhook-id: msg_1\r\n")) << request;
  EXPECT_TRUE(absl::StrContains(request, "Content-Type: application/json\r\n")) << request;
  EXPECT_TRUE(absl::EndsWith(request, "\r\n\r\n{\"seq\":1}")) << request;
}

TEST(WebhookClientTest, ReadsAtMost4KiBOfTheAnswer) {
  RawServer server([](int fd, const std::string&) {
    const std::string body(1 << 20, 'x');
    Send(fd, absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", body.size(), "\r\n\r\n", body));
  });
  WebhookClient client(AllowPrivate());
  absl::StatusOr<WebhookResponse> response = client.Post(Local(server.port()), {}, "{}");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_LE(response->body.size(), WebhookClient::kMaxResponseBodyBytes);
}

TEST(WebhookClientTest, DoesNotFollowRedirects) {
  std::atomic<int> requests{0};
  RawServer server([&](int fd, const std::string&) {
    ++requests;
    Send(fd,
         "HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\n"
         "Content-Length: 0\r\n\r\n");
  });
  WebhookClient client(AllowPrivate());
  absl::StatusOr<WebhookResponse> response = client.Post(Local(server.port()), {}, "{}");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 307);
  EXPECT_EQ(response->location, "/elsewhere");
  EXPECT_EQ(requests.load(), 1);
}

TEST(WebhookClientTest, GivesUpOnAReceiverThatDoesNotAnswerInTime) {
  absl::Notification release;
  RawServer server([&](int, const std::string&) { release.WaitForNotification(); });
  WebhookClient client(AllowPrivate(absl::Milliseconds(200)));
  absl::StatusOr<WebhookResponse> response = client.Post(Local(server.port()), {}, "{}");
  release.Notify();
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
}

TEST(WebhookClientTest, ConnectsToTheAddressTheResolverGives) {
  RawServer server(
      [](int fd, const std::string&) { Send(fd, "HTTP/1.1 204 No Content\r\n\r\n"); });
  WebhookClientOptions options = AllowPrivate();
  options.resolve = [](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
    if (host != "hooks.example") return absl::NotFoundError("unknown");
    return std::vector<std::string>{"not an address", "127.0.0.1"};
  };
  WebhookClient client(options);
  WebhookUrl url = Local(server.port());
  url.host = "hooks.example";
  absl::StatusOr<WebhookResponse> response = client.Post(url, {}, "{}");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 204);
  EXPECT_TRUE(absl::StrContains(server.last_request(), "Host: hooks.example:"));
}

// getaddrinfo cannot be interrupted: a resolver that never answers must not
// hold a delivery past its timeout, nor pile up threads without bound.
TEST(WebhookClientTest, AResolverThatHangsCostsATimeoutAndBoundedThreads) {
  // Shared with the lookup threads, which outlive the deliveries (and may
  // outlive this test by a moment).
  struct Resolver {
    absl::Notification release;
    std::atomic<int> waiting{0};
  };
  auto resolver = std::make_shared<Resolver>();
  Resolver& shared = *resolver;
  WebhookClientOptions options = AllowPrivate(absl::Milliseconds(100));
  options.connect_timeout = absl::Milliseconds(100);
  options.resolve = [resolver](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
    ++resolver->waiting;
    resolver->release.WaitForNotification();
    --resolver->waiting;
    return absl::UnavailableError("released");
  };
  WebhookClient client(options);
  WebhookUrl url = Local(1);
  url.host = "hangs.example";
  // Whatever fails below, the lookups end, so later tests find none in flight.
  absl::Cleanup released = [resolver] {
    if (!resolver->release.HasBeenNotified()) resolver->release.Notify();
    while (WebhookClient::LookupsInFlight() > 0) absl::SleepFor(absl::Milliseconds(1));
  };
  for (int i = 0; i < WebhookClient::kMaxLookups; ++i) {
    absl::StatusOr<WebhookResponse> response = client.Post(url, {}, "{}");
    ASSERT_FALSE(response.ok());
    EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
    EXPECT_TRUE(absl::StrContains(response.status().message(), "resolving"))
        << response.status();
  }
  // Every lookup is still stuck: the next delivery fails at once.
  absl::StatusOr<WebhookResponse> refused = client.Post(url, {}, "{}");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "name lookups")) << refused.status();
  EXPECT_LE(shared.waiting.load(), WebhookClient::kMaxLookups);
  // Once the resolver answers, its threads end and lookups are possible again.
  shared.release.Notify();
  while (WebhookClient::LookupsInFlight() > 0) absl::SleepFor(absl::Milliseconds(1));
  options.timeout = absl::Seconds(30);  // an answer now comes at once
  options.connect_timeout = absl::Seconds(30);
  WebhookClient patient(options);
  absl::StatusOr<WebhookResponse> again = patient.Post(url, {}, "{}");
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(absl::StrContains(again.status().message(), "released")) << again.status();
}

TEST(WebhookClientTest, RefusesLoopbackUnlessPrivateAddressesAreAllowed) {
  RawServer server(
      [](int fd, const std::string&) { Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"); });
  WebhookClient client{WebhookClientOptions{}};
  WebhookUrl url = Local(server.port());
  url.host = "localhost";
  absl::StatusOr<WebhookResponse> response = client.Post(url, {}, "{}");
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(response.status())) << response.status();
  // A name's owner is not told what the origin's resolver maps it to (that
  // would map the operator's network); the log says it.
  EXPECT_EQ(response.status().message(),
            "localhost has no public address: webhooks go to public addresses only");
  EXPECT_TRUE(server.last_request().empty());

  // An address literal is the owner's own: the message names its kind.
  url.host = "127.0.0.1";
  response = client.Post(url, {}, "{}");
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(absl::StrContains(response.status().message(), "a loopback address"))
      << response.status();
  EXPECT_TRUE(server.last_request().empty());
}

TEST(WebhookClientTest, SpeaksHttpsVerifyingTheCertificateAndItsName) {
  absl::StatusOr<feed::TestCredentials> ca = feed::MakeTestCa("webhook test CA");
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<feed::TestCredentials> good = feed::IssueTestServerCert(*ca, "localhost");
  absl::StatusOr<feed::TestCredentials> other =
      feed::IssueTestServerCert(*ca, "example.org", "DNS:example.org");
  ASSERT_TRUE(good.ok() && other.ok());
  base::TempDir dir;
  ASSERT_TRUE(feed::WriteTestCredentials(*ca, dir.path() + "/ca.pem", dir.path() + "/ca.key").ok());

  WebhookClientOptions trusting = AllowPrivate();
  trusting.ca_file = dir.path() + "/ca.pem";
  {
    TlsServer server(*good);
    WebhookUrl url{true, "localhost", static_cast<uint16_t>(server.port()), "/hook"};
    absl::StatusOr<WebhookResponse> response = WebhookClient(trusting).Post(url, {}, "{}");
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "ok");
    // Without the test CA (the system's store only) the certificate is not trusted.
    response = WebhookClient(AllowPrivate()).Post(url, {}, "{}");
    ASSERT_FALSE(response.ok());
    EXPECT_TRUE(absl::StrContains(response.status().message(), "TLS with localhost failed"))
        << response.status();
  }
  {
    // A trusted certificate for another name is refused too.
    TlsServer server(*other);
    WebhookUrl url{true, "localhost", static_cast<uint16_t>(server.port()), "/hook"};
    absl::StatusOr<WebhookResponse> response = WebhookClient(trusting).Post(url, {}, "{}");
    ASSERT_FALSE(response.ok());
    EXPECT_TRUE(absl::StrContains(response.status().message(), "TLS with localhost failed"))
        << response.status();
  }
}

TEST(WebhookClientTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    RawServer server([](int, const std::string&) {});
    port = server.port();
  }
  WebhookClient client(AllowPrivate());
  absl::StatusOr<WebhookResponse> response = client.Post(Local(port), {}, "{}");
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
}

}  // namespace
}  // namespace pgxn::origin
