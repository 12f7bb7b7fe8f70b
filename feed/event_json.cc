#include "feed/event_json.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/digest.h"
#include "feed/event_filter.h"
#include "feed/event_kind.h"

namespace pgxn::feed {
namespace {

using Json = nlohmann::ordered_json;

// A META.json is small; one far larger is not read for its abstract.
constexpr uint64_t kMaxMetaBytes = 1 << 20;

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// dist/D/V/META.json and dist/D/V/D-V.zip: the release's own files, found
// among the ops by their place in PGXN's tree rather than recomputed, so
// the object names what the event wrote.
bool IsReleaseFile(absl::string_view path, absl::string_view suffix) {
  if (!absl::StartsWith(path, "dist/") || !absl::EndsWith(path, suffix)) return false;
  return std::vector<absl::string_view>(absl::StrSplit(path, '/')).size() == 4;
}

Json Abstract(const v1::Op& meta, const EventLog& log) {
  if (meta.size() > kMaxMetaBytes) return nullptr;
  absl::StatusOr<std::string> content = log.ReadContent(meta.sha256(), meta.size());
  if (!content.ok()) return nullptr;
  Json parsed = Json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return nullptr;
  auto abstract = parsed.find("abstract");
  if (abstract == parsed.end() || !abstract->is_string()) return nullptr;
  return *abstract;
}

}  // namespace

EventJson DescribeEvent(const v1::Event& event, const EventLog& log) {
  EventJson result;
  const bool release = ParseEventKind(event.kind()) == EventKind::kRelease;
  Json files = Json::array();
  Json removed = Json::array();
  Json abstract = nullptr;
  for (const v1::Op& op : event.ops()) {
    const std::string path = absl::StrCat("/", op.path());
    if (op.type() != v1::Op::PUT) {
      removed.push_back(path);
      continue;
    }
    files.push_back(
        Json{{"path", path}, {"size", op.size()}, {"sha256", base::HexEncode(op.sha256())}});
    if (!release) continue;
    if (result.meta_path.empty() && IsReleaseFile(op.path(), "/META.json")) {
      result.meta_path = path;
      abstract = Abstract(op, log);
    } else if (result.zip_path.empty() && IsReleaseFile(op.path(), ".zip")) {
      result.zip_path = path;
    }
  }
  auto or_null = [](const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); };
  Json object{
      {"seq", event.seq()},
      {"kind", event.kind()},
      {"dist", or_null(event.subject().dist())},
      {"version", or_null(event.subject().version())},
      {"user", event.actor()},
      {"date", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(event.time_us()),
                                absl::UTCTimeZone())},
      {"abstract", std::move(abstract)},
      // The tags whose lists the event changes (a release's own): their
      // files may come a moment later, in a `stats` event.
      {"tags", EventTags(event)},
      {"files", std::move(files)},
      {"removed", std::move(removed)},
  };
  result.open_json = Dump(object);
  result.open_json.pop_back();  // the closing brace; CompleteEventJson adds the URLs
  return result;
}

std::string CompleteEventJson(const EventJson& json, absl::string_view base_url) {
  auto url = [&](const std::string& path) {
    return path.empty() ? std::string("null") : Dump(Json(absl::StrCat(base_url, path)));
  };
  return absl::StrCat(json.open_json, ",\"meta_url\":", url(json.meta_path),
                      ",\"zip_url\":", url(json.zip_path), "}");
}

}  // namespace pgxn::feed
