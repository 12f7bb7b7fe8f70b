#include "gateway/compression.h"

#include <zlib.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pgxn::gateway {
namespace {

bool Compressible(absl::string_view content_type) {
  const std::string type = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
  return absl::StartsWith(type, "text/") ||
         absl::EqualsIgnoreCase(type, "application/json") ||
         absl::EqualsIgnoreCase(type, "application/atom+xml") ||
         absl::EqualsIgnoreCase(type, "application/xml") ||
         absl::EqualsIgnoreCase(type, "image/svg+xml");
}

}  // namespace

bool AcceptsGzip(const Request& request) {
  // An explicit "gzip" entry decides; "*" covers gzip only when none names
  // it ("gzip;q=0, *" refuses gzip).
  double gzip_q = -1;
  double star_q = -1;
  for (const auto& [name, value] : request.headers) {
    if (name != "accept-encoding") continue;
    for (absl::string_view item : absl::StrSplit(value, ',')) {
      std::vector<absl::string_view> parts = absl::StrSplit(item, ';');
      const absl::string_view coding = absl::StripAsciiWhitespace(parts[0]);
      const bool is_gzip = absl::EqualsIgnoreCase(coding, "gzip");
      if (!is_gzip && coding != "*") continue;
      double q = 1;
      for (size_t i = 1; i < parts.size(); ++i) {
        absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
        if (absl::ConsumePrefix(&param, "q=") || absl::ConsumePrefix(&param, "Q=")) {
          if (!absl::SimpleAtod(param, &q)) q = 0;
        }
      }
      (is_gzip ? gzip_q : star_q) = q;
    }
  }
  return gzip_q >= 0 ? gzip_q > 0 : star_q > 0;
}

absl::StatusOr<std::string> Gzip(absl::string_view data) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  const size_t written = out.size() - stream.avail_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return absl::InternalError("zlib: deflate did not finish");
  out.resize(written);
  return out;
}

void CompressIfAccepted(const Request& request, Response* response) {
  if (!Compressible(response->Header("Content-Type"))) return;
  response->SetHeader("Vary", "Accept-Encoding");
  if (response->status != 200 || response->body.size() < kMinCompressBytes ||
      !response->Header("Content-Encoding").empty() || !AcceptsGzip(request)) {
    return;
  }
  absl::StatusOr<std::string> gzipped = Gzip(response->body);
  if (!gzipped.ok()) return;
  response->body = *std::move(gzipped);
  response->SetHeader("Content-Encoding", "gzip");
  const std::string etag(response->Header("ETag"));
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    response->SetHeader("ETag", etag.substr(0, etag.size() - 1) + "-gzip\"");
  }
}

}  // namespace pgxn::gateway
