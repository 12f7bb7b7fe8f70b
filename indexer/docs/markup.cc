#include "indexer/docs/markup.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace pgxn::indexer {
namespace {

absl::string_view Basename(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// The lower-cased extension of the file at `path`, "" without one (".md"
// is a hidden file, not an extension).
std::string ExtensionOf(absl::string_view path) {
  const absl::string_view file = Basename(path);
  const size_t dot = file.rfind('.');
  if (dot == absl::string_view::npos || dot == 0) return "";
  return absl::AsciiStrToLower(file.substr(dot + 1));
}

}  // namespace

Markup MarkupOf(absl::string_view path) {
  if (absl::EqualsIgnoreCase(Basename(path), "README")) return Markup::kText;
  static const auto* const kExtensions = new absl::flat_hash_map<std::string, Markup>{
      {"md", Markup::kMarkdown},
      {"mkd", Markup::kMarkdown},
      {"mkdn", Markup::kMarkdown},
      {"mdown", Markup::kMarkdown},
      {"markdown", Markup::kMarkdown},
      {"mmd", Markup::kMultiMarkdown},
      {"mmkd", Markup::kMultiMarkdown},
      {"mmkdn", Markup::kMultiMarkdown},
      {"mmdown", Markup::kMultiMarkdown},
      {"mmarkdown", Markup::kMultiMarkdown},
      {"multimarkdown", Markup::kMultiMarkdown},
      {"txt", Markup::kText},
      {"text", Markup::kText},
      {"html", Markup::kHtml},
      {"htm", Markup::kHtml},
      {"xhtml", Markup::kHtml},
      {"xhtm", Markup::kHtml},
      {"rst", Markup::kRst},
      {"rest", Markup::kRst},
      {"asciidoc", Markup::kAsciiDoc},
      {"adoc", Markup::kAsciiDoc},
      {"asc", Markup::kAsciiDoc},
      {"pod", Markup::kPod},
      {"pm", Markup::kPod},
      {"pl", Markup::kPod},
      {"textile", Markup::kTextile},
      {"mediawiki", Markup::kMediaWiki},
      {"mwiki", Markup::kMediaWiki},
      {"wiki", Markup::kMediaWiki},
      {"creole", Markup::kCreole},
      {"trac", Markup::kTrac},
      {"trc", Markup::kTrac},
      {"bb", Markup::kBBCode},
      {"bbcode", Markup::kBBCode},
  };
  auto it = kExtensions->find(ExtensionOf(path));
  return it == kExtensions->end() ? Markup::kNone : it->second;
}

bool IsDocByName(absl::string_view path) {
  const Markup markup = MarkupOf(path);
  if (markup == Markup::kNone || markup == Markup::kText) return false;
  const std::string extension = ExtensionOf(path);
  return extension != "pm" && extension != "pl" && extension != "asc";
}

bool NeedsConverter(Markup markup) {
  switch (markup) {
    case Markup::kRst:
    case Markup::kAsciiDoc:
    case Markup::kPod:
    case Markup::kTextile:
    case Markup::kMediaWiki:
    case Markup::kCreole:
      return true;
    default:
      return false;
  }
}

absl::string_view MarkupName(Markup markup) {
  switch (markup) {
    case Markup::kNone:
      return "none";
    case Markup::kMarkdown:
      return "markdown";
    case Markup::kMultiMarkdown:
      return "multimarkdown";
    case Markup::kText:
      return "text";
    case Markup::kHtml:
      return "html";
    case Markup::kRst:
      return "rst";
    case Markup::kAsciiDoc:
      return "asciidoc";
    case Markup::kPod:
      return "pod";
    case Markup::kTextile:
      return "textile";
    case Markup::kMediaWiki:
      return "mediawiki";
    case Markup::kCreole:
      return "creole";
    case Markup::kTrac:
      return "trac";
    case Markup::kBBCode:
      return "bbcode";
  }
  return "none";
}

}  // namespace pgxn::indexer
