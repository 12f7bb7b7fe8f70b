// gzip for responses whose client accepts it (RFC 9110 §8.4, §12.5.3), with
// zlib: text, JSON, CSS, SVG and XML bodies of at least kMinCompressBytes.
// The site's pages use it; tree files are never compressed (their ETag is the
// sha256 of the bytes as stored, and clients check downloads against it).
//
// Pure functions; thread-safe.
#ifndef PGXN_GATEWAY_COMPRESSION_H_
#define PGXN_GATEWAY_COMPRESSION_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/http.h"

namespace pgxn::gateway {

inline constexpr size_t kMinCompressBytes = 512;

// Whether Accept-Encoding lists gzip (or "*") with a q-value above 0.
bool AcceptsGzip(const Request& request);

// `data` as a gzip member (RFC 1952), at zlib's default level.
absl::StatusOr<std::string> Gzip(absl::string_view data);

// Compresses response->body in place when the request accepts gzip, the
// status is 200, the Content-Type is compressible and the body is large
// enough: sets Content-Encoding: gzip and appends "-gzip" inside a strong
// ETag's quotes (the two encodings are different representations). Adds
// Vary: Accept-Encoding whenever the type is compressible, so caches keep
// the variants apart. A zlib failure leaves the response as it was.
void CompressIfAccepted(const Request& request, Response* response);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_COMPRESSION_H_
