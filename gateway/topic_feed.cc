#include "gateway/topic_feed.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/digest.h"
#include "gateway/atom_feed.h"
#include "gateway/status_http.h"
#include "nlohmann/json.hpp"

namespace pgxn::gateway {
namespace {

using Json = nlohmann::json;

// Bump when the rendering changes: it is part of the feeds' ETags.
constexpr char kFormat[] = "topic1";
constexpr char kFeedSuffix[] = ".atom";

std::string Str(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

absl::string_view TopicDirectory(FeedTopic topic) {
  switch (topic) {
    case FeedTopic::kDist:
      return "dist";
    case FeedTopic::kUser:
      return "user";
    case FeedTopic::kTag:
      return "tag";
  }
  return "";
}

// The tree file a topic is rendered from ("tag/key value.json").
std::string TopicPath(FeedTopic topic, absl::string_view name) {
  return absl::StrCat(TopicDirectory(topic), "/", absl::AsciiStrToLower(name), ".json");
}

// Appends each {version, date} of a {status: [...]} object as a release of
// `dist`.
void AddStatusLists(const std::string& dist, const Json& statuses,
                    std::vector<AtomRelease>* releases) {
  if (!statuses.is_object()) return;
  for (const auto& [status, list] : statuses.items()) {
    if (!list.is_array()) continue;
    for (const Json& release : list) {
      AtomRelease entry;
      entry.dist = dist;
      entry.version = Str(release, "version");
      entry.date = Str(release, "date");
      if (FeedSegment(entry.dist).empty() || FeedSegment(entry.version).empty()) continue;
      releases->push_back(std::move(entry));
    }
  }
}

// The feed of `name`, built from the tree.
absl::StatusOr<TreeFile> MakeFeed(const TreeReader& tree, FeedTopic topic,
                                  absl::string_view name) {
  absl::StatusOr<TreeFile> source = tree.ReadFile(TopicPath(topic, name));
  if (!source.ok()) return source.status();
  int64_t modified = source->modified_unix_seconds;
  absl::Status failure;
  const TreeTextLookup read = [&tree, &modified, &failure](absl::string_view path) {
    absl::StatusOr<TreeFile> file = tree.ReadFile(path);
    if (!file.ok()) {
      if (!absl::IsNotFound(file.status())) failure.Update(file.status());
      return std::string();
    }
    modified = std::max(modified, file->modified_unix_seconds);
    return std::move(file->content);
  };
  TreeFile feed;
  feed.content =
      RenderTopicFeed(topic, name, source->content, read, FeedDate(source->modified_unix_seconds));
  // A store that fails half-way must not give a feed missing its authors.
  if (!failure.ok()) return failure;
  feed.sha256_hex = absl::StrCat(base::Sha256Hex(feed.content), "-", kFormat);
  feed.media_type = "application/atom+xml";
  feed.modified_unix_seconds = modified;
  return feed;
}

}  // namespace

bool IsTopicFeedPath(absl::string_view path) {
  return absl::StartsWith(path, "/feeds/dist/") || absl::StartsWith(path, "/feeds/user/") ||
         absl::StartsWith(path, "/feeds/tag/");
}

std::string RenderTopicFeed(FeedTopic topic, absl::string_view name, absl::string_view topic_json,
                            const TreeTextLookup& read, absl::string_view updated_fallback) {
  const Json document = Json::parse(topic_json, nullptr, /*allow_exceptions=*/false);
  const Json* lists = nullptr;
  if (document.is_object()) {
    auto it = document.find("releases");
    if (it != document.end() && it->is_object()) lists = &*it;
  }
  std::vector<AtomRelease> releases;
  std::string shown_name(name);  // as the topic's own file spells it, if it does
  if (topic == FeedTopic::kDist) {
    if (!Str(document, "name").empty()) shown_name = Str(document, "name");
    if (lists != nullptr) AddStatusLists(shown_name, *lists, &releases);
  } else {
    const char* key = topic == FeedTopic::kUser ? "nickname" : "tag";
    if (!Str(document, key).empty()) shown_name = Str(document, key);
    if (lists != nullptr) {
      for (const auto& [dist, statuses] : lists->items()) AddStatusLists(dist, statuses, &releases);
    }
  }
  // Newest first; releases of one second (PGXN's dates have no finer
  // grain) in the file's order, which every node has alike.
  std::stable_sort(releases.begin(), releases.end(),
                   [](const AtomRelease& a, const AtomRelease& b) { return a.date > b.date; });
  if (releases.size() > kMaxFeedEntries) releases.resize(kMaxFeedEntries);
  absl::flat_hash_map<std::string, std::string> user_names;  // nickname → name
  const std::string topic_user_name = topic == FeedTopic::kUser ? Str(document, "name") : "";
  for (AtomRelease& release : releases) {
    const Json meta =
        Json::parse(read(absl::StrCat("dist/", absl::AsciiStrToLower(release.dist), "/",
                                      absl::AsciiStrToLower(release.version), "/META.json")),
                    nullptr, /*allow_exceptions=*/false);
    release.user = Str(meta, "user");
    release.abstract = Str(meta, "abstract");
    if (release.user.empty() || FeedSegment(release.user).empty()) continue;
    auto [it, added] = user_names.try_emplace(release.user);
    if (added) {
      it->second = Str(Json::parse(read(absl::StrCat("user/", absl::AsciiStrToLower(release.user),
                                                     ".json")),
                                   nullptr, /*allow_exceptions=*/false),
                       "name");
    }
    release.user_name = it->second;
  }

  const std::string directory(TopicDirectory(topic));
  const std::string segment = FeedSegment(name);
  std::string title;
  switch (topic) {
    case FeedTopic::kDist:
      title = absl::StrCat("PGXN: releases of ", shown_name);
      break;
    case FeedTopic::kUser:
      title = absl::StrCat("PGXN: releases by ", topic_user_name.empty()
                                                     ? shown_name
                                                     : absl::StrCat(topic_user_name, " (",
                                                                    shown_name, ")"));
      break;
    case FeedTopic::kTag:
      title = absl::StrCat("PGXN: releases tagged \"", shown_name, "\"");
      break;
  }
  return RenderAtomFeed(
      AtomFeedHead{absl::StrCat("feeds/", directory, "/", segment), std::move(title),
                   absl::StrCat("feeds/", directory, "/", segment, kFeedSuffix),
                   absl::StrCat(directory, "/", segment, ".json")},
      releases, updated_fallback);
}

Response ServeTopicFeed(const Request& request, const TreeReader& reader) {
  absl::string_view rest = request.path;
  FeedTopic topic = FeedTopic::kDist;
  if (absl::ConsumePrefix(&rest, "/feeds/dist/")) {
    topic = FeedTopic::kDist;
  } else if (absl::ConsumePrefix(&rest, "/feeds/user/")) {
    topic = FeedTopic::kUser;
  } else if (absl::ConsumePrefix(&rest, "/feeds/tag/")) {
    topic = FeedTopic::kTag;
  } else {
    rest = "";
  }
  // One segment naming something the tree can hold, then ".atom".
  if (!absl::ConsumeSuffix(&rest, kFeedSuffix) || FeedSegment(rest).empty()) {
    return ErrorResponse(absl::NotFoundError(absl::StrCat("Not found: ", request.path)), request);
  }
  return ServeGeneratedFile(request, [&] { return MakeFeed(reader, topic, rest); });
}

}  // namespace pgxn::gateway
