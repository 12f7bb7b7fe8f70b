#include "site/site.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "base/log.h"
#include "base/utf8.h"
#include "gateway/compression.h"
#include "gateway/path.h"
#include "gateway/recent_feed.h"
#include "gateway/topic_feed.h"
#include "gateway/status_http.h"
#include "gateway/tree_handler.h"
#include "site/format.h"
#include "site/info_pages.h"
#include "site/listing_pages.h"
#include "site/release_pages.h"
#include "site/site_files.h"

namespace pgxn::site {
namespace {

using nlohmann::json;

constexpr char kNavigation[][2][16] = {
    {"/recent/", "Recent"}, {"/tags/", "Tags"},   {"/users/", "Users"},
    {"/feeds/", "Feeds"},   {"/about/", "About"}, {"/faq/", "FAQ"},
};

// pgxn.org's old addresses of pages that moved.
constexpr char kLegacy[][2][24] = {
    {"/contact.html", "/about/"},  {"/about.html", "/about/"},
    {"/mirroring.html", "/mirroring/"}, {"/faq.html", "/faq/"},
    {"/meta/spec.html", "/spec/"}, {"/spec.html", "/spec/"},
};

// Whether an If-None-Match header lists `etag` (weak comparison) or "*".
bool NoneMatchLists(absl::string_view header, absl::string_view etag) {
  absl::ConsumePrefix(&etag, "W/");
  for (absl::string_view tag : absl::StrSplit(header, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    if (tag == "*") return true;
    absl::ConsumePrefix(&tag, "W/");
    if (tag == etag) return true;
    // The gzip variant of a strong tag ("…-gzip") names the same content.
    if (absl::ConsumeSuffix(&tag, "-gzip\"") && absl::StrCat(tag, "\"") == etag) return true;
  }
  return false;
}

// Whether the page at these path segments is a directory on pgxn.org
// (/dist/pair/, /user/theory/, /tags/); /search and *.html are not.
bool TakesASlash(const std::vector<std::string>& parts) {
  const std::string& top = parts[0];
  if (parts.size() == 1) {
    for (const char* page : {"recent", "tags", "users", "about", "faq", "mirroring", "feeds", "spec"}) {
      if (top == page) return true;
    }
    return false;
  }
  if (parts.size() == 2) return top == "user" || top == "tag" || top == "extension" || top == "dist";
  return parts.size() == 3 && top == "dist" && !absl::EndsWith(parts[2], ".html");
}

bool IsTreeDownload(absl::string_view path);

// Whether `path` is answered by a rendered page (whose ETag is the site's),
// not by a file with an ETag of its own (/src/'s ?raw=1 bytes carry their
// sha256, which never matches a page's tag).
bool IsPagePath(absl::string_view path) {
  return !absl::StartsWith(path, "/ui/") && path != "/favicon.ico" && path != "/feeds/recent.atom" &&
         !gateway::IsTopicFeedPath(path) && path != "/meta/spec.txt" &&
         !IsTreeDownload(path);
}

bool IsTreeDownload(absl::string_view path) {
  return absl::StartsWith(path, "/dist/") &&
         (absl::EndsWith(path, ".zip") || absl::EndsWith(path, "/META.json") ||
          absl::EndsWith(path, "/README.txt"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Site>> Site::Create(SiteSources sources) {
  absl::StatusOr<std::unique_ptr<Templates>> templates = Templates::Load(EmbeddedSiteFiles());
  if (!templates.ok()) return templates.status();
  return std::unique_ptr<Site>(new Site(std::move(sources), *std::move(templates)));
}

Site::Site(SiteSources sources, std::unique_ptr<Templates> templates)
    : catalog_(sources),
      templates_(std::move(templates)),
      source_(sources.store),
      tree_(sources.tree) {
  std::string everything = kPageFormat;
  for (const auto& [name, body] : EmbeddedSiteFiles()) {
    absl::StrAppend(&everything, "\n", name, "\n", body.size(), "\n", body);
  }
  fingerprint_ = base::Sha256Hex(everything).substr(0, 16);
  for (const auto& [name, body] : EmbeddedSiteFiles()) {
    absl::string_view file = name;
    if (!absl::ConsumePrefix(&file, "ui/")) continue;
    Asset asset;
    asset.body = body;
    const std::string digest = base::Sha256Hex(body);
    asset.etag = absl::StrCat("\"", digest, "\"");
    asset.media_type = absl::EndsWith(file, ".css")   ? "text/css; charset=utf-8"
                       : absl::EndsWith(file, ".svg") ? "image/svg+xml"
                                                      : "application/octet-stream";
    if (body.size() >= gateway::kMinCompressBytes) {
      asset.gzipped = gateway::Gzip(body).value_or("");
    }
    // Served under its plain name (short-lived) and under a name holding
    // its digest (cached for a year: a new build's pages name a new file).
    const size_t dot = file.rfind('.');
    const std::string fingerprinted = absl::StrCat("/ui/", file.substr(0, dot), ".",
                                                   digest.substr(0, 12), file.substr(dot));
    if (file == "pgxn.css") css_path_ = fingerprinted;
    if (file == "favicon.svg") icon_path_ = fingerprinted;
    assets_.emplace(absl::StrCat("/ui/", file), asset);
    asset.immutable = true;
    assets_.emplace(fingerprinted, std::move(asset));
  }
}

void Site::AddRoutes(gateway::Router* router) const {
  router->HandlePrefix("GET", "/", [this](const gateway::Request& r) { return Handle(r); });
}

gateway::Response Site::Handle(const gateway::Request& request) const {
  if (request.method != "GET" && request.method != "HEAD") {
    gateway::Response response = gateway::TextResponse(405, "Method not allowed\n");
    response.SetHeader("Allow", "GET, HEAD");
    return response;
  }
  // Every 200 page is a function of the served tree and the build: a client
  // holding this seq's page gets a 304 before anything is read.
  const std::string etag = absl::StrCat("W/\"", catalog_.Seq(), "-", fingerprint_, "\"");
  const absl::string_view none_match = request.Header("if-none-match");
  if (!none_match.empty() && NoneMatchLists(none_match, etag) && IsPagePath(request.path)) {
    gateway::Response response;
    response.status = 304;
    response.SetHeader("ETag", etag);
    response.SetHeader("Cache-Control", "no-cache");
    response.SetHeader("Vary", "Accept-Encoding");
    return response;
  }
  gateway::Response direct;
  absl::StatusOr<Page> page;
  try {
    page = Route(request, &direct);
  } catch (const std::exception& e) {
    // A document of an unexpected shape (nlohmann's type errors): the
    // origin signs what it publishes, so this is a bug, shown as one.
    page = absl::InternalError(absl::StrCat("unexpected document: ", e.what()));
  }
  if (!page.ok()) {
    base::LogError(absl::StrCat("site: ", absl::CEscape(request.path), ": ",
                                page.status().ToString()));
    Page error;
    error.status = gateway::HttpStatusFor(page.status());
    if (error.status < 500) error.status = 500;
    error.view = "not_found";
    error.title = "Something went wrong";
    error.description = "This node could not show the page.";
    error.data["message"] = "This node could not show the page; try again shortly.";
    error.data["error"] = true;
    return Render(request, error, etag);
  }
  if (page->view.empty() && page->location.empty()) return direct;
  return Render(request, *page, etag);
}

absl::StatusOr<Page> Site::Route(const gateway::Request& request,
                                 gateway::Response* direct) const {
  const std::string& path = request.path;
  Page none;  // an empty page: `direct` holds the answer
  for (const auto& [from, to] : kLegacy) {
    if (path == from) return Redirect(301, to);
  }
  if (auto asset = assets_.find(path); asset != assets_.end()) {
    *direct = ServeAsset(request, asset->second);
    return none;
  }
  if (path == "/favicon.ico") {
    *direct = ServeAsset(request, assets_.find("/ui/favicon.svg")->second);
    return none;
  }
  if (path == "/feeds/recent.atom") {
    *direct = gateway::ServeRecentFeed(request, *tree_);
    return none;
  }
  if (gateway::IsTopicFeedPath(path)) {
    *direct = gateway::ServeTopicFeed(request, *tree_);
    return none;
  }
  if (path == "/meta/spec.txt" || IsTreeDownload(path)) {
    *direct = gateway::ServeTreeFile(request, *tree_);
    return none;
  }
  if (absl::StartsWith(path, "/src/")) {
    absl::StatusOr<gateway::QueryParams> query = gateway::ParseQuery(request.query);
    if (query.ok() && gateway::FindParam(*query, "raw") != nullptr) {
      *direct = source_.Handle(request);
      return none;
    }
    return SourcePage(source_, request, kMaxInlineSourceBytes);
  }

  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  const size_t n = parts.size();
  if (n == 0) return HomePage(catalog_);
  const std::string& top = parts[0];
  if (!absl::EndsWith(path, "/") && TakesASlash(parts)) {
    // pgxn.org's pages are directories: without the slash, relative links in
    // a README would resolve against the parent (/dist/pair/0.1.0 → doc/x
    // is /dist/pair/doc/x, another release's doc). So the slash is optional
    // for whoever types the address, and the page has one address.
    // Built from the segments, not the raw target: "//host/x" must not
    // become a redirect to another host.
    std::string location;
    for (const std::string& part : parts) absl::StrAppend(&location, "/", UrlSegment(part));
    location += '/';
    if (!request.query.empty()) absl::StrAppend(&location, "?", request.query);
    return Redirect(301, location);
  }
  if (n == 1) {
    if (top == "search") {
      absl::StatusOr<gateway::QueryParams> query = gateway::ParseQuery(request.query);
      if (!query.ok()) {
        Page bad = NotFoundPage(std::string(query.status().message()));
        bad.status = 400;
        bad.title = "Bad request";
        return bad;
      }
      return SearchPage(catalog_, *query);
    }
    if (top == "recent") return RecentPage(catalog_);
    if (top == "tags") return TagsPage(catalog_);
    if (top == "users") {
      absl::StatusOr<gateway::QueryParams> query = gateway::ParseQuery(request.query);
      const std::string* letter = query.ok() ? gateway::FindParam(*query, "c") : nullptr;
      return UsersPage(catalog_, letter == nullptr ? "" : *letter);
    }
    if (top == "about" || top == "faq" || top == "feeds") return ProsePage(top);
    if (top == "mirroring") return MirroringPage(catalog_);
    if (top == "spec") return SpecPage(catalog_);
  }
  if (n == 2 && (top == "user" || top == "tag")) {
    absl::StatusOr<gateway::QueryParams> query = gateway::ParseQuery(request.query);
    const std::string* p = query.ok() ? gateway::FindParam(*query, "p") : nullptr;
    const absl::string_view page = p == nullptr ? "" : absl::string_view(*p);
    return top == "user" ? UserPage(catalog_, parts[1], page) : TagPage(catalog_, parts[1], page);
  }
  if (n == 2 && top == "extension") return ExtensionRedirect(catalog_, parts[1]);
  if (top == "dist" && n >= 2) {
    const std::string& dist = parts[1];
    if (n == 2) return DistPage(catalog_, dist, "");
    const std::string rest = absl::StrJoin(parts.begin() + 2, parts.end(), "/");
    if (n == 3 && !absl::EndsWith(rest, ".html")) return DistPage(catalog_, dist, parts[2]);
    if (absl::EndsWith(rest, ".html") && !absl::EndsWith(path, "/")) {
      if (n > 3) {
        absl::StatusOr<bool> versioned = IsReleaseOf(catalog_, dist, parts[2]);
        if (!versioned.ok()) return versioned.status();
        if (*versioned) {
          const std::string docpath = absl::StrJoin(parts.begin() + 3, parts.end(), "/");
          return DocPage(catalog_, dist, parts[2], docpath.substr(0, docpath.size() - 5));
        }
      }
      return DocPage(catalog_, dist, "", rest.substr(0, rest.size() - 5));
    }
  }
  return NotFoundPage("There is no page at this address.");
}

gateway::Response Site::Render(const gateway::Request& request, const Page& page,
                               const std::string& etag) const {
  gateway::Response response;
  if (!page.location.empty()) {
    response.status = page.status;
    response.SetHeader("Location", page.location);
    response.SetHeader("Content-Type", "text/plain; charset=utf-8");
    response.body = absl::StrCat("See ", page.location, "\n");
    return response;
  }
  absl::StatusOr<std::string> body = templates_->Render(page.view, page.data);
  json layout{{"title", page.title},
              {"description", page.description},
              {"stylesheet", css_path_},
              {"icon", icon_path_},
              {"recent_feed", page.recent_feed},
              {"query", page.query},
              {"is_home", page.view == "home"},
              // The home and search pages have a search form of their own.
              {"own_search", page.view == "home" || page.view == "search"}};
  json nav = json::array();
  for (const auto& [href, label] : kNavigation) {
    // "/tags/" is current on /tags/ and below, not on /tagsx.
    const absl::string_view section = absl::string_view(href).substr(1, std::strlen(href) - 2);
    const absl::string_view first = absl::string_view(request.path).substr(1);
    nav.push_back(json{{"url", href},
                       {"label", label},
                       {"current", first.substr(0, first.find('/')) == section}});
  }
  layout["nav"] = std::move(nav);
  json indexes = json::array();
  for (const char* name : {"docs", "dists", "extensions", "users", "tags"}) {
    indexes.push_back(json{{"name", name},
                           {"selected", page.search_in.empty() ? std::string(name) == "docs"
                                                               : page.search_in == name}});
  }
  layout["indexes"] = std::move(indexes);
  absl::StatusOr<std::string> html;
  if (body.ok()) {
    layout["content"] = *std::move(body);
    html = templates_->Render("layout", layout);
  } else {
    html = body.status();
  }
  if (!html.ok()) {
    base::LogError(absl::StrCat("site: rendering ", page.view, ": ", html.status().ToString()));
    return gateway::TextResponse(500, "The page could not be rendered\n");
  }
  response.status = page.status;
  response.body = *std::move(html);
  response.SetHeader("Content-Type", "text/html; charset=utf-8");
  response.SetHeader("X-Content-Type-Options", "nosniff");
  // Pages run no script and load nothing from elsewhere.
  response.SetHeader("Content-Security-Policy",
                     "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                     "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  response.SetHeader("Referrer-Policy", "same-origin");
  if (page.status == 200) {
    response.SetHeader("ETag", etag);
    response.SetHeader("Cache-Control", "no-cache");
  } else {
    response.SetHeader("Cache-Control", "no-store");
  }
  if (page.status == 503) response.SetHeader("Retry-After", "1");
  gateway::CompressIfAccepted(request, &response);
  return response;
}

gateway::Response Site::ServeAsset(const gateway::Request& request, const Asset& asset) const {
  // The gzipped variant is another representation, with its own strong tag.
  const bool gzip = !asset.gzipped.empty() && gateway::AcceptsGzip(request);
  gateway::Response response;
  response.SetHeader("ETag", gzip ? asset.etag.substr(0, asset.etag.size() - 1) + "-gzip\""
                                  : asset.etag);
  response.SetHeader("Cache-Control", asset.immutable ? "public, max-age=31536000, immutable"
                                                      : "public, max-age=300");
  response.SetHeader("Content-Type", asset.media_type);
  response.SetHeader("X-Content-Type-Options", "nosniff");
  if (!asset.gzipped.empty()) response.SetHeader("Vary", "Accept-Encoding");
  const absl::string_view none_match = request.Header("if-none-match");
  if (!none_match.empty() && NoneMatchLists(none_match, asset.etag)) {
    response.status = 304;
    return response;
  }
  response.body = gzip ? asset.gzipped : asset.body;
  if (gzip) response.SetHeader("Content-Encoding", "gzip");
  return response;
}

}  // namespace pgxn::site
