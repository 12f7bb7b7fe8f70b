#include "indexer/derived/api_documents.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "indexer/derived/version_order.h"

namespace pgxn::indexer {
namespace {

using Json = nlohmann::json;

std::string Str(const Json& doc, const char* key) {
  if (!doc.is_object()) return "";
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

// A release's lists as they appear in dist, user and tag files:
// {"stable": [{"version","date"}...], ...}.
struct Newest {
  std::string version, date;
};

}  // namespace

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
      const std::string docfile = ArchivePathOf(Str(spec, "docfile"));
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
