#include "gateway/recent_feed.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/escape.h"
#include "gateway/path.h"
#include "nlohmann/json.hpp"

namespace pgxn::gateway {
namespace {

using Json = nlohmann::json;

constexpr char kStatsPath[] = "stats/dist.json";
// Bump when the rendering changes: it is part of the feed's ETag, so caches
// do not keep a feed rendered by another version.
constexpr char kFormat[] = "atom1";

std::string Str(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

constexpr char kDateFormat[] = "%Y-%m-%dT%H:%M:%SZ";

// A date exactly as PGXN writes them (YYYY-MM-DDTHH:MM:SSZ, a real time) is
// already RFC 3339; anything else is not trusted into the feed (absl's
// parser alone also takes "infinite-future", spaces, single digits).
bool IsPgxnDate(const std::string& date) {
  absl::Time time;
  std::string error;
  return date.size() == 20 && absl::ParseTime(kDateFormat, date, &time, &error) &&
         absl::FormatTime(kDateFormat, time, absl::UTCTimeZone()) == date;
}

// A name as one segment of a relative link or tag: id: lower case (as the
// tree's paths are, docs/pgxn.md §2), percent-encoded (RFC 3986 unreserved
// characters kept); "" for what cannot be one ("", ".", "..", anything with a
// slash), so no link leaves the release's directory.
std::string Segment(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." || absl::StrContains(name, '/')) return "";
  return PercentEncodePath(absl::AsciiStrToLower(name));
}

// Serves only the feed, built from the tree behind it, to ServeTreeFile.
class FeedReader : public TreeReader {
 public:
  explicit FeedReader(const TreeReader& tree) : tree_(tree) {}

  absl::StatusOr<TreeFile> ReadFile(absl::string_view path) const override {
    if (absl::StrCat("/", path) != kRecentFeedPath) return absl::NotFoundError(path);
    absl::StatusOr<TreeFile> stats = tree_.ReadFile(kStatsPath);
    if (!stats.ok() && !absl::IsNotFound(stats.status())) return stats.status();
    TreeFile feed;
    // Without stats (a network with no release yet) the feed is empty, and
    // as new as anything can tell.
    const int64_t modified = stats.ok() ? stats->modified_unix_seconds : 0;
    feed.content = RenderRecentFeed(
        stats.ok() ? absl::string_view(stats->content) : absl::string_view(),
        absl::FormatTime(kDateFormat, absl::FromUnixSeconds(modified), absl::UTCTimeZone()));
    // The entity tag covers everything the body is made of: the stats file,
    // its time (the fallback date) and this rendering's format.
    if (!stats.ok()) {
      feed.sha256_hex = absl::StrCat("empty-", kFormat);
    } else if (!stats->sha256_hex.empty()) {
      feed.sha256_hex = absl::StrCat(stats->sha256_hex, "-", modified, "-", kFormat);
    }
    feed.media_type = "application/atom+xml";
    feed.modified_unix_seconds = modified;
    return feed;
  }

  absl::Status ForEachFile(
      const std::function<bool(absl::string_view, absl::string_view)>&) const override {
    return absl::OkStatus();
  }

 private:
  const TreeReader& tree_;
};

}  // namespace

std::string RenderRecentFeed(absl::string_view stats_dist_json,
                             absl::string_view updated_fallback) {
  const Json stats = Json::parse(stats_dist_json, nullptr, /*allow_exceptions=*/false);
  const Json* recent = nullptr;
  if (stats.is_object()) {
    auto it = stats.find("recent");
    if (it != stats.end() && it->is_array()) recent = &*it;
  }
  std::string entries;
  std::string updated;  // the newest entry's date
  if (recent != nullptr) {
    size_t count = 0;
    for (const Json& release : *recent) {
      if (count == kMaxEntries) break;
      if (!release.is_object()) continue;
      const std::string dist = Str(release, "dist"), version = Str(release, "version");
      const std::string dist_segment = Segment(dist), version_segment = Segment(version);
      if (dist_segment.empty() || version_segment.empty()) continue;
      ++count;
      std::string date = Str(release, "date");
      if (!IsPgxnDate(date)) date = std::string(updated_fallback);
      if (date > updated) updated = date;
      const std::string user = Str(release, "user");
      const std::string name = Str(release, "user_name").empty() ? user : Str(release, "user_name");
      const std::string dir = absl::StrCat("dist/", dist_segment, "/", version_segment, "/");
      absl::StrAppend(&entries, "  <entry>\n",                                        //
                      "    <id>tag:pgxn.org,2010:", base::EscapeXml(dir), "</id>\n",  //
                      "    <title>", base::EscapeXml(dist), " ", base::EscapeXml(version),
                      "</title>\n",
                      "    <link rel=\"alternate\" type=\"application/json\" href=\"",         //
                      base::EscapeXml(dir), "META.json\"/>\n",                                 //
                      "    <updated>", base::EscapeXml(date), "</updated>\n",                  //
                      "    <author><name>", base::EscapeXml(name.empty() ? "unknown" : name),  //
                      "</name>");
      if (const std::string user_segment = Segment(user); !user_segment.empty()) {
        absl::StrAppend(&entries, "<uri>user/", base::EscapeXml(user_segment), ".json</uri>");
      }
      absl::StrAppend(&entries, "</author>\n");
      const std::string abstract = Str(release, "abstract");
      if (!abstract.empty()) {
        absl::StrAppend(&entries, "    <summary>", base::EscapeXml(abstract), "</summary>\n");
      }
      absl::StrAppend(&entries, "  </entry>\n");
    }
  }
  if (updated.empty()) updated = std::string(updated_fallback);
  // xml:base: the links are relative to the node's root, the parent of the
  // feed's own URL (also under a proxy's path prefix).
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"../\">\n",
      "  <id>tag:pgxn.org,2010:feeds/recent</id>\n", "  <title>PGXN: recent releases</title>\n",
      "  <link rel=\"self\" href=\"feeds/recent.atom\"/>\n",
      "  <link rel=\"alternate\" type=\"application/json\" href=\"stats/dist.json\"/>\n",
      "  <updated>", base::EscapeXml(updated), "</updated>\n",  //
      entries, "</feed>\n");
}

Response ServeRecentFeed(const Request& request, const TreeReader& reader) {
  return ServeTreeFile(request, FeedReader(reader));
}

}  // namespace pgxn::gateway
