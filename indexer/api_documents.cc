#include "indexer/api_documents.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "archive/archive.h"
#include "indexer/doc_html.h"
#include "indexer/version_order.h"

namespace pgxn::indexer {
namespace {

using Json = nlohmann::json;

// "./doc/x.md" → "doc/x.md", "test/" → "test": META paths as archive paths.
std::string Normalized(absl::string_view path) {
  while (absl::ConsumePrefix(&path, "./")) {
  }
  while (absl::ConsumeSuffix(&path, "/")) {
  }
  return std::string(path);
}

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
  for (std::string& path : out) path = Normalized(path);
  return out;
}

bool IsSpecialFile(absl::string_view name, absl::string_view dist) {
  for (absl::string_view word : {"Changes", "README", "LICENSE", "INSTALL", "COPYING", "AUTHORS"}) {
    if (name.size() >= word.size() && absl::EqualsIgnoreCase(name.substr(0, word.size()), word) &&
        (name.size() == word.size() || name[word.size()] == '.')) {
      return true;
    }
  }
  return name == "META.json" || name == "Makefile" || name == "MANIFEST" ||
         absl::EqualsIgnoreCase(name, absl::StrCat(dist, ".control"));
}

bool IsReadme(absl::string_view path) {
  const size_t slash = path.rfind('/');
  absl::string_view name = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  return absl::StartsWithIgnoreCase(name, "README");
}

// A release's lists as they appear in dist, user and tag files:
// {"stable": [{"version","date"}...], ...}.
struct Newest {
  std::string version, date;
};

}  // namespace

absl::StatusOr<ReleaseFiles> ReadReleaseFiles(const Json& meta, absl::string_view zip) {
  const std::string name = Str(meta, "name"), version = Str(meta, "version");
  absl::StatusOr<archive::ReadArchiveResult> read =
      archive::ReadArchive(zip, absl::StrCat(name, "-", version, ".zip"), archive::ArchiveLimits());
  if (!read.ok()) return read.status();
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
  ReleaseFiles out;
  for (const archive::ArchiveEntry& entry : read->entries) {
    if (entry.type != archive::ArchiveEntry::Type::kFile) continue;
    absl::string_view path = entry.path;
    if (!absl::ConsumePrefix(&path, prefix) || path.empty()) continue;
    files.emplace_back(std::string(path), &entry.data);
    by_path.emplace(std::string(path), &entry.data);
    if (path.find('/') == absl::string_view::npos && IsSpecialFile(path, name)) {
      out.special_files.emplace_back(path);
    }
  }

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
      const std::string docfile = Normalized(Str(spec, "docfile"));
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
    const Markup markup = MarkupOf(path);
    if (!IsReadme(path) && (markup == Markup::kNone || markup == Markup::kText)) continue;
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

  absl::flat_hash_set<std::string> docpaths;
  for (const Candidate& candidate : candidates) docpaths.insert(DocPath(candidate.path));
  absl::flat_hash_set<std::string> rendered_docpaths;
  size_t rendered_bytes = 0;
  for (const Candidate& candidate : candidates) {
    // Two files with one docpath (README.md and README.txt): the first wins.
    const std::string docpath = DocPath(candidate.path);
    if (!rendered_docpaths.insert(docpath).second) continue;
    // Escaping can make a page several times its source: a release's pages
    // stop at a total that bounds what one hostile archive costs every node.
    if (rendered_bytes >= kMaxRenderedBytesPerRelease) break;
    absl::string_view content = *candidate.content;
    if (content.size() > kMaxDocBytes) content = content.substr(0, kMaxDocBytes);
    RenderedDoc rendered = RenderDoc(candidate.path, content, docpaths);
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

Json EnrichRelease(Json meta, const ReleaseFiles& files) {
  if (!meta.is_object()) return meta;
  Json docs = Json::object();
  for (const ReleaseDoc& doc : files.docs) {
    Json entry = {{"title", doc.title}};
    if (!doc.abstract.empty()) entry["abstract"] = doc.abstract;
    docs[doc.docpath] = std::move(entry);
  }
  meta["docs"] = std::move(docs);
  meta["special_files"] = files.special_files;
  if (auto provides = meta.find("provides"); provides != meta.end() && provides->is_object()) {
    for (auto& [extension, spec] : provides->items()) {
      if (!spec.is_object()) continue;
      // The docfile's doc, else a doc named for the extension (doc/pair.md
      // for pair), as PGXN guesses.
      const std::string docfile = Normalized(Str(spec, "docfile"));
      std::string docpath;
      for (const ReleaseDoc& doc : files.docs) {
        if (!docfile.empty() && doc.path == docfile) docpath = doc.docpath;
      }
      if (docpath.empty() && docfile.empty()) {
        for (const ReleaseDoc& doc : files.docs) {
          const size_t slash = doc.docpath.rfind('/');
          const std::string base =
              slash == std::string::npos ? doc.docpath : doc.docpath.substr(slash + 1);
          if (absl::EqualsIgnoreCase(base, extension)) {
            docpath = doc.docpath;
            break;
          }
        }
      }
      if (!docpath.empty()) spec["docpath"] = docpath;
    }
  }
  return meta;
}

std::string ShownVersion(const Json& dist_file) {
  auto releases = dist_file.is_object() ? dist_file.find("releases") : dist_file.end();
  if (!dist_file.is_object() || releases == dist_file.end() || !releases->is_object()) return "";
  for (const char* status : {"stable", "testing", "unstable"}) {
    auto list = releases->find(status);
    if (list == releases->end() || !list->is_array()) continue;
    Newest newest;
    for (const Json& release : *list) {
      const std::string v = Str(release, "version"), d = Str(release, "date");
      if (v.empty()) continue;
      if (newest.version.empty() || d > newest.date ||
          (d == newest.date && VersionBefore(newest.version, v))) {
        newest = {v, d};
      }
    }
    if (!newest.version.empty()) return newest.version;
  }
  return "";
}

Json EnrichDist(const Json& dist_file, Json shown_release) {
  if (!shown_release.is_object()) return dist_file;
  if (auto releases = dist_file.find("releases"); releases != dist_file.end()) {
    shown_release["releases"] = *releases;
  }
  return shown_release;
}

Json EnrichExtension(
    Json extension_file,
    const std::function<Json(const std::string& dist, const std::string& version)>& release) {
  if (!extension_file.is_object()) return extension_file;
  const std::string extension = Str(extension_file, "extension");
  // One lookup per release, however many entries name it.
  absl::flat_hash_map<std::string, Json> cache;
  auto meta = [&](const std::string& dist, const std::string& version) -> const Json& {
    const std::string key = absl::StrCat(dist, "\n", version);
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, release(dist, version)).first;
    return it->second;
  };
  for (auto& [key, value] : extension_file.items()) {
    if (key == "versions" && value.is_object()) {
      for (auto& [version, entries] : value.items()) {
        if (!entries.is_array()) continue;
        for (Json& entry : entries) {
          const std::string date = Str(meta(Str(entry, "dist"), Str(entry, "version")), "date");
          if (!date.empty()) entry["date"] = date;
        }
      }
      continue;
    }
    if (!value.is_object() || !value.contains("dist")) continue;
    const Json& release_meta = meta(Str(value, "dist"), Str(value, "version"));
    if (!release_meta.is_object()) continue;
    auto provides = release_meta.find("provides");
    if (provides == release_meta.end() || !provides->is_object()) continue;
    for (const auto& [name, spec] : provides->items()) {
      if (!absl::EqualsIgnoreCase(name, extension)) continue;
      if (std::string abstract = Str(spec, "abstract"); !abstract.empty()) {
        value["abstract"] = abstract;
      }
      if (std::string docpath = Str(spec, "docpath"); !docpath.empty()) {
        value["docpath"] = docpath;
      }
    }
  }
  return extension_file;
}

Json EnrichReleaseLists(Json file, const std::function<std::string(const std::string&)>& abstract) {
  if (!file.is_object()) return file;
  auto releases = file.find("releases");
  if (releases == file.end() || !releases->is_object()) return file;
  for (auto& [dist, lists] : releases->items()) {
    if (!lists.is_object()) continue;
    if (std::string text = abstract(dist); !text.empty()) lists["abstract"] = text;
  }
  return file;
}

std::string UserListPath(absl::string_view nickname) {
  if (nickname.empty()) return "";
  return absl::StrCat("users/", absl::AsciiStrToLower(nickname.substr(0, 1)), ".json");
}

Json UpdateUserList(const Json& list, const std::string& nickname,
                    const absl::optional<std::string>& name) {
  Json out = Json::array();
  if (list.is_array()) {
    for (const Json& entry : list) {
      if (entry.is_object() && Str(entry, "user") != nickname) out.push_back(entry);
    }
  }
  if (name.has_value()) out.push_back({{"user", nickname}, {"name", *name}});
  std::sort(out.begin(), out.end(),
            [](const Json& a, const Json& b) { return Str(a, "user") < Str(b, "user"); });
  return out;
}

}  // namespace pgxn::indexer
