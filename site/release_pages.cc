#include "site/release_pages.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/escape.h"
#include "indexer/docs/tree_layout.h"
#include "site/format.h"

namespace pgxn::site {
namespace {

using nlohmann::json;

constexpr const char* kStatuses[] = {"stable", "testing", "unstable"};

std::string Str(const json& doc, const char* key) { return indexer::JsonString(doc, key); }

json Link(const std::string& url) {
  json link{{"text", url}};
  if (IsWebUrl(url)) link["url"] = url;
  return link;
}

// The release list entry of `version` (exact, then ASCII case-insensitive)
// and its status; nullptr when the dist has no such release.
// The releases of `status` in a dist document; an empty array if none.
const json& ReleasesOf(const json& dist_doc, const char* status) {
  static const json* const kNone = new json(json::array());
  const auto releases = dist_doc.find("releases");
  if (releases == dist_doc.end() || !releases->is_object()) return *kNone;
  const auto list = releases->find(status);
  return list == releases->end() || !list->is_array() ? *kNone : *list;
}

const json* FindRelease(const json& dist_doc, absl::string_view version, std::string* status) {
  for (bool exact : {true, false}) {
    for (const char* name : kStatuses) {
      for (const json& entry : ReleasesOf(dist_doc, name)) {
        const std::string v = Str(entry, "version");
        if (exact ? v == version : absl::EqualsIgnoreCase(v, version)) {
          *status = name;
          return &entry;
        }
      }
    }
  }
  return nullptr;
}

absl::StatusOr<json> ReadDist(const Catalog& catalog, absl::string_view dist) {
  return catalog.Json(absl::StrCat("dist/", TreeName(dist), ".json"));
}

json ReleaseGroups(const json& dist_doc, const std::string& name, const std::string& current) {
  json groups = json::array();
  for (const char* status : kStatuses) {
    const json& list = ReleasesOf(dist_doc, status);
    if (list.empty()) continue;
    json versions = json::array();
    for (const json& entry : list) {
      const std::string version = Str(entry, "version");
      versions.push_back(json{{"version", version},
                              {"url", ReleaseUrl(name, version)},
                              {"date", DateValue(Str(entry, "date"))},
                              {"current", version == current}});
    }
    groups.push_back(json{{"status", status}, {"versions", std::move(versions)}});
  }
  return groups;
}

json Prereqs(const json& meta) {
  json phases = json::array();
  if (!meta.contains("prereqs") || !meta["prereqs"].is_object()) return phases;
  for (const auto& [phase, relations] : meta["prereqs"].items()) {
    if (!relations.is_object()) continue;
    for (const auto& [relation, names] : relations.items()) {
      if (!names.is_object()) continue;
      json items = json::array();
      for (const auto& [name, version] : names.items()) {
        json item{{"name", name}};
        const std::string v = version.is_string() ? version.get<std::string>() : version.dump();
        if (v != "0") item["version"] = v;
        if (!absl::EqualsIgnoreCase(name, "PostgreSQL")) {
          item["url"] = ExtensionUrl(name);
        }
        items.push_back(std::move(item));
      }
      phases.push_back(json{{"phase", phase}, {"relation", relation}, {"items", std::move(items)}});
    }
  }
  return phases;
}

json Resources(const json& meta) {
  json out = json::object();
  const json& resources = meta.value("resources", json::object());
  if (!resources.is_object()) return out;
  if (std::string homepage = Str(resources, "homepage"); !homepage.empty()) {
    out["homepage"] = Link(homepage);
  }
  if (const json& bugs = resources.value("bugtracker", json::object()); bugs.is_object()) {
    if (std::string web = Str(bugs, "web"); !web.empty()) out["bugtracker"] = Link(web);
    if (std::string mailto = Str(bugs, "mailto"); !mailto.empty()) {
      out["bugmail"] = json{{"text", mailto}};
      if (mailto.find_first_of(" \t\"<>:") == std::string::npos) {
        out["bugmail"]["url"] = "mailto:" + mailto;
      }
    }
  }
  if (const json& repo = resources.value("repository", json::object()); repo.is_object()) {
    if (std::string web = Str(repo, "web"); !web.empty()) out["repository"] = Link(web);
    if (std::string url = Str(repo, "url"); !url.empty()) {
      out["repository_url"] = url;
      if (std::string type = Str(repo, "type"); !type.empty()) out["repository_type"] = type;
    }
  }
  out["any"] = !out.empty();
  return out;
}

}  // namespace

absl::StatusOr<bool> IsReleaseOf(const Catalog& catalog, absl::string_view dist,
                                 absl::string_view segment) {
  absl::StatusOr<json> dist_doc = ReadDist(catalog, dist);
  if (absl::IsNotFound(dist_doc.status())) return false;
  if (!dist_doc.ok()) return dist_doc.status();
  std::string status;
  return FindRelease(*dist_doc, segment, &status) != nullptr;
}

absl::StatusOr<Page> DistPage(const Catalog& catalog, absl::string_view dist,
                              absl::string_view version) {
  absl::StatusOr<json> dist_doc = ReadDist(catalog, dist);
  if (absl::IsNotFound(dist_doc.status())) {
    return NotFoundPage(absl::StrCat("There is no distribution named “", dist, "”."));
  }
  if (!dist_doc.ok()) return dist_doc.status();
  const std::string name = Str(*dist_doc, "name");
  const std::string shown = Str(*dist_doc, "version");
  json meta;
  std::string status;
  if (version.empty()) {
    meta = *dist_doc;
    FindRelease(*dist_doc, shown, &status);
  } else {
    const json* entry = FindRelease(*dist_doc, version, &status);
    if (entry == nullptr) {
      return NotFoundPage(absl::StrCat(name, " has no release “", version, "”."));
    }
    absl::StatusOr<json> release = catalog.Json(
        absl::StrCat(indexer::ReleaseDir(name, Str(*entry, "version")), "META.json"));
    if (absl::IsNotFound(release.status())) {
      return NotFoundPage(absl::StrCat(name, " has no release “", version, "”."));
    }
    if (!release.ok()) return release.status();
    meta = *std::move(release);
  }
  const std::string v = Str(meta, "version");
  if (status.empty()) status = Str(meta, "release_status");
  const std::string dir = indexer::ReleaseDir(name, v);

  Page page;
  page.view = "dist";
  page.title = absl::StrCat(name, " ", v);
  page.description = Str(meta, "abstract").empty() ? absl::StrCat(name, " on PGXN")
                                                   : Str(meta, "abstract");
  json& d = page.data;
  d["name"] = name;
  d["version"] = v;
  d["status"] = status;
  d["prerelease"] = status != "stable";
  d["date"] = DateValue(Str(meta, "date"));
  d["abstract"] = Str(meta, "abstract");
  d["description"] = Str(meta, "description");
  d["dist_url"] = DistUrl(name);
  d["release_url"] = ReleaseUrl(name, v);
  d["maintainers"] = MaintainerList(meta.value("maintainer", json()));
  d["licenses"] = LicenseList(meta.value("license", json()));
  d["resources"] = Resources(meta);
  if (std::string user = Str(meta, "user"); !user.empty()) {
    d["user"] = json{{"nickname", user}, {"url", UserUrl(user)}};
  }

  json tags = json::array();
  for (const json& tag : meta.value("tags", json::array())) {
    if (!tag.is_string()) continue;
    tags.push_back(json{{"tag", tag},
                        {"url", TagUrl(tag.get<std::string>())}});
  }
  d["tags"] = std::move(tags);
  d["prereqs"] = Prereqs(meta);

  const json docs = meta.value("docs", json::object());
  json provides = json::array();
  std::vector<std::string> extension_docs;
  if (const json& p = meta.value("provides", json::object()); p.is_object()) {
    for (const auto& [extension, spec] : p.items()) {
      json item{{"extension", extension},
                {"version", Str(spec, "version")},
                {"abstract", Str(spec, "abstract")},
                {"url", ExtensionUrl(extension)}};
      if (std::string docpath = Str(spec, "docpath"); !docpath.empty()) {
        item["doc_url"] = DocUrl(name, v, docpath);
        extension_docs.push_back(docpath);
      }
      provides.push_back(std::move(item));
    }
  }
  d["provides"] = std::move(provides);

  json other_docs = json::array();
  bool has_readme = false;
  if (docs.is_object()) {
    for (const auto& [docpath, info] : docs.items()) {
      if (docpath == "README") {
        has_readme = true;
        continue;
      }
      if (std::find(extension_docs.begin(), extension_docs.end(), docpath) !=
          extension_docs.end()) {
        continue;
      }
      other_docs.push_back(json{{"title", Str(info, "title").empty() ? docpath : Str(info, "title")},
                                {"abstract", Str(info, "abstract")},
                                {"url", DocUrl(name, v, docpath)}});
    }
  }
  d["other_docs"] = std::move(other_docs);

  json special = json::array();
  for (const json& file : meta.value("special_files", json::array())) {
    if (!file.is_string()) continue;
    special.push_back(json{{"name", file}, {"url", SourceUrl(name, v) + UrlSegment(file)}});
  }
  d["special_files"] = std::move(special);
  d["source_url"] = SourceUrl(name, v);
  d["release_groups"] = ReleaseGroups(*dist_doc, name, v);

  const std::string zip = indexer::ZipPath(dir, meta);
  json download{{"url", "/" + base::PercentEncodePath(zip)},
                {"file", zip.substr(zip.rfind('/') + 1)},
                {"sha1", Str(meta, "sha1")},
                {"sha256", Str(meta, "sha256")}};
  if (absl::StatusOr<uint64_t> size = catalog.FileSize(zip); size.ok()) {
    download["size"] = HumanSize(*size);
    download["bytes"] = *size;
  }
  d["download"] = std::move(download);
  std::string install = "pgxn install ";
  if (status == "testing") install += "--testing ";
  if (status == "unstable") install += "--unstable ";
  install += v == shown ? name : name + "=" + v;
  d["install"] = install;

  if (has_readme) {
    absl::StatusOr<std::string> readme = catalog.Text(dir + "README.html");
    if (readme.ok()) d["readme_html"] = FitDocIntoPage(*readme, 2);
  }
  return page;
}

absl::StatusOr<Page> DocPage(const Catalog& catalog, absl::string_view dist,
                             absl::string_view version, absl::string_view docpath) {
  absl::StatusOr<json> dist_doc = ReadDist(catalog, dist);
  if (absl::IsNotFound(dist_doc.status())) {
    return NotFoundPage(absl::StrCat("There is no distribution named “", dist, "”."));
  }
  if (!dist_doc.ok()) return dist_doc.status();
  const std::string name = Str(*dist_doc, "name");
  std::string v = Str(*dist_doc, "version");
  std::string status;
  if (!version.empty()) {
    const json* entry = FindRelease(*dist_doc, version, &status);
    if (entry == nullptr) {
      return NotFoundPage(absl::StrCat(name, " has no release “", version, "”."));
    }
    v = Str(*entry, "version");
  } else {
    FindRelease(*dist_doc, v, &status);
  }
  const std::string dir = indexer::ReleaseDir(name, v);
  absl::StatusOr<json> meta = catalog.Json(dir + "META.json");
  if (!meta.ok() && !absl::IsNotFound(meta.status())) return meta.status();
  const json docs = meta.ok() ? meta->value("docs", json::object()) : json::object();
  const std::string key(docpath);
  if (!docs.is_object() || !docs.contains(key)) {
    return NotFoundPage(absl::StrCat(name, " ", v, " has no document “", docpath, "”."));
  }
  absl::StatusOr<std::string> html = catalog.Text(absl::StrCat(dir, docpath, ".html"));
  if (absl::IsNotFound(html.status())) {
    return NotFoundPage(absl::StrCat(name, " ", v, " has no document “", docpath, "”."));
  }
  if (!html.ok()) return html.status();

  const json& info = docs[key];
  const std::string title = Str(info, "title").empty() ? key : Str(info, "title");
  Page page;
  page.view = "doc";
  page.title = absl::StrCat(title, " — ", name, " ", v);
  page.description = Str(info, "abstract").empty() ? Str(*meta, "abstract") : Str(info, "abstract");
  if (page.description.empty()) page.description = absl::StrCat(title, ", from ", name, " ", v);
  json& d = page.data;
  d["title"] = title;
  d["abstract"] = Str(info, "abstract");
  d["name"] = name;
  d["version"] = v;
  d["status"] = status;
  d["prerelease"] = !status.empty() && status != "stable";
  d["dist_url"] = DistUrl(name);
  d["release_url"] = ReleaseUrl(name, v);
  d["date"] = DateValue(Str(*meta, "date"));
  d["doc_html"] = FitDocIntoPage(*html, 1);
  return page;
}

absl::StatusOr<Page> ExtensionRedirect(const Catalog& catalog, absl::string_view extension) {
  absl::StatusOr<json> doc = catalog.Json(absl::StrCat("extension/", TreeName(extension), ".json"));
  if (absl::IsNotFound(doc.status())) {
    return NotFoundPage(absl::StrCat("There is no extension named “", extension, "”."));
  }
  if (!doc.ok()) return doc.status();
  const std::string latest = Str(*doc, "latest");
  const json& entry = doc->value(latest, json::object());
  const std::string dist = Str(entry, "dist");
  if (dist.empty()) {
    return NotFoundPage(absl::StrCat("There is no extension named “", extension, "”."));
  }
  const std::string version = Str(entry, "version");
  if (std::string docpath = Str(entry, "docpath"); !docpath.empty() && !version.empty()) {
    return Redirect(302, DocUrl(dist, version, docpath));
  }
  return Redirect(302, DistUrl(dist));
}

}  // namespace pgxn::site
