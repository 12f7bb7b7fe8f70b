#include "gateway/recent_feed.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gateway/status_http.h"
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

// The feed, built from the tree's stats.
absl::StatusOr<TreeFile> MakeFeed(const TreeReader& tree) {
  absl::StatusOr<TreeFile> stats = tree.ReadFile(kStatsPath);
  if (!stats.ok() && !absl::IsNotFound(stats.status())) return stats.status();
  TreeFile feed;
  // Without stats (a network with no release yet) the feed is empty, and
  // as new as anything can tell.
  const int64_t modified = stats.ok() ? stats->modified_unix_seconds : 0;
  feed.content = RenderRecentFeed(
      stats.ok() ? absl::string_view(stats->content) : absl::string_view(), FeedDate(modified));
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

}  // namespace

std::string RenderRecentFeed(absl::string_view stats_dist_json,
                             absl::string_view updated_fallback) {
  const Json stats = Json::parse(stats_dist_json, nullptr, /*allow_exceptions=*/false);
  std::vector<AtomRelease> releases;
  if (stats.is_object()) {
    auto recent = stats.find("recent");
    if (recent != stats.end() && recent->is_array()) {
      for (const Json& release : *recent) {
        if (!release.is_object()) continue;
        releases.push_back(AtomRelease{Str(release, "dist"), Str(release, "version"),
                                       Str(release, "date"), Str(release, "user"),
                                       Str(release, "user_name"), Str(release, "abstract")});
      }
    }
  }
  return RenderAtomFeed(AtomFeedHead{"feeds/recent", "PGXN: recent releases", "feeds/recent.atom",
                                     "stats/dist.json"},
                        releases, updated_fallback);
}

Response ServeRecentFeed(const Request& request, const TreeReader& reader) {
  if (request.path != kRecentFeedPath) {
    return ErrorResponse(absl::NotFoundError(absl::StrCat("Not found: ", request.path)), request);
  }
  return ServeGeneratedFile(request, [&reader] { return MakeFeed(reader); });
}

}  // namespace pgxn::gateway
