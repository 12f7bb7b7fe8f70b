#include "gateway/recent_feed.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace pgxn::gateway {
namespace {

using Json = nlohmann::json;

constexpr char kStatsPath[] = "stats/dist.json";
// Bump when the rendering changes: it is part of the feed's ETag, so caches
// do not keep a feed rendered by another version.
constexpr char kFormat[] = "atom1";

// Text for XML character data and attribute values: the five special
// characters escaped, and what XML 1.0 cannot carry at all (C0 controls but
// tab, newline and return; U+FFFE, U+FFFF) dropped. The input is valid UTF-8
// (it comes from a parsed JSON string).
std::string XmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        if (text.substr(i, 2) == "\xEF\xBF" && i + 2 < text.size() &&
            (text[i + 2] == '\xBE' || text[i + 2] == '\xBF')) {
          i += 2;
          break;
        }
        out += c;
    }
  }
  return out;
}

std::string Str(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// A date as PGXN writes them (YYYY-MM-DDTHH:MM:SSZ) is already RFC 3339;
// anything else is not trusted into the feed.
bool IsRfc3339(const std::string& date) {
  absl::Time time;
  std::string error;
  return absl::ParseTime("%Y-%m-%d%ET%H:%M:%SZ", date, &time, &error);
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
    feed.content =
        RenderRecentFeed(stats.ok() ? absl::string_view(stats->content) : absl::string_view(),
                         absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", absl::FromUnixSeconds(modified),
                                          absl::UTCTimeZone()));
    feed.sha256_hex = stats.ok() && !stats->sha256_hex.empty()
                          ? absl::StrCat(stats->sha256_hex, "-", kFormat)
                          : absl::StrCat("empty-", kFormat);
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
    for (const Json& release : *recent) {
      if (!release.is_object()) continue;
      const std::string dist = Str(release, "dist"), version = Str(release, "version");
      if (dist.empty() || version.empty()) continue;
      std::string date = Str(release, "date");
      if (!IsRfc3339(date)) date = std::string(updated_fallback);
      if (date > updated) updated = date;
      const std::string user = Str(release, "user");
      const std::string name = Str(release, "user_name").empty() ? user : Str(release, "user_name");
      // The tree's paths are lower case (PGXN.md §2).
      const std::string dir = absl::StrCat("dist/", absl::AsciiStrToLower(dist), "/",
                                           absl::AsciiStrToLower(version), "/");
      absl::StrAppend(&entries, "  <entry>\n",                                  //
                      "    <id>tag:pgxn.org,2010:", XmlEscape(dir), "</id>\n",  //
                      "    <title>", XmlEscape(dist), " ", XmlEscape(version), "</title>\n",
                      "    <link rel=\"alternate\" type=\"application/json\" href=\"",   //
                      XmlEscape(dir), "META.json\"/>\n",                                 //
                      "    <updated>", XmlEscape(date), "</updated>\n",                  //
                      "    <author><name>", XmlEscape(name.empty() ? "unknown" : name),  //
                      "</name>");
      if (!user.empty()) {
        absl::StrAppend(&entries, "<uri>user/", XmlEscape(absl::AsciiStrToLower(user)),
                        ".json</uri>");
      }
      absl::StrAppend(&entries, "</author>\n");
      const std::string abstract = Str(release, "abstract");
      if (!abstract.empty()) {
        absl::StrAppend(&entries, "    <summary>", XmlEscape(abstract), "</summary>\n");
      }
      absl::StrAppend(&entries, "  </entry>\n");
    }
  }
  if (updated.empty()) updated = std::string(updated_fallback);
  // xml:base: the links are relative to the node's root, whatever the
  // feed's own URL.
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"/\">\n",
      "  <id>tag:pgxn.org,2010:feeds/recent</id>\n", "  <title>PGXN: recent releases</title>\n",
      "  <link rel=\"self\" href=\"feeds/recent.atom\"/>\n",
      "  <link rel=\"alternate\" type=\"application/json\" href=\"stats/dist.json\"/>\n",
      "  <updated>", XmlEscape(updated), "</updated>\n",  //
      entries, "</feed>\n");
}

Response ServeRecentFeed(const Request& request, const TreeReader& reader) {
  return ServeTreeFile(request, FeedReader(reader));
}

}  // namespace pgxn::gateway
