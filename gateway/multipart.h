// A multipart/form-data parser (RFC 7578 over RFC 2046) for uploads to the
// origin: `curl -F archive=@pair-0.1.7.zip https://origin/upload`. Called by the
// Manager's handlers with the request's Content-Type header and body. Pure
// functions: safe from any thread.
#ifndef PGXN_GATEWAY_MULTIPART_H_
#define PGXN_GATEWAY_MULTIPART_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pgxn::gateway {

struct FormPart {
  std::string name;          // Content-Disposition's name parameter, never empty
  std::string filename;      // its filename parameter, or "" when absent
  std::string content_type;  // the part's Content-Type header, or "" when absent
  // The part's bytes, exactly as sent. A view into the `body` given to
  // ParseMultipartForm: valid only while that body is alive and unchanged.
  absl::string_view data;
};

// Splits `body` into its parts. `content_type_header` must be
// multipart/form-data with a boundary parameter (quoted or not, 1 to 70
// characters). Delimiters are CRLF "--boundary" lines; the preamble before the
// first one and the epilogue after the closing "--boundary--" are ignored.
// Each part needs Content-Disposition: form-data with a name; quoted parameter
// values may use backslash escapes.
//
// Returns InvalidArgument naming the problem for another media type, a missing
// boundary parameter, a body without the boundary or the closing boundary, a
// part without headers' end, Content-Disposition or name, a malformed header or
// parameter, or more than `max_parts` parts.
absl::StatusOr<std::vector<FormPart>> ParseMultipartForm(absl::string_view content_type_header,
                                                         absl::string_view body,
                                                         size_t max_parts = 64);

// The first part named `name`, or nullptr.
const FormPart* FindPart(const std::vector<FormPart>& parts, absl::string_view name);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_MULTIPART_H_
