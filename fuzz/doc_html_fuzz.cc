// Fuzzes doc rendering (indexer/docs/doc_html.h): a release's doc, any bytes,
// rendered as the indexer does for each of its markups: Markdown and
// MultiMarkdown through cmark-gfm, HTML through the sanitizer, a converted
// markup (here a converter that passes the bytes on as HTML, as a hostile
// converter's output would be), text. Input: one byte choosing the doc's
// file name, then its content.
//
// Invariants: the fragment, title and text are valid UTF-8; the fragment
// holds no <script, <style or <iframe element and starts as PGXN's does.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "base/utf8.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "indexer/docs/doc_converter.h"
#include "indexer/docs/doc_html.h"
#include "indexer/docs/markup.h"

namespace {

// Doc file names, one per way RenderDoc treats a doc.
constexpr absl::string_view kPaths[] = {
    "README.md",    "doc/pair.mmd", "doc/pair.html", "README",           "doc/pair.txt",
    "doc/pair.rst", "doc/pair.pod", "doc/pair.trac", "doc/pair.textile", "doc/pair.asciidoc",
};

class PassThroughConverter final : public pgxn::indexer::DocConverter {
 public:
  absl::StatusOr<std::string> ToHtml(pgxn::indexer::Markup markup,
                                     absl::string_view content) const override {
    if (markup == pgxn::indexer::Markup::kPod) return absl::InternalError("pod2html failed");
    return std::string(content);
  }
};

const pgxn::indexer::DocContext& Context() {
  static const auto* const context = [] {
    static const PassThroughConverter converter;
    auto* c = new pgxn::indexer::DocContext;
    c->docpaths = {"README", "doc/pair", "doc/other"};
    c->files = {"README.md", "doc/pair.md", "doc/other.md", "doc/pair.png", "sql/pair.sql"};
    c->directories = {"doc", "sql"};
    c->source_url = "/src/pair/pair-0.1.0/";
    c->converter = &converter;
    return c;
  }();
  return *context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view path = kPaths[data[0] % std::size(kPaths)];
  const absl::string_view content = pgxn::fuzz::AsText(data + 1, size - 1);
  const pgxn::indexer::RenderedDoc doc = pgxn::indexer::RenderDoc(path, content, Context());
  FUZZ_CHECK(pgxn::base::IsValidUtf8(doc.html), "the fragment is valid UTF-8");
  FUZZ_CHECK(pgxn::base::IsValidUtf8(doc.title), "the title is valid UTF-8");
  FUZZ_CHECK(pgxn::base::IsValidUtf8(doc.text), "the text is valid UTF-8");
  FUZZ_CHECK(absl::StartsWith(doc.html, "<div id=\"pgxndoc\">"), "PGXN's fragment shape");
  const std::string lower = absl::AsciiStrToLower(doc.html);
  for (absl::string_view element : {"<script", "<style", "<iframe"}) {
    FUZZ_CHECK(!absl::StrContains(lower, element), "no script, style or iframe element");
  }
  return 0;
}
