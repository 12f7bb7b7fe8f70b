#include "site/info_pages.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/utf8.h"
#include "gateway/status_http.h"
#include "indexer/docs/tree_layout.h"
#include "site/format.h"

namespace pgxn::site {
namespace {

using nlohmann::json;

std::string Str(const json& doc, const char* key) { return indexer::JsonString(doc, key); }

bool IsUnderline(absl::string_view line, char c) {
  return line.size() >= 3 && line.find_first_not_of(c) == absl::string_view::npos;
}

// "Terms used below" → "terms-used-below".
std::string Anchor(absl::string_view heading) {
  std::string id;
  for (char c : heading) {
    if (absl::ascii_isalnum(c)) {
      id += absl::ascii_tolower(c);
    } else if (!id.empty() && id.back() != '-') {
      id += '-';
    }
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id;
}

}  // namespace

Page ProsePage(absl::string_view view) {
  Page page;
  page.view = std::string(view);
  if (view == "about") {
    page.title = "About PGXN";
    page.description = "What PGXN, the PostgreSQL Extension Network, is and how this node serves it.";
  } else if (view == "faq") {
    page.title = "Frequently asked questions";
    page.description = "Answers to common questions about PGXN and its extensions.";
  } else {
    page.title = "Following releases";
    page.description = "How to hear of every new release on PGXN: the Atom feed and pgxnd tail.";
    page.recent_feed = true;
  }
  return page;
}

absl::StatusOr<Page> MirroringPage(const Catalog& catalog) {
  absl::StatusOr<json> mirrors = catalog.Json("meta/mirrors.json");
  if (!mirrors.ok() && !absl::IsNotFound(mirrors.status())) return mirrors.status();
  json list = json::array();
  if (mirrors.ok() && mirrors->is_array()) {
    for (const json& mirror : *mirrors) {
      json item{{"uri", Str(mirror, "uri")},
                {"location", Str(mirror, "location")},
                {"organization", Str(mirror, "organization")},
                {"frequency", Str(mirror, "frequency")},
                {"bandwidth", Str(mirror, "bandwidth")}};
      const std::string uri = Str(mirror, "uri");
      if (IsWebUrl(uri)) {
        item["url"] = uri;
      }
      list.push_back(std::move(item));
    }
  }
  Page page;
  page.view = "mirroring";
  page.title = "Mirroring PGXN";
  page.description = "How to run a PGXN mirror with pgxnd, and the mirrors of the network.";
  page.data["mirrors"] = std::move(list);
  return page;
}

absl::StatusOr<Page> SpecPage(const Catalog& catalog) {
  absl::StatusOr<std::string> text = catalog.Text("meta/spec.txt");
  if (absl::IsNotFound(text.status())) {
    return NotFoundPage("This node holds no Meta Spec yet (meta/spec.txt).");
  }
  if (!text.ok()) return text.status();
  Page page;
  page.view = "spec";
  page.title = "PGXN Meta Spec";
  page.description = "What a PGXN distribution's META.json must contain.";
  std::vector<std::string> lines = absl::StrSplit(base::ToValidUtf8(*text), '\n');
  json sections = json::array();
  json current{{"heading", ""}, {"blocks", json::array()}};
  std::string block;
  bool preformatted = false;
  auto flush_block = [&] {
    if (!block.empty()) {
      current["blocks"].push_back(json{{"text", block}, {"pre", preformatted}});
    }
    block.clear();
    preformatted = false;
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const bool heading = i + 1 < lines.size() && !line.empty() &&
                         (IsUnderline(lines[i + 1], '-') || IsUnderline(lines[i + 1], '='));
    if (heading) {
      flush_block();
      if (IsUnderline(lines[i + 1], '=')) {
        page.data["spec_title"] = line;
      } else {
        if (!current["blocks"].empty() || !current["heading"].get<std::string>().empty()) {
          sections.push_back(std::move(current));
        }
        current = json{{"heading", line}, {"id", Anchor(line)}, {"blocks", json::array()}};
      }
      ++i;
      continue;
    }
    if (absl::StripAsciiWhitespace(line).empty()) {
      flush_block();
      continue;
    }
    // Aligned columns or indented lines read as they were laid out.
    if (absl::StartsWith(line, " ") || absl::StrContains(line, "   ") || line.front() == '{' ||
        line.front() == '}') {
      preformatted = true;
    }
    if (!block.empty()) block += '\n';
    block += line;
  }
  flush_block();
  sections.push_back(std::move(current));
  page.data["sections"] = std::move(sections);
  return page;
}

absl::StatusOr<Page> SourcePage(const indexer::SourceHandler& source,
                                const gateway::Request& request, size_t max_inline_bytes) {
  // A file shown without its text (a binary one, or text too large to
  // show) needs only what the release's index says of it: its bytes are
  // not read.
  const std::optional<indexer::SourceFileInfo> info = source.FileInfo(request.path);
  const bool without_text =
      info.has_value() &&
      (!absl::StartsWith(info->media_type, "text/plain") || info->size > max_inline_bytes);
  gateway::Response response;
  if (without_text) {
    response.SetHeader("Content-Type", info->media_type);
  } else {
    gateway::Request inner;
    inner.method = "GET";
    inner.path = request.path;
    inner.target = request.target;
    inner.headers.emplace_back("accept", "application/json");
    response = source.Handle(inner);
  }
  if (response.status == 503) {
    // Too many large files are being read at once.
    Page busy = NotFoundPage("This node is busy reading other large files; try again shortly.");
    busy.status = 503;
    busy.title = "Busy";
    return busy;
  }
  if (response.status == 301) {
    std::string location(response.Header("Location"));
    return Redirect(301, location);
  }
  if (response.status == 404) {
    return NotFoundPage(absl::StrCat("No archive file at ", base::ToValidUtf8(request.path), "."));
  }
  if (response.status != 200) {
    return absl::InternalError(absl::StrCat("/src/ answered ", response.status, ": ",
                                            base::ToValidUtf8(response.body)));
  }
  // /src/{dist}/{dist}-{version}/{path}
  std::vector<std::string> parts = absl::StrSplit(request.path.substr(1), '/');
  Page page;
  json& d = page.data;
  const std::string dist = parts.size() > 1 ? parts[1] : "";
  const std::string release = parts.size() > 2 ? parts[2] : "";
  d["dist"] = dist;
  d["release"] = release;
  d["dist_url"] = DistUrl(dist);
  std::string version = release.size() > dist.size() ? release.substr(dist.size() + 1) : "";
  d["release_url"] = ReleaseUrl(dist, version);
  // Breadcrumbs through the archive's directories.
  json crumbs = json::array();
  std::string url = absl::StrCat("/src/", UrlSegment(dist), "/", UrlSegment(release), "/");
  crumbs.push_back(json{{"name", release}, {"url", url}});
  for (size_t i = 3; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    url += UrlSegment(parts[i]);
    const bool last = i + 1 == parts.size() || (i + 2 == parts.size() && parts.back().empty());
    if (!last || absl::EndsWith(request.path, "/")) url += "/";
    crumbs.push_back(json{{"name", parts[i]}, {"url", url}});
  }
  d["crumbs"] = std::move(crumbs);
  const std::string where = absl::StrJoin(
      std::vector<std::string>(parts.begin() + std::min<size_t>(2, parts.size()), parts.end()), "/");
  page.title = base::ToValidUtf8(where);
  page.description = absl::StrCat("The files of ", base::ToValidUtf8(release), " as released.");
  const absl::string_view type = response.Header("Content-Type");
  if (absl::StartsWith(type, "application/json")) {
    page.view = "source_dir";
    json listing = json::parse(response.body, nullptr, false);
    json entries = json::array();
    if (listing.is_array()) {
      for (const json& entry : listing) {
        const std::string name = Str(entry, "name");
        const std::string kind = Str(entry, "type");
        json item{{"name", name}, {"type", kind}};
        item["url"] = UrlSegment(name) + (kind == "directory" ? "/" : "");
        item["is_dir"] = kind == "directory";
        if (kind == "link") {
          item["target"] = Str(entry, "target");
          if (Str(entry, "resolved_type") == "directory") item["url"] = UrlSegment(name) + "/";
        }
        if (kind != "directory" && entry.contains("size") && entry["size"].is_number_unsigned()) {
          item["size"] = HumanSize(entry["size"].get<uint64_t>());
        }
        entries.push_back(std::move(item));
      }
    }
    d["entries"] = std::move(entries);
    d["below_top"] = parts.size() > 4;
  } else {
    page.view = "source_file";
    const uint64_t size = without_text ? info->size : response.body.size();
    d["name"] = parts.back();
    d["size"] = HumanSize(size);
    d["raw_url"] = absl::StrCat(UrlSegment(parts.back()), "?raw=1");
    if (absl::StartsWith(type, "text/plain") && size > max_inline_bytes) {
      d["too_large"] = HumanSize(max_inline_bytes);
    } else if (absl::StartsWith(type, "text/plain")) {
      d["text"] = response.body;  // escaped by the template
      d["lines"] = std::count(response.body.begin(), response.body.end(), '\n') +
                   (!response.body.empty() && response.body.back() != '\n' ? 1 : 0);
    } else {
      d["binary"] = std::string(type);
    }
  }
  return page;
}

}  // namespace pgxn::site
