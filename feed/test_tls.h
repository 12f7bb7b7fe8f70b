// Test support: throwaway certificate authorities and the server certificates
// they issue, made with OpenSSL at test time (nothing checked in expires), for
// the TLS tests of the Feed and of whole nodes. Not linked into pgxnd.
//
// Thread-safety: plain functions; call from any thread.
#ifndef PGXN_FEED_TEST_TLS_H_
#define PGXN_FEED_TEST_TLS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pgxn::feed {

// A certificate and its private key, both PEM.
struct TestCredentials {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA (P-256, valid for a day) named `name`.
absl::StatusOr<TestCredentials> MakeTestCa(const std::string& name);

// A server certificate signed by `ca` for common name `name`, valid for
// `alt_names` (subjectAltName in openssl.cnf syntax; by default localhost,
// 127.0.0.1 and ::1, what tests dial).
absl::StatusOr<TestCredentials> IssueTestServerCert(
    const TestCredentials& ca, const std::string& name,
    const std::string& alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1");

// Writes `credentials` to CERT_PATH and KEY_PATH (mode 0600), replacing what
// was there.
absl::Status WriteTestCredentials(const TestCredentials& credentials, const std::string& cert_path,
                                  const std::string& key_path);

}  // namespace pgxn::feed

#endif  // PGXN_FEED_TEST_TLS_H_
