// The Content-Type the gateway sends for a file of the published tree, chosen by
// its name's extension (docs/architecture.md §5). Called by the tree publisher and the tree
// handler. A pure function: safe from any thread.
#ifndef PGXN_GATEWAY_MEDIA_TYPE_H_
#define PGXN_GATEWAY_MEDIA_TYPE_H_

#include "absl/strings/string_view.h"

namespace pgxn::gateway {

// .json -> application/json, .zip -> application/zip, .txt and .pub ->
// text/plain; charset=utf-8, .html -> text/html; charset=utf-8, .atom ->
// application/atom+xml, anything else -> application/octet-stream. The
// extension is that of the last path segment, compared case-insensitively.
// The returned view refers to static storage.
absl::string_view MediaTypeForPath(absl::string_view path);

}  // namespace pgxn::gateway

#endif  // PGXN_GATEWAY_MEDIA_TYPE_H_
