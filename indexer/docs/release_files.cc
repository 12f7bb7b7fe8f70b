#include "indexer/docs/release_files.h"

#include <functional>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "archive/archive.h"
#include "indexer/docs/doc_html.h"
#include "indexer/docs/source_index.h"

namespace pgxn::indexer {
namespace {

using Json = nlohmann::json;

std::string Str(const Json& doc, const char* key) {
  if (!doc.is_object()) return "";
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

// META's no_index.file or no_index.directory: a string or a list of strings.
std::vector<std::string> NoIndexList(const Json& meta, const char* key) {
  std::vector<std::string> out;
  auto no_index = meta.find("no_index");
  if (no_index == meta.end() || !no_index->is_object()) return out;
  auto it = no_index->find(key);
  if (it == no_index->end()) return out;
  if (it->is_string()) out.push_back(it->get<std::string>());
  if (it->is_array()) {
    for (const Json& item : *it) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    }
  }
  for (std::string& path : out) path = ArchivePathOf(path);
  return out;
}

// Whether `name` is `stem` in any case, alone or with one extension:
// "README", "readme.md", not "README.md.in" or "READMEFIRST".
bool IsStemWithExtension(absl::string_view name, absl::string_view stem) {
  if (name.size() < stem.size() || !absl::EqualsIgnoreCase(name.substr(0, stem.size()), stem)) {
    return false;
  }
  absl::string_view rest = name.substr(stem.size());
  return rest.empty() || (absl::ConsumePrefix(&rest, ".") && !rest.empty() &&
                          rest.find('.') == absl::string_view::npos);
}

// PGXN's special files, in PGXN's order: the first top-level file each
// pattern matches, else the first that matches with ".in" after it (a
// Makefile.in where there is no Makefile).
std::vector<std::string> SpecialFiles(const std::vector<std::string>& top_files,
                                      absl::string_view dist) {
  const std::string control = absl::StrCat(dist, ".control");
  const std::vector<std::function<bool(absl::string_view)>> patterns = {
      [](absl::string_view n) {
        return IsStemWithExtension(n, "Changes") || IsStemWithExtension(n, "ChangeLog");
      },
      [](absl::string_view n) { return IsStemWithExtension(n, "README"); },
      [](absl::string_view n) { return IsStemWithExtension(n, "LICENSE"); },
      [](absl::string_view n) { return IsStemWithExtension(n, "COPYING"); },
      [](absl::string_view n) { return IsStemWithExtension(n, "INSTALL"); },
      [](absl::string_view n) { return IsStemWithExtension(n, "AUTHORS"); },
      [](absl::string_view n) { return n == "META.json"; },
      [](absl::string_view n) { return n == "Makefile"; },
      [](absl::string_view n) { return n == "MANIFEST"; },
      [&control](absl::string_view n) { return absl::EqualsIgnoreCase(n, control); },
  };
  std::vector<std::string> out;
  for (const auto& matches : patterns) {
    auto found = absl::c_find_if(top_files, [&](const std::string& n) { return matches(n); });
    if (found == top_files.end()) {
      found = absl::c_find_if(top_files, [&](const std::string& n) {
        absl::string_view stem = n;
        return absl::ConsumeSuffix(&stem, ".in") && matches(stem);
      });
    }
    if (found != top_files.end()) out.push_back(*found);
  }
  return out;
}

// The README PGXN shows for a release: at its top, "README" with at most one
// extension (not debian/README.Debian, not expected/README).
bool IsReadme(absl::string_view path) {
  return path.find('/') == absl::string_view::npos && IsStemWithExtension(path, "README");
}

}  // namespace

std::string ArchivePathOf(absl::string_view meta_path) {
  while (absl::ConsumePrefix(&meta_path, "./")) {
  }
  while (absl::ConsumeSuffix(&meta_path, "/")) {
  }
  return std::string(meta_path);
}

absl::StatusOr<ReleaseFiles> ReadReleaseFiles(const Json& meta, absl::string_view zip,
                                              const DocConverter* converter) {
  const std::string name = Str(meta, "name"), version = Str(meta, "version");
  absl::StatusOr<archive::ReadArchiveResult> read =
      archive::ReadArchive(zip, absl::StrCat(name, "-", version, ".zip"), archive::ArchiveLimits());
  if (!read.ok()) return read.status();
  ReleaseFiles out;
  out.source_index = EncodeSourceIndex(BuildSourceIndex(zip, read->entries));
  // The origin stores every entry under the lower-cased "name-version/"
  // (PGXN's rule); a zip written otherwise is read under META's spelling.
  std::string prefix = absl::AsciiStrToLower(absl::StrCat(name, "-", version, "/"));
  if (absl::c_none_of(read->entries, [&](const archive::ArchiveEntry& entry) {
        return absl::StartsWith(entry.path, prefix);
      })) {
    prefix = absl::StrCat(name, "-", version, "/");
  }
  const std::vector<std::string> no_file_list = NoIndexList(meta, "file");
  const std::vector<std::string> no_dir_list = NoIndexList(meta, "directory");
  const absl::flat_hash_set<std::string> no_files(no_file_list.begin(), no_file_list.end());
  const absl::flat_hash_set<std::string> no_dirs(no_dir_list.begin(), no_dir_list.end());
  auto indexed = [&](absl::string_view path) {
    if (no_files.contains(path)) return false;
    for (size_t slash = path.find('/'); slash != absl::string_view::npos;
         slash = path.find('/', slash + 1)) {
      if (no_dirs.contains(path.substr(0, slash))) return false;
    }
    return true;
  };

  // path inside the release → the archive's content.
  std::vector<std::pair<std::string, const std::string*>> files;
  absl::flat_hash_map<std::string, const std::string*> by_path;
  std::vector<std::string> top_files;  // in archive order
  DocContext context;
  context.converter = converter;
  context.source_url = absl::StrCat("/src/", absl::AsciiStrToLower(name), "/", prefix);
  for (const archive::ArchiveEntry& entry : read->entries) {
    absl::string_view path = entry.path;
    if (!absl::ConsumePrefix(&path, prefix) || path.empty()) continue;
    for (size_t slash = path.find('/'); slash != absl::string_view::npos;
         slash = path.find('/', slash + 1)) {
      context.directories.emplace(path.substr(0, slash));
    }
    if (!entry.ReadsAsFile()) {  // a link to a file reads as that file
      context.directories.emplace(path);
      continue;
    }
    context.files.emplace(path);
    files.emplace_back(std::string(path), &entry.data);
    by_path.emplace(std::string(path), &entry.data);
    if (path.find('/') == absl::string_view::npos) top_files.emplace_back(path);
  }
  out.special_files = SpecialFiles(top_files, name);

  // Which files are docs, each extension's docfile first with its title and
  // abstract.
  struct Candidate {
    std::string path, title, abstract;
    const std::string* content;
  };
  std::vector<Candidate> candidates;
  absl::flat_hash_set<std::string> taken;
  auto find = [&](const std::string& path) -> const std::string* {
    auto it = by_path.find(path);
    return it == by_path.end() ? nullptr : it->second;
  };
  if (auto provides = meta.find("provides"); provides != meta.end() && provides->is_object()) {
    for (const auto& [extension, spec] : provides->items()) {
      const std::string docfile = ArchivePathOf(Str(spec, "docfile"));
      const std::string* content = docfile.empty() ? nullptr : find(docfile);
      if (content == nullptr || !indexed(docfile) || !taken.insert(docfile).second) continue;
      candidates.push_back({docfile, extension, Str(spec, "abstract"), content});
    }
  }
  // An extension without a docfile is documented by the doc named for it
  // (doc/pair.md for pair), as EnrichRelease guesses its docpath.
  absl::flat_hash_map<std::string, std::pair<std::string, std::string>> undocumented;
  if (auto provides = meta.find("provides"); provides != meta.end() && provides->is_object()) {
    for (const auto& [extension, spec] : provides->items()) {
      if (Str(spec, "docfile").empty()) {
        undocumented.emplace(absl::AsciiStrToLower(extension),
                             std::make_pair(extension, Str(spec, "abstract")));
      }
    }
  }
  for (const auto& [path, content] : files) {
    if (taken.contains(path) || !indexed(path)) continue;
    if (!IsReadme(path) && !IsDocByName(path)) continue;
    taken.insert(path);
    const std::string docpath = DocPath(path);
    const size_t slash = docpath.rfind('/');
    auto named = undocumented.find(
        absl::AsciiStrToLower(slash == std::string::npos ? docpath : docpath.substr(slash + 1)));
    if (named != undocumented.end() && !IsReadme(path)) {
      candidates.push_back({path, named->second.first, named->second.second, content});
      undocumented.erase(named);
    } else {
      candidates.push_back({path, "", "", content});
    }
  }
  if (candidates.size() > kMaxDocsPerRelease) candidates.resize(kMaxDocsPerRelease);

  for (const Candidate& candidate : candidates) context.docpaths.insert(DocPath(candidate.path));
  absl::flat_hash_set<std::string> rendered_docpaths;
  size_t rendered_bytes = 0;
  absl::Duration converting;
  for (const Candidate& candidate : candidates) {
    // Two files with one docpath (README.md and README.txt): the first wins.
    const std::string docpath = DocPath(candidate.path);
    if (!rendered_docpaths.insert(docpath).second) continue;
    // Escaping can make a page several times its source: a release's pages
    // stop at a total that bounds what one hostile archive costs every node.
    if (rendered_bytes >= kMaxRenderedBytesPerRelease) break;
    absl::string_view content = *candidate.content;
    if (content.size() > kMaxDocBytes) content = content.substr(0, kMaxDocBytes);
    const bool converts = context.converter != nullptr && NeedsConverter(MarkupOf(candidate.path));
    const absl::Time started = converts ? absl::Now() : absl::InfinitePast();
    RenderedDoc rendered = RenderDoc(candidate.path, content, context);
    if (converts) {
      converting += absl::Now() - started;
      if (converting > kMaxConversionTimePerRelease) context.converter = nullptr;
    }
    ReleaseDoc doc;
    doc.path = candidate.path;
    doc.docpath = docpath;
    doc.title = !candidate.title.empty()  ? candidate.title
                : !rendered.title.empty() ? rendered.title
                                          : docpath;
    doc.abstract = candidate.abstract;
    doc.html = std::move(rendered.html);
    doc.text = std::move(rendered.text);
    rendered_bytes += doc.html.size() + doc.text.size();
    out.docs.push_back(std::move(doc));
  }
  return out;
}

}  // namespace pgxn::indexer
