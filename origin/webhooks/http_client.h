// The outbound HTTP client that delivers webhooks: one POST per call, over
// HTTP or HTTPS (TLS verified against the system's CA store, with SNI and
// host name checking). The Boost.Beast and OpenSSL adapter of
// origin/webhooks: their types stay in http_client.cc.
//
// Safety, since anyone with an account picks the URL:
// - the host is resolved and only addresses target.h calls public are
//   connected to (unless allow_private), and the address connected to is
//   the one checked, so DNS rebinding cannot reach the origin's network;
// - redirects are not followed: a 3xx is an answer like any other, which the
//   caller counts as a failure;
// - at most kMaxResponseBodyBytes of the response body are read;
// - `timeout` bounds the whole exchange (resolve, connect, TLS, write,
//   read), `connect_timeout` the part before the request is sent. A name
//   lookup cannot be interrupted (getaddrinfo), so each runs on a thread of
//   its own that the delivery leaves behind at the deadline; at most
//   kMaxLookups run at once, beyond which a delivery fails at once
//   (Unavailable) instead of piling up threads behind a resolver that hangs.
//
// Thread-safety: Post may be called from many threads at once.
#ifndef PGXN_ORIGIN_WEBHOOKS_HTTP_CLIENT_H_
#define PGXN_ORIGIN_WEBHOOKS_HTTP_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "origin/webhooks/target.h"

namespace pgxn::origin {

struct WebhookClientOptions {
  absl::Duration timeout = absl::Seconds(10);
  absl::Duration connect_timeout = absl::Seconds(5);
  bool allow_private = false;
  // Extra CA file for HTTPS (tests); empty: the system's store only.
  std::string ca_file;
  // The name lookup: a host's addresses as text ("192.0.2.1", "::1"). Unset:
  // the system's resolver (getaddrinfo). Tests set it to a resolver that
  // hangs. Called on a thread of its own, possibly after Post returned.
  std::function<absl::StatusOr<std::vector<std::string>>(const std::string& host)> resolve;
};

struct WebhookResponse {
  int status = 0;
  std::string body;      // at most kMaxResponseBodyBytes
  std::string location;  // the Location header of a redirect
};

class WebhookClient {
 public:
  static constexpr size_t kMaxResponseBodyBytes = 4096;
  // Name lookups in flight at once, in this process.
  static constexpr int kMaxLookups = 32;
  // The lookups in flight now, in this process (for tests).
  static int LookupsInFlight();

  explicit WebhookClient(WebhookClientOptions options);
  ~WebhookClient();
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;

  // POSTs `body` with `headers` (name, value) to `url`. The response, whatever
  // its status; an error naming the problem when there is none:
  // PermissionDenied when the host has no public address ("... resolves to
  // 127.0.0.1, a loopback address: webhooks go to public addresses only"),
  // DeadlineExceeded on a timeout, Unavailable for resolution, connection,
  // TLS and protocol failures.
  absl::StatusOr<WebhookResponse> Post(
      const WebhookUrl& url, const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body) const;

 private:
  struct Impl;
  const WebhookClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgxn::origin

#endif  // PGXN_ORIGIN_WEBHOOKS_HTTP_CLIENT_H_
