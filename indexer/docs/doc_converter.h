// What turns a doc in a markup other than Markdown, HTML or text into HTML,
// as the doc renderer (doc_html.h) sees it. The indexer's implementation runs
// external programs (markup_converters.h); tests may give their own.
#ifndef PGXN_INDEXER_DOCS_DOC_CONVERTER_H_
#define PGXN_INDEXER_DOCS_DOC_CONVERTER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "indexer/docs/markup.h"

namespace pgxn::indexer {

class DocConverter {
 public:
  virtual ~DocConverter() = default;
  // The HTML of `content` written in `markup` (NeedsConverter), not yet
  // sanitized; the caller sanitizes it. NotFound when nothing converts that
  // markup here; any other error when converting failed (the implementation
  // logs why). Called from several threads at once.
  virtual absl::StatusOr<std::string> ToHtml(Markup markup, absl::string_view content) const = 0;
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_DOC_CONVERTER_H_
