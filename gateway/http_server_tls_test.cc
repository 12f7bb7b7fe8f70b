// The HTTP server over TLS: HTTPS answers, plain HTTP is refused, a reload
// picks up a renewed certificate for new connections, and bad files are
// refused with a message naming them.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/scoped_fd.h"
#include "base/temp_dir.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "gateway/http_server.h"
#include "gateway/http_test_client.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Writes a fresh self-signed certificate for "localhost" with common name
// `name` and its key to cert_path and key_path (PEM).
void WriteSelfSigned(const std::string& name, const std::string& cert_path,
                     const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, subject);
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  FILE* out = std::fopen(cert_path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen(key_path.c_str(), "w");
  ASSERT_NE(out, nullptr);
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(key);
}

// One HTTPS GET; returns the body and sets *common_name to the server
// certificate's CN. The certificate is not verified: it is self-signed.
std::string HttpsGet(uint16_t port, const std::string& target, std::string* common_name) {
  net::io_context io;
  net::ssl::context context(net::ssl::context::tls_client);
  context.set_verify_mode(net::ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(io, context);
  beast::get_lowest_layer(stream).connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  stream.handshake(net::ssl::stream_base::client);
  X509* cert = SSL_get_peer_certificate(stream.native_handle());
  char buffer[256] = {};
  if (cert != nullptr) {
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer,
                              sizeof(buffer));
    X509_free(cert);
  }
  *common_name = buffer;
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, "localhost");
  http::write(stream, request);
  beast::flat_buffer read_buffer;
  http::response<http::string_body> response;
  http::read(stream, read_buffer, response);
  return absl::StrCat(response.result_int(), " ", response.body());
}

TEST(HttpServerTlsTest, ServesHttpsAndReloadsARenewedCertificate) {
  base::TempDir dir;
  const std::string cert = dir.path() + "/cert.pem";
  const std::string key = dir.path() + "/key.pem";
  ASSERT_NO_FATAL_FAILURE(WriteSelfSigned("first", cert, key));
  HttpServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
      options, [](const Request& request) { return TextResponse(200, request.path); });
  ASSERT_TRUE(server.ok()) << server.status();
  const uint16_t port = (*server)->port();

  std::string name;
  EXPECT_EQ(HttpsGet(port, "/dist/pair.json", &name), "200 /dist/pair.json");
  EXPECT_EQ(name, "first");

  // Plain HTTP on the TLS port gets no HTTP answer.
  testing::Client plain(port);
  plain.WriteRaw("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(plain.ServerClosed());

  ASSERT_NO_FATAL_FAILURE(WriteSelfSigned("second", cert, key));
  ASSERT_TRUE((*server)->ReloadTls().ok());
  EXPECT_EQ(HttpsGet(port, "/again", &name), "200 /again");
  EXPECT_EQ(name, "second");

  // A broken file on reload keeps the certificate in use.
  ASSERT_TRUE(base::WriteFileAtomically(key, "not a key", 0600).ok());
  absl::Status broken = (*server)->ReloadTls();
  EXPECT_EQ(broken.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(broken.message(), key)) << broken;
  EXPECT_EQ(HttpsGet(port, "/still", &name), "200 /still");
  EXPECT_EQ(name, "second");
}

// Under TLS a file body cannot go with sendfile: it is read in pieces and
// arrives whole, from its offset.
TEST(HttpServerTlsTest, AFileBodyArrivesWholeOverTls) {
  base::TempDir dir;
  const std::string cert = dir.path() + "/cert.pem";
  const std::string key = dir.path() + "/key.pem";
  ASSERT_NO_FATAL_FAILURE(WriteSelfSigned("files", cert, key));
  std::string content(300 * 1024 + 5, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 23);
  ASSERT_TRUE(base::WriteFileAtomically(dir.path() + "/file", content, 0600).ok());
  auto file = std::make_shared<const base::ScopedFd>(
      ::open((dir.path() + "/file").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file->valid());
  HttpServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(options, [&file, &content](const Request&) {
        Response response;
        response.file = file;
        response.file_offset = 5;
        response.stream_size = content.size() - 5;
        return response;
      });
  ASSERT_TRUE(server.ok()) << server.status();
  std::string name;
  EXPECT_EQ(HttpsGet((*server)->port(), "/file", &name), "200 " + content.substr(5));
}

TEST(HttpServerTlsTest, RefusesMissingOrMismatchedFiles) {
  base::TempDir dir;
  const std::string cert = dir.path() + "/cert.pem";
  const std::string key = dir.path() + "/key.pem";
  ASSERT_NO_FATAL_FAILURE(WriteSelfSigned("one", cert, key));
  ASSERT_NO_FATAL_FAILURE(
      WriteSelfSigned("other", dir.path() + "/other.pem", dir.path() + "/other-key.pem"));
  const auto handler = [](const Request&) { return TextResponse(200, ""); };
  const struct {
    std::string cert;
    std::string key;
    std::string message;
  } kCases[] = {
      {cert, "", "needs both a certificate file and a key file"},
      {dir.path() + "/absent.pem", key, "Cannot load the TLS certificate chain"},
      {cert, dir.path() + "/absent-key.pem", "Cannot load the TLS private key"},
      {cert, dir.path() + "/other-key.pem", "key values mismatch"},
  };
  for (const auto& c : kCases) {
    HttpServerOptions options;
    options.tls_cert_file = c.cert;
    options.tls_key_file = c.key;
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(options, handler);
    ASSERT_FALSE(server.ok()) << c.message;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(server.status().message(), c.message)) << server.status();
  }
}

}  // namespace
}  // namespace pgxn::gateway
