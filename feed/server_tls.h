// TLS for a Feed (gRPC) server: credentials over a certificate chain and key
// read from PEM files, which Reload() replaces without restarting the server.
//
// gRPC 1.51 (Debian 12) has no certificate provider that can be updated on
// demand: its FileWatcherCertificateProvider re-reads the files on a timer,
// whenever they change, half-written or not. Its SSL server credentials do
// take a certificate "config fetcher", which gRPC asks before each new
// connection's handshake whether the certificate changed; that is what this
// answers, so a new certificate is used from the first connection after
// Reload() (SIGHUP) and never before. Connections already open keep the
// session they negotiated, and so do their streams: a mirror's Subscribe is
// not cut by a renewal; it meets the new certificate when it next connects.
// TLS 1.2 and 1.3 only (gRPC's minimum), no client certificates.
//
// Thread-safety: every method may be called from any thread. The server
// built with Credentials() must be destroyed before this object.
#ifndef PGXN_FEED_SERVER_TLS_H_
#define PGXN_FEED_SERVER_TLS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace grpc {
class ServerCredentials;
}

namespace pgxn::feed {

class ServerTls {
 public:
  // Reads and checks both files: the chain holds at least one certificate,
  // the key parses and matches the first certificate. InvalidArgument or
  // NotFound naming the file otherwise.
  static absl::StatusOr<std::unique_ptr<ServerTls>> Load(std::string cert_file,
                                                         std::string key_file);
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // Reads the files again; the next connection's handshake uses them. On
  // error the certificate in use stays, and the status says why.
  absl::Status Reload();

  // Server credentials serving the current certificate; they refer to this.
  std::shared_ptr<grpc::ServerCredentials> Credentials();

  const std::string& cert_file() const { return cert_file_; }

 private:
  struct Pair {
    std::string cert_chain;
    std::string private_key;
  };
  ServerTls(std::string cert_file, std::string key_file);
  absl::StatusOr<Pair> Read() const;
  // The pair if it changed since gRPC last took it (for gRPC's config
  // fetcher, in server_tls.cc).
  bool TakeIfChanged(Pair* pair);
  friend class ConfigFetcher;

  const std::string cert_file_;
  const std::string key_file_;
  absl::Mutex mu_;
  Pair pair_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by each load
  uint64_t fetched_ ABSL_GUARDED_BY(mu_) = 0;     // the generation gRPC has
};

}  // namespace pgxn::feed

#endif  // PGXN_FEED_SERVER_TLS_H_
