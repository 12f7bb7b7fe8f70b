// Where a Feed client connects, and how: the --upstream values of mirrors,
// indexers and `pgxnd tail`, and the trust a TLS upstream is checked against.
//
//   HOST:PORT             plaintext gRPC, as before TLS existed;
//   https://HOST[:PORT]   gRPC over TLS 1.2+ (port 443 when omitted), the
//                         server's certificate verified for HOST against
//                         --upstream-ca, or else the system's CA store.
//
// "https" because that is what the feed is then: HTTP/2 over TLS, the URL a
// TLS-terminating proxy in front of it has too. Nothing ever falls back from
// TLS to plaintext: a TLS upstream that does not verify is an error.
//
// Pure functions and plain values; thread-safe.
#ifndef PGXN_FEED_UPSTREAM_TARGET_H_
#define PGXN_FEED_UPSTREAM_TARGET_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class ChannelCredentials;
}

namespace pgxn::feed {

struct UpstreamTarget {
  std::string address;  // HOST:PORT (IPv6 in brackets), what gRPC dials
  bool tls = false;
};

// Parses one --upstream value (see above). InvalidArgument naming the flag,
// the value and the rule otherwise: a scheme other than https, a path, a
// query, user information, or a missing or zero port on a plaintext
// upstream.
absl::StatusOr<UpstreamTarget> ParseUpstream(absl::string_view value);

// The roots a TLS upstream's certificate is verified against.
struct UpstreamTrust {
  std::string ca_file;  // --upstream-ca, for messages; "" for the system's store
  std::string ca_pem;   // its PEM certificates; "" for the system's store
};

// Reads --upstream-ca: "" gives the system's store; otherwise the file must
// hold at least one PEM certificate (InvalidArgument or NotFound naming the
// file otherwise).
absl::StatusOr<UpstreamTrust> LoadUpstreamTrust(const std::string& ca_file);

// What verifies a TLS upstream, for messages: "--upstream-ca FILE" or "the
// system's CA store".
std::string DescribeTrust(const UpstreamTrust& trust);

// The channel credentials for `target`: insecure for plaintext; TLS with
// `trust`'s roots, or gRPC's default roots when it has none. gRPC reads
// those from $GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when set, else from the
// system's store (on Debian /etc/ssl/certs/ca-certificates.crt, which
// update-ca-certificates maintains).
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const UpstreamTarget& target,
                                                                const UpstreamTrust& trust);

// Rewrites why a call to a TLS upstream failed so that it says TLS was
// involved and what it was checked against; `status` unchanged for a
// plaintext upstream or an OK one.
absl::Status ExplainTlsFailure(const absl::Status& status, const UpstreamTarget& target,
                               const UpstreamTrust& trust);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_UPSTREAM_TARGET_H_
