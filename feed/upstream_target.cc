#include "feed/upstream_target.h"

#include <grpcpp/security/credentials.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/address.h"
#include "base/files.h"

namespace pgxn::feed {
namespace {

constexpr absl::string_view kTlsScheme = "https://";
constexpr char kDefaultTlsPort[] = "443";

absl::Status Invalid(absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--upstream \"", value, "\": ", why));
}

// PEM certificates in `pem`, or -1 if one of them does not parse.
int CountCertificates(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return -1;
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++count;
  }
  // The loop ends on "no start line" at the end of the input; anything else
  // is a certificate that is there but broken.
  const unsigned long error = ERR_peek_last_error();
  const bool at_end =
      ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  BIO_free(bio);
  return at_end || error == 0 ? count : -1;
}

}  // namespace

absl::StatusOr<UpstreamTarget> ParseUpstream(absl::string_view value) {
  UpstreamTarget target;
  absl::string_view rest = value;
  const size_t scheme_end = value.find("://");
  if (scheme_end != absl::string_view::npos) {
    if (!absl::StartsWithIgnoreCase(value, kTlsScheme)) {
      return Invalid(value, absl::StrCat("unsupported scheme \"", value.substr(0, scheme_end),
                                         "\"; use HOST:PORT for plaintext or "
                                         "https://HOST[:PORT] for TLS"));
    }
    target.tls = true;
    rest = value.substr(kTlsScheme.size());
    // "https://feed.example.org/" is still just a host.
    if (absl::EndsWith(rest, "/")) rest.remove_suffix(1);
    if (rest.find_first_of("/?#") != absl::string_view::npos) {
      return Invalid(value, "the Feed takes no path, query or fragment");
    }
    if (rest.find('@') != absl::string_view::npos) {
      return Invalid(value, "the Feed takes no user information");
    }
    if (rest.empty()) return Invalid(value, "no host");
  }
  std::string address(rest);
  // A TLS upstream without a port is on 443, as an https URL is; a host
  // without brackets and a colon, or a bracketed IPv6 address, has none.
  if (target.tls && (absl::EndsWith(address, "]") || (!address.empty() && address.front() != '[' &&
                                                      address.find(':') == std::string::npos))) {
    absl::StrAppend(&address, ":", kDefaultTlsPort);
  }
  absl::StatusOr<base::HostPort> host_port = base::ParseHostPort(address);
  if (!host_port.ok()) return Invalid(value, host_port.status().message());
  if (host_port->port == 0) return Invalid(value, "port 0 is not a port one can connect to");
  target.address = std::move(address);
  return target;
}

absl::StatusOr<UpstreamTrust> LoadUpstreamTrust(const std::string& ca_file) {
  UpstreamTrust trust;
  if (ca_file.empty()) return trust;
  absl::StatusOr<std::string> pem = base::ReadFile(ca_file);
  if (!pem.ok()) {
    return absl::Status(pem.status().code(), absl::StrCat("Cannot read --upstream-ca ", ca_file,
                                                          ": ", pem.status().message()));
  }
  const int certificates = CountCertificates(*pem);
  if (certificates <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--upstream-ca ", ca_file,
                     certificates == 0 ? " holds no PEM certificate"
                                       : " holds a PEM certificate that does not parse"));
  }
  trust.ca_file = ca_file;
  trust.ca_pem = *std::move(pem);
  return trust;
}

std::string DescribeTrust(const UpstreamTrust& trust) {
  return trust.ca_pem.empty() ? "the system's CA store"
                              : absl::StrCat("--upstream-ca ", trust.ca_file);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const UpstreamTarget& target,
                                                                const UpstreamTrust& trust) {
  if (!target.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = trust.ca_pem;  // empty: gRPC's default roots
  return grpc::SslCredentials(options);
}

absl::Status ExplainTlsFailure(const absl::Status& status, const UpstreamTarget& target,
                               const UpstreamTrust& trust) {
  if (status.ok() || !target.tls) return status;
  const std::string lower = absl::AsciiStrToLower(status.message());
  // gRPC reports a failed handshake inside a generic "failed to connect"
  // message; say in plain words which check failed and against what.
  if (!absl::StrContains(lower, "handshake") && !absl::StrContains(lower, "ssl") &&
      !absl::StrContains(lower, "certificate") && !absl::StrContains(lower, "tls")) {
    return status;
  }
  std::string why = "TLS handshake failed";
  if (absl::StrContains(lower, "certificate verify failed") ||
      absl::StrContains(lower, "certificate_verify_failed")) {
    why = absl::StrCat("its certificate does not verify against ", DescribeTrust(trust));
  } else if (absl::StrContains(lower, "peer name") || absl::StrContains(lower, "hostname")) {
    absl::StatusOr<base::HostPort> host = base::ParseHostPort(target.address);
    why = absl::StrCat("its certificate does not name ", host.ok() ? host->host : target.address);
  } else if (absl::StrContains(lower, "wrong version number") ||
             absl::StrContains(lower, "wrong_version_number")) {
    why = "it does not speak TLS (a plaintext feed? then drop https://)";
  }
  return absl::Status(status.code(), absl::StrCat("TLS upstream https://", target.address, ": ",
                                                  why, " (", status.message(), ")"));
}

}  // namespace pgxn::feed
