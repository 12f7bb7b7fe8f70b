#include "gateway/atom_feed.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/escape.h"
#include "gateway/path.h"

namespace pgxn::gateway {
namespace {

constexpr char kDateFormat[] = "%Y-%m-%dT%H:%M:%SZ";

}  // namespace

bool IsPgxnDate(absl::string_view date) {
  // absl's parser alone also takes "infinite-future", spaces, single digits:
  // only what formats back to itself is PGXN's form.
  absl::Time time;
  std::string error;
  return date.size() == 20 && absl::ParseTime(kDateFormat, date, &time, &error) &&
         absl::FormatTime(kDateFormat, time, absl::UTCTimeZone()) == date;
}

std::string FeedSegment(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." || absl::StrContains(name, '/')) return "";
  return PercentEncodePath(absl::AsciiStrToLower(name));
}

std::string FeedDate(int64_t unix_seconds) {
  return absl::FormatTime(kDateFormat, absl::FromUnixSeconds(unix_seconds), absl::UTCTimeZone());
}

std::string RenderAtomFeed(const AtomFeedHead& head, const std::vector<AtomRelease>& releases,
                           absl::string_view updated_fallback) {
  std::string entries;
  std::string updated;  // the newest entry's date
  size_t count = 0;
  for (const AtomRelease& release : releases) {
    if (count == kMaxFeedEntries) break;
    const std::string dist_segment = FeedSegment(release.dist);
    const std::string version_segment = FeedSegment(release.version);
    if (dist_segment.empty() || version_segment.empty()) continue;
    ++count;
    const std::string date =
        IsPgxnDate(release.date) ? release.date : std::string(updated_fallback);
    if (date > updated) updated = date;
    const std::string& name = release.user_name.empty() ? release.user : release.user_name;
    const std::string dir = absl::StrCat("dist/", dist_segment, "/", version_segment, "/");
    absl::StrAppend(&entries, "  <entry>\n",                                        //
                    "    <id>tag:pgxn.org,2010:", base::EscapeXml(dir), "</id>\n",  //
                    "    <title>", base::EscapeXml(release.dist), " ",
                    base::EscapeXml(release.version), "</title>\n",
                    "    <link rel=\"alternate\" type=\"application/json\" href=\"",         //
                    base::EscapeXml(dir), "META.json\"/>\n",                                 //
                    "    <updated>", base::EscapeXml(date), "</updated>\n",                  //
                    "    <author><name>", base::EscapeXml(name.empty() ? "unknown" : name),  //
                    "</name>");
    if (const std::string user_segment = FeedSegment(release.user); !user_segment.empty()) {
      absl::StrAppend(&entries, "<uri>user/", base::EscapeXml(user_segment), ".json</uri>");
    }
    absl::StrAppend(&entries, "</author>\n");
    if (!release.abstract.empty()) {
      absl::StrAppend(&entries, "    <summary>", base::EscapeXml(release.abstract),
                      "</summary>\n");
    }
    absl::StrAppend(&entries, "  </entry>\n");
  }
  if (updated.empty()) updated = std::string(updated_fallback);
  // xml:base: one "../" per directory of the feed's own path, so that links
  // resolve against the node's root.
  std::string base;
  for (char c : head.self) {
    if (c == '/') base += "../";
  }
  if (base.empty()) base = "./";
  return absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"", base, "\">\n",
      "  <id>tag:pgxn.org,2010:", base::EscapeXml(head.id), "</id>\n",             //
      "  <title>", base::EscapeXml(head.title), "</title>\n",                      //
      "  <link rel=\"self\" href=\"", base::EscapeXml(head.self), "\"/>\n",       //
      "  <link rel=\"alternate\" type=\"application/json\" href=\"",               //
      base::EscapeXml(head.alternate), "\"/>\n",                                   //
      "  <updated>", base::EscapeXml(updated), "</updated>\n",                     //
      entries, "</feed>\n");
}

}  // namespace pgxn::gateway
