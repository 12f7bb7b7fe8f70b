#include "site/listing_pages.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "indexer/docs/tree_layout.h"
#include "site/format.h"

namespace pgxn::site {
namespace {

using nlohmann::json;

std::string Str(const json& doc, const char* key) { return indexer::JsonString(doc, key); }

// A stats file, or an empty object when the tree has none yet.
absl::StatusOr<json> Stats(const Catalog& catalog, absl::string_view name) {
  absl::StatusOr<json> doc = catalog.Json(absl::StrCat("stats/", name, ".json"));
  if (absl::IsNotFound(doc.status())) return json::object();
  return doc;
}

json RecentReleases(const json& dist_stats, size_t limit) {
  json list = json::array();
  for (const json& entry : dist_stats.value("recent", json::array())) {
    if (list.size() >= limit) break;
    const std::string dist = Str(entry, "dist");
    const std::string version = Str(entry, "version");
    list.push_back(json{{"dist", dist},
                        {"version", version},
                        {"abstract", Str(entry, "abstract")},
                        {"url", ReleaseUrl(dist, version)},
                        {"date", DateValue(Str(entry, "date"))},
                        {"user", Str(entry, "user")},
                        {"user_name", Str(entry, "user_name")},
                        {"user_url", UserUrl(Str(entry, "user"))}});
  }
  return list;
}

// The entry of one dist in user/U.json or tag/T.json ({abstract, stable:
// [...], ...}) as the templates show it.
json DistItem(const std::string& dist, const json& entry) {
  json item{{"dist", dist}, {"url", DistUrl(dist)}, {"abstract", Str(entry, "abstract")}};
  if (!entry.is_object()) return item;
  for (const char* status : {"stable", "testing", "unstable"}) {
    const auto versions = entry.find(status);
    if (versions != entry.end() && versions->is_array() && !versions->empty()) {
      item["version"] = Str((*versions)[0], "version");
      item["date"] = DateValue(Str((*versions)[0], "date"));
      item["status"] = status;
      item["prerelease"] = std::string(status) != "stable";
      break;
    }
  }
  return item;
}

// One page of the dists of `releases` (a user's or tag's, by name), with
// what the template's pager needs, into `data`: dists, and when there is more
// than one page, first, last, count and previous_url / next_url relative to
// `base`. Only the page's dists are built: a tag of thousands sorts names.
void PageOfDists(const json& releases, absl::string_view page, const std::string& base,
                 json* data) {
  std::vector<std::pair<std::string, json::const_iterator>> names;
  if (releases.is_object()) {
    names.reserve(releases.size());
    for (auto it = releases.cbegin(); it != releases.cend(); ++it) {
      names.emplace_back(absl::AsciiStrToLower(it.key()), it);
    }
  }
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const size_t count = names.size();
  const size_t pages = std::max<size_t>(1, (count + kDistsPerPage - 1) / kDistsPerPage);
  size_t number = 1;
  if (!absl::SimpleAtoi(page, &number) || number < 1) number = 1;
  number = std::min(number, pages);
  const size_t first = (number - 1) * kDistsPerPage;
  const size_t last = std::min(count, first + kDistsPerPage);
  json dists = json::array();
  for (size_t i = first; i < last; ++i) {
    dists.push_back(DistItem(names[i].second.key(), names[i].second.value()));
  }
  if (pages > 1) {
    (*data)["paged"] = true;
    (*data)["first"] = first + 1;
    (*data)["last"] = last;
    (*data)["count"] = count;
    if (number > 1) (*data)["previous_url"] = absl::StrCat(base, "?p=", number - 1);
    if (number < pages) (*data)["next_url"] = absl::StrCat(base, "?p=", number + 1);
  }
  (*data)["dists"] = std::move(dists);
}

json Letters(char current) {
  json letters = json::array();
  for (char c = 'a'; c <= 'z'; ++c) {
    letters.push_back(json{{"letter", std::string(1, absl::ascii_toupper(c))},
                           {"url", absl::StrCat("/users/?c=", std::string(1, c))},
                           {"current", c == current}});
  }
  return letters;
}

constexpr const char* kIndexes[] = {"docs", "dists", "extensions", "users", "tags"};
constexpr uint64_t kDefaultPageSize = 20;
constexpr uint64_t kMaxPageSize = 100;
// Far past any real result list; keeps offset + limit far from overflowing.
constexpr uint64_t kMaxSearchOffset = 100'000;

Page SearchForm(std::string query, std::string in) {
  Page page;
  page.view = "search";
  page.query = std::move(query);
  page.search_in = std::move(in);
  page.data["query"] = page.query;
  json indexes = json::array();
  for (const char* name : kIndexes) {
    indexes.push_back(json{{"name", name}, {"selected", page.search_in == name}});
  }
  page.data["indexes"] = std::move(indexes);
  return page;
}

Page BadSearch(std::string query, std::string in, std::string problem) {
  Page page = SearchForm(std::move(query), std::move(in));
  page.status = 400;
  page.title = "Search";
  page.description = "Search PGXN's distributions, extensions, docs, users and tags.";
  page.data["error"] = std::move(problem);
  return page;
}

json Hit(const std::string& in, const json& hit) {
  json out = hit;
  out["is_" + in] = true;
  const std::string dist = Str(hit, "dist");
  const std::string version = Str(hit, "version");
  if (!dist.empty()) out["dist_url"] = DistUrl(dist);
  if (!dist.empty() && !version.empty()) out["release_url"] = ReleaseUrl(dist, version);
  if (std::string docpath = Str(hit, "docpath"); !docpath.empty() && !dist.empty()) {
    out["doc_url"] = DocUrl(dist, version, docpath);
  }
  if (std::string extension = Str(hit, "extension"); !extension.empty()) {
    out["extension_url"] = ExtensionUrl(extension);
  }
  if (std::string user = Str(hit, "user"); !user.empty()) out["user_url"] = UserUrl(user);
  if (std::string tag = Str(hit, "tag"); !tag.empty()) out["tag_url"] = TagUrl(tag);
  if (std::string date = Str(hit, "date"); !date.empty()) out["date"] = DateValue(date);
  if (std::string uri = Str(hit, "uri"); !uri.empty()) {
    if (IsWebUrl(uri)) {
      out["uri_url"] = uri;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Page> HomePage(const Catalog& catalog) {
  absl::StatusOr<json> dists = Stats(catalog, "dist");
  if (!dists.ok()) return dists.status();
  absl::StatusOr<json> summary = Stats(catalog, "summary");
  if (!summary.ok()) return summary.status();
  absl::StatusOr<json> tags = Stats(catalog, "tag");
  if (!tags.ok()) return tags.status();
  absl::StatusOr<json> users = Stats(catalog, "user");
  if (!users.ok()) return users.status();

  Page page = SearchForm("", "docs");
  page.view = "home";
  page.title = "PGXN: the PostgreSQL Extension Network";
  page.description =
      "PGXN, the PostgreSQL Extension Network, is a central distribution system for open-source "
      "PostgreSQL extension libraries.";
  page.recent_feed = true;
  json& d = page.data;
  d["recent"] = RecentReleases(*dists, kHomeRecent);
  json counts = json::array();
  for (const char* key : {"dists", "releases", "extensions", "users", "tags", "mirrors"}) {
    const json& value = summary->value(key, json());
    counts.push_back(json{{"label", key}, {"count", value.is_number() ? value.dump() : "0"}});
  }
  d["counts"] = std::move(counts);
  json popular = json::array();
  for (const json& entry : tags->value("popular", json::array())) {
    if (popular.size() >= 20) break;
    const std::string tag = Str(entry, "tag");
    popular.push_back(json{{"tag", tag}, {"url", TagUrl(tag)}, {"dists", entry.value("dists", 0)}});
  }
  d["popular_tags"] = std::move(popular);
  json prolific = json::array();
  for (const json& entry : users->value("prolific", json::array())) {
    if (prolific.size() >= 10) break;
    const std::string nickname = Str(entry, "nickname");
    prolific.push_back(json{{"nickname", nickname},
                            {"name", Str(entry, "name")},
                            {"url", UserUrl(nickname)},
                            {"dists", entry.value("dists", 0)},
                            {"releases", entry.value("releases", 0)}});
  }
  d["prolific_users"] = std::move(prolific);
  return page;
}

absl::StatusOr<Page> RecentPage(const Catalog& catalog) {
  absl::StatusOr<json> dists = Stats(catalog, "dist");
  if (!dists.ok()) return dists.status();
  Page page;
  page.view = "recent";
  page.title = "Recent releases";
  page.description = "The newest releases on PGXN.";
  page.recent_feed = true;
  page.data["recent"] = RecentReleases(*dists, SIZE_MAX);
  return page;
}

absl::StatusOr<Page> UserPage(const Catalog& catalog, absl::string_view nickname,
                              absl::string_view page_number) {
  absl::StatusOr<json> user = catalog.Json(absl::StrCat("user/", TreeName(nickname), ".json"));
  if (absl::IsNotFound(user.status())) {
    return NotFoundPage(absl::StrCat("There is no user named “", nickname, "”."));
  }
  if (!user.ok()) return user.status();
  Page page;
  page.view = "user";
  const std::string nick = Str(*user, "nickname");
  const std::string name = Str(*user, "name");
  page.title = name.empty() ? nick : absl::StrCat(name, " (", nick, ")");
  page.description = absl::StrCat("Distributions released on PGXN by ", page.title, ".");
  json& d = page.data;
  d["nickname"] = nick;
  d["name"] = name;
  if (std::string uri = Str(*user, "uri"); !uri.empty()) {
    d["uri"] = uri;
    if (IsWebUrl(uri)) {
      d["uri_url"] = uri;
    }
  }
  if (std::string twitter = Str(*user, "twitter"); !twitter.empty()) d["twitter"] = twitter;
  PageOfDists(user->value("releases", json::object()), page_number, UserUrl(nick), &d);
  return page;
}

absl::StatusOr<Page> UsersPage(const Catalog& catalog, absl::string_view letter) {
  char c = letter.size() == 1 && absl::ascii_isalpha(letter[0]) ? absl::ascii_tolower(letter[0])
                                                                 : 'a';
  absl::StatusOr<json> list = catalog.Json(absl::StrCat("users/", std::string(1, c), ".json"));
  if (!list.ok() && !absl::IsNotFound(list.status())) return list.status();
  Page page;
  page.view = "users";
  page.title = absl::StrCat("Users: ", std::string(1, absl::ascii_toupper(c)));
  page.description = "Everyone who releases on PGXN, by nickname.";
  json users = json::array();
  if (list.ok() && list->is_array()) {
    for (const json& entry : *list) {
      const std::string nickname = Str(entry, "user");
      users.push_back(json{{"nickname", nickname}, {"name", Str(entry, "name")},
                           {"url", UserUrl(nickname)}});
    }
  }
  page.data["letter"] = std::string(1, absl::ascii_toupper(c));
  page.data["letters"] = Letters(c);
  page.data["users"] = std::move(users);
  return page;
}

absl::StatusOr<Page> TagsPage(const Catalog& catalog) {
  absl::StatusOr<std::shared_ptr<const std::vector<TagUse>>> tags = catalog.AllTags();
  if (!tags.ok()) return tags.status();
  int most = 1;
  for (const TagUse& use : **tags) most = std::max(most, use.dists);
  json list = json::array();
  for (const TagUse& use : **tags) {
    // Five sizes, by the logarithm of the use against the most used tag's.
    const int size =
        1 + static_cast<int>(std::floor(4 * std::log1p(use.dists) / std::log1p(most) + 1e-9));
    list.push_back(json{{"tag", use.tag},
                        {"url", TagUrl(use.tag)},
                        {"dists", use.dists},
                        {"size", std::min(size, 5)}});
  }
  Page page;
  page.view = "tags";
  page.title = "Tags";
  page.description = "Every tag of the distributions on PGXN, sized by how many use it.";
  page.data["count"] = list.size();
  page.data["tags"] = std::move(list);
  return page;
}

absl::StatusOr<Page> TagPage(const Catalog& catalog, absl::string_view tag,
                             absl::string_view page_number) {
  absl::StatusOr<json> doc = catalog.Json(absl::StrCat("tag/", TreeName(tag), ".json"));
  if (absl::IsNotFound(doc.status())) {
    return NotFoundPage(absl::StrCat("No distribution is tagged “", tag, "”."));
  }
  if (!doc.ok()) return doc.status();
  Page page;
  page.view = "tag";
  const std::string name = Str(*doc, "tag");
  page.title = absl::StrCat("Tag: ", name);
  page.description = absl::StrCat("Distributions on PGXN tagged “", name, "”.");
  page.data["tag"] = name;
  PageOfDists(doc->value("releases", json::object()), page_number, TagUrl(name), &page.data);
  return page;
}

absl::StatusOr<Page> SearchPage(const Catalog& catalog, const gateway::QueryParams& params) {
  auto param = [&params](const char* key) {
    const std::string* value = gateway::FindParam(params, key);
    return value == nullptr ? std::string() : *value;
  };
  const std::string query = param("q");
  std::string in = param("in");
  if (in.empty()) in = "docs";
  absl::StatusOr<indexer::SearchIn> index = indexer::ParseSearchIn(in);
  if (!index.ok()) {
    return BadSearch(query, "docs",
                     "Choose what to search: docs, dists, extensions, users or tags.");
  }
  const std::string trimmed(absl::StripAsciiWhitespace(query));
  if (trimmed.empty() || trimmed == "*" || trimmed == "?") {
    return BadSearch(query, in, "Type something to search for.");
  }
  uint64_t offset = 0;
  uint64_t limit = kDefaultPageSize;
  if (std::string o = param("o"); !o.empty() && !absl::SimpleAtoi(o, &offset)) {
    return BadSearch(query, in, "The offset (o) must be a whole number.");
  }
  if (std::string l = param("l"); !l.empty() && !absl::SimpleAtoi(l, &limit)) {
    return BadSearch(query, in, "The page size (l) must be a whole number.");
  }
  if (limit == 0 || limit > kMaxPageSize) limit = kDefaultPageSize;
  if (offset > kMaxSearchOffset) {
    return BadSearch(query, in, absl::StrCat("The offset (o) is at most ", kMaxSearchOffset, "."));
  }
  absl::StatusOr<json> result = catalog.index().Search(*index, query, offset, limit);
  if (absl::IsInvalidArgument(result.status())) {
    return BadSearch(query, in, std::string(result.status().message()));
  }
  if (!result.ok()) return result.status();

  Page page = SearchForm(query, in);
  page.title = absl::StrCat("Search: ", query);
  page.description = absl::StrCat("PGXN ", in, " matching “", query, "”.");
  const uint64_t count = result->value("count", uint64_t{0});
  json hits = json::array();
  for (const json& hit : result->value("hits", json::array())) hits.push_back(Hit(in, hit));
  json& d = page.data;
  d["searched"] = true;
  d["in"] = in;
  d["count"] = count;
  d["first"] = count == 0 ? 0 : offset + 1;
  d["last"] = std::min<uint64_t>(offset + hits.size(), count);
  d["hits"] = std::move(hits);
  auto page_url = [&](uint64_t o) {
    return absl::StrCat("/search?q=", QueryValue(query), "&in=", in, "&o=", o, "&l=", limit);
  };
  if (offset > 0) d["previous_url"] = page_url(offset > limit ? offset - limit : 0);
  if (offset + limit < count) d["next_url"] = page_url(offset + limit);
  d["paged"] = d.contains("previous_url") || d.contains("next_url");
  return page;
}

}  // namespace pgxn::site
