// The indexer's DocConverter: the programs Debian packages, and that each
// markup's community uses, run as sandboxed subprocesses
// (sandboxed_command.h) for the markups pgxn.org renders beyond Markdown and
// HTML:
//   reStructuredText  rst2html5 (docutils; raw and file insertion off)
//   AsciiDoc          asciidoctor (embedded, safe mode "secure")
//   POD               perl with Pod::Simple::XHTML
//   Textile, MediaWiki, Creole   pandoc --sandbox
// Trac and BBCode have no reader in Debian and stay escaped text.
//
// A converter that is not installed is reported once at start (logged) and
// in Status(); its docs stay escaped text. A conversion that fails, times out
// or writes too much is logged with why, and the doc stays escaped text.
// Results, failures included, are cached by the SHA-256 of the markup and
// the content, up to a bound in bytes, so that a release's unchanged docs
// and a rebuild do not run the programs again.
//
// Thread-safe: ToHtml is called from the renderer's threads at once.
#ifndef PGXN_INDEXER_DOCS_MARKUP_CONVERTERS_H_
#define PGXN_INDEXER_DOCS_MARKUP_CONVERTERS_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "indexer/docs/doc_converter.h"
#include "indexer/docs/markup.h"
#include "indexer/docs/sandboxed_command.h"
#include "nlohmann/json.hpp"

namespace pgxn::indexer {

struct ConverterOptions {
  bool enabled = true;  // false: every such doc stays escaped text
  SandboxLimits limits;
  size_t cache_bytes = size_t{64} << 20;
  // Replaces the program for a markup (an argv whose first element is an
  // absolute path; empty: as if none were installed). For tests.
  std::map<Markup, std::vector<std::string>> commands;
};

class MarkupConverters final : public DocConverter {
 public:
  // Finds the programs, probes what isolation the kernel grants, and logs
  // what is missing.
  explicit MarkupConverters(ConverterOptions options);
  ~MarkupConverters() override;

  absl::StatusOr<std::string> ToHtml(Markup markup, absl::string_view content) const override;

  // For /_status: {"rst": {"available": true, "command": "/usr/bin/rst2html5"},
  // ..., "trac": {"available": false, "why": "..."}, "isolation": {"network":
  // true, "filesystem": true}, "conversions": N, "failures": N, "cache_hits": N}.
  nlohmann::json Status() const;

 private:
  struct Converter {
    std::vector<std::string> argv;  // empty: unavailable
    std::string why;                // why unavailable
  };
  struct Cached {
    std::string key;
    absl::StatusOr<std::string> html;
  };

  absl::StatusOr<std::string> Run(Markup markup, const Converter& converter,
                                  absl::string_view content) const;

  const ConverterOptions options_;
  std::map<Markup, Converter> converters_;
  SandboxSupport isolation_;

  mutable absl::Mutex mu_;
  mutable std::list<Cached> lru_ ABSL_GUARDED_BY(mu_);  // most recent first
  mutable absl::flat_hash_map<std::string, std::list<Cached>::iterator> index_ ABSL_GUARDED_BY(mu_);
  mutable size_t cached_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  mutable uint64_t conversions_ ABSL_GUARDED_BY(mu_) = 0;
  mutable uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  mutable uint64_t cache_hits_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pgxn::indexer

#endif  // PGXN_INDEXER_DOCS_MARKUP_CONVERTERS_H_
