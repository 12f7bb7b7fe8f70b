#include "feed/server_tls.h"

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "base/log.h"

namespace pgxn::feed {
namespace {

// OpenSSL's reason for the last failure, for messages.
std::string OpenSslError() {
  const unsigned long error = ERR_get_error();
  ERR_clear_error();
  if (error == 0) return "not PEM";
  char buffer[256];
  ERR_error_string_n(error, buffer, sizeof(buffer));
  return buffer;
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& data) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// gRPC's ServerCredentials over C credentials made here: the C++ API has no
// way to build SSL credentials with a config fetcher, the C API does, and
// ServerCredentials' one job is adding the listening port with them.
class FetchingServerCredentials final : public grpc::ServerCredentials {
 public:
  // Made after the base class has initialised gRPC.
  FetchingServerCredentials(grpc_ssl_server_certificate_config_callback fetch, void* user_data)
      : credentials_(grpc_ssl_server_credentials_create_with_options(
            grpc_ssl_server_credentials_create_options_using_config_fetcher(
                GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, fetch, user_data))) {}
  ~FetchingServerCredentials() override { grpc_server_credentials_release(credentials_); }

  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {
    // The Feed authenticates nobody (events are signed); a caller asking for
    // this has misread the design.
    base::LogError("Feed server TLS credentials take no auth metadata processor");
    std::abort();
  }

 private:
  int AddPortToServer(const std::string& address, grpc_server* server) override {
    return grpc_server_add_http2_port(server, address.c_str(), credentials_);
  }

  grpc_server_credentials* const credentials_;
};

}  // namespace

// What gRPC calls before each handshake (see server_tls.h).
class ConfigFetcher {
 public:
  static grpc_ssl_certificate_config_reload_status Fetch(
      void* user_data, grpc_ssl_server_certificate_config** config) {
    ServerTls::Pair pair;
    if (!static_cast<ServerTls*>(user_data)->TakeIfChanged(&pair)) {
      return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
    }
    grpc_ssl_pem_key_cert_pair pem{pair.private_key.c_str(), pair.cert_chain.c_str()};
    // gRPC 1.51 asserts that a fetched config has roots for client
    // certificates, and refuses an empty set; the server asks for no client
    // certificate, so they are never used: its own chain will do. gRPC
    // copies the strings.
    *config = grpc_ssl_server_certificate_config_create(pair.cert_chain.c_str(), &pem, 1);
    return *config == nullptr ? GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_FAIL
                              : GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
  }
};

ServerTls::ServerTls(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Load(std::string cert_file,
                                                           std::string key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return absl::InvalidArgumentError(
        "Feed TLS needs both a certificate file and a key file (--tls-cert and --tls-key)");
  }
  auto tls = std::unique_ptr<ServerTls>(new ServerTls(std::move(cert_file), std::move(key_file)));
  if (absl::Status s = tls->Reload(); !s.ok()) return s;
  return tls;
}

absl::StatusOr<ServerTls::Pair> ServerTls::Read() const {
  Pair pair;
  absl::StatusOr<std::string> chain = base::ReadFile(cert_file_);
  if (!chain.ok()) {
    return absl::Status(chain.status().code(),
                        absl::StrCat("Cannot read the TLS certificate chain ", cert_file_, ": ",
                                     chain.status().message()));
  }
  absl::StatusOr<std::string> key = base::ReadFile(key_file_);
  if (!key.ok()) {
    // Not the key's content, only why it could not be read.
    return absl::Status(key.status().code(), absl::StrCat("Cannot read the TLS private key ",
                                                          key_file_, ": ", key.status().message()));
  }
  // Checked here, where the error can name the file: gRPC would only log a
  // failed handshake later, for every client.
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> chain_bio = MemoryBio(*chain);
  std::unique_ptr<X509, X509Free> leaf(
      PEM_read_bio_X509(chain_bio.get(), nullptr, nullptr, nullptr));
  if (leaf == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cannot load the TLS certificate chain ", cert_file_, ": ", OpenSslError()));
  }
  std::unique_ptr<BIO, BioFree> key_bio = MemoryBio(*key);
  std::unique_ptr<EVP_PKEY, PkeyFree> private_key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (private_key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cannot load the TLS private key ", key_file_, ": ", OpenSslError()));
  }
  if (X509_check_private_key(leaf.get(), private_key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("The TLS private key ", key_file_,
                                                   " does not match the certificate ", cert_file_));
  }
  pair.cert_chain = *std::move(chain);
  pair.private_key = *std::move(key);
  return pair;
}

absl::Status ServerTls::Reload() {
  absl::StatusOr<Pair> pair = Read();
  if (!pair.ok()) return pair.status();
  absl::MutexLock lock(&mu_);
  pair_ = *std::move(pair);
  ++generation_;
  return absl::OkStatus();
}

bool ServerTls::TakeIfChanged(Pair* pair) {
  absl::MutexLock lock(&mu_);
  if (fetched_ == generation_) return false;
  fetched_ = generation_;
  *pair = pair_;
  return true;
}

std::shared_ptr<grpc::ServerCredentials> ServerTls::Credentials() {
  // gRPC asks at once, while the port is added, and must get a config then.
  {
    absl::MutexLock lock(&mu_);
    fetched_ = 0;
  }
  return std::make_shared<FetchingServerCredentials>(&ConfigFetcher::Fetch, this);
}

}  // namespace pgxn::feed
