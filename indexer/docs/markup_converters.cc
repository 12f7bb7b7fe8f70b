#include "indexer/docs/markup_converters.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/digest.h"
#include "base/log.h"

namespace pgxn::indexer {
namespace {

// Reads POD on stdin and writes its HTML body: no header or footer, links to
// other modules pointing at MetaCPAN.
constexpr char kPodScript[] =
    "use Pod::Simple::XHTML; my $p = Pod::Simple::XHTML->new; $p->html_header(''); "
    "$p->html_footer(''); $p->perldoc_url_prefix('https://metacpan.org/pod/'); my $out = ''; "
    "$p->output_string(\\$out); local $/; binmode STDIN; my $in = <STDIN>; "
    "$p->parse_string_document($in); binmode STDOUT, ':encoding(UTF-8)'; print $out;";

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// The installed program for `markup`, as an argv, or why there is none.
std::pair<std::vector<std::string>, std::string> DefaultCommand(Markup markup,
                                                                const SandboxLimits& limits) {
  const std::string pandoc_heap =
      absl::StrCat("-M", limits.max_memory_bytes / 2 / 1024 / 1024, "m");
  auto pandoc = [&](const char* from) -> std::pair<std::vector<std::string>, std::string> {
    if (!Executable("/usr/bin/pandoc"))
      return {{}, "/usr/bin/pandoc is not installed (Debian package pandoc)"};
    return {
        {"/usr/bin/pandoc", "+RTS", pandoc_heap, "-RTS", "--sandbox", "-f", from, "-t", "html5"},
        ""};
  };
  switch (markup) {
    case Markup::kRst:
      if (!Executable("/usr/bin/rst2html5")) {
        return {{}, "/usr/bin/rst2html5 is not installed (Debian package python3-docutils)"};
      }
      return {
          {"/usr/bin/rst2html5", "--no-raw", "--no-file-insertion", "--report=5", "--halt=5",
           "--no-generator", "--no-datestamp", "--no-source-link", "--no-doc-title",
           "--initial-header-level=1", "--input-encoding=utf-8:replace", "--output-encoding=utf-8"},
          ""};
    case Markup::kAsciiDoc:
      if (!Executable("/usr/bin/asciidoctor")) {
        return {{}, "/usr/bin/asciidoctor is not installed (Debian package asciidoctor)"};
      }
      return {{"/usr/bin/asciidoctor", "-s", "-S", "secure", "-a", "showtitle", "-o", "-", "-"},
              ""};
    case Markup::kPod:
      if (!Executable("/usr/bin/perl")) return {{}, "/usr/bin/perl is not installed"};
      return {{"/usr/bin/perl", "-e", kPodScript}, ""};
    case Markup::kTextile:
      return pandoc("textile");
    case Markup::kMediaWiki:
      return pandoc("mediawiki");
    case Markup::kCreole:
      return pandoc("creole");
    case Markup::kTrac:
    case Markup::kBBCode:
      return {{}, "Debian packages no reader for it"};
    default:
      return {{}, "rendered in-process"};
  }
}

// The content of the <body> of a whole HTML document (what rst2html5
// writes), or the text itself when it has none.
absl::string_view BodyOf(absl::string_view html) {
  const size_t open = html.find("<body");
  if (open == absl::string_view::npos) return html;
  const size_t start = html.find('>', open);
  if (start == absl::string_view::npos) return html;
  const size_t end = html.rfind("</body>");
  if (end == absl::string_view::npos || end < start) return html.substr(start + 1);
  return html.substr(start + 1, end - start - 1);
}

// What one cache entry holds in memory, roughly: its key, its HTML or error
// message, and the list node, map slot and strings around them.
size_t CachedBytes(const std::string& key, const absl::StatusOr<std::string>& html) {
  constexpr size_t kOverhead = 160;
  return kOverhead + key.size() + (html.ok() ? html->size() : html.status().message().size());
}

constexpr Markup kConverted[] = {Markup::kRst,     Markup::kAsciiDoc,  Markup::kPod,
                                 Markup::kTextile, Markup::kMediaWiki, Markup::kCreole,
                                 Markup::kTrac,    Markup::kBBCode};

}  // namespace

MarkupConverters::MarkupConverters(ConverterOptions options) : options_(std::move(options)) {
  isolation_ = ProbeSandbox();
  std::vector<std::string> missing;
  for (Markup markup : kConverted) {
    Converter converter;
    if (!options_.enabled) {
      converter.why = "converters are off (--no-converters)";
    } else if (auto it = options_.commands.find(markup); it != options_.commands.end()) {
      converter.argv = it->second;
      if (converter.argv.empty()) converter.why = "none configured";
    } else {
      std::tie(converter.argv, converter.why) = DefaultCommand(markup, options_.limits);
    }
    if (converter.argv.empty()) {
      missing.push_back(absl::StrCat(MarkupName(markup), ": ", converter.why));
    }
    converters_.emplace(markup, std::move(converter));
  }
  if (!missing.empty()) {
    base::LogWarning(
        absl::StrCat("Docs in these markups are shown as text: ", absl::StrJoin(missing, "; ")));
  }
  if (options_.enabled && (!isolation_.network || !isolation_.filesystem)) {
    base::LogWarning(absl::StrCat(
        "Doc converters run without ", !isolation_.network ? "a network namespace" : "",
        !isolation_.network && !isolation_.filesystem ? " and without " : "",
        !isolation_.filesystem ? "Landlock" : "",
        " (the kernel refused it); they still run with their own safe modes and limits"));
  }
}

MarkupConverters::~MarkupConverters() = default;

absl::StatusOr<std::string> MarkupConverters::ToHtml(Markup markup,
                                                     absl::string_view content) const {
  auto found = converters_.find(markup);
  if (found == converters_.end() || found->second.argv.empty()) {
    return absl::NotFoundError(absl::StrCat("no converter for ", MarkupName(markup)));
  }
  const std::string key = base::Sha256(absl::StrCat(MarkupName(markup), "\n", content));
  {
    absl::MutexLock lock(&mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      ++cache_hits_;
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->html;
    }
  }
  absl::StatusOr<std::string> html = Run(markup, found->second, content);
  if (!html.ok()) {
    base::LogWarning(
        absl::StrCat("A ", MarkupName(markup), " doc is shown as text: ", html.status().message()));
  }
  absl::MutexLock lock(&mu_);
  ++conversions_;
  if (!html.ok()) ++failures_;
  // A timeout may be the machine's load, not the doc's fault: tried again
  // next time (a release's conversions have a budget, release_files.h).
  const bool keep = !absl::IsDeadlineExceeded(html.status());
  const size_t bytes = CachedBytes(key, html);
  if (keep && bytes <= options_.cache_bytes && !index_.contains(key)) {
    lru_.push_front(Cached{key, html});
    index_.emplace(key, lru_.begin());
    cached_bytes_ += bytes;
    while (cached_bytes_ > options_.cache_bytes) {
      const Cached& last = lru_.back();
      cached_bytes_ -= last.key.size() +
                       (last.html.ok() ? last.html->size() : last.html.status().message().size());
      index_.erase(last.key);
      lru_.pop_back();
    }
  }
  return html;
}

absl::StatusOr<std::string> MarkupConverters::Run(Markup markup, const Converter& converter,
                                                  absl::string_view content) const {
  absl::StatusOr<SandboxResult> ran =
      RunSandboxed(converter.argv, content, options_.limits, isolation_);
  if (!ran.ok()) return ran.status();
  if (ran->exit_code != 0) {
    const absl::string_view first_line =
        absl::string_view(ran->errors).substr(0, ran->errors.find('\n'));
    return absl::InternalError(absl::StrCat(
        converter.argv[0], " exited with ",
        ran->exit_code < 0 ? std::string("a signal") : absl::StrCat("code ", ran->exit_code),
        first_line.empty() ? "" : ": ", first_line.substr(0, 200)));
  }
  if (markup == Markup::kRst) return std::string(BodyOf(ran->output));
  return std::move(ran->output);
}

nlohmann::json MarkupConverters::Status() const {
  nlohmann::json status = nlohmann::json::object();
  for (const auto& [markup, converter] : converters_) {
    nlohmann::json entry = {{"available", !converter.argv.empty()}};
    if (converter.argv.empty()) {
      entry["why"] = converter.why;
    } else {
      entry["command"] = converter.argv[0];
    }
    status[std::string(MarkupName(markup))] = std::move(entry);
  }
  status["isolation"] = {{"network", isolation_.network}, {"filesystem", isolation_.filesystem}};
  absl::MutexLock lock(&mu_);
  status["conversions"] = conversions_;
  status["failures"] = failures_;
  status["cache_hits"] = cache_hits_;
  return status;
}

}  // namespace pgxn::indexer
