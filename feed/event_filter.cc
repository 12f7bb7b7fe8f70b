#include "feed/event_filter.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "feed/event_kind.h"

namespace pgxn::feed {
namespace {

// Whether `values` is empty or holds `value` (without case when `fold`).
bool AnyOf(const std::vector<std::string>& values, absl::string_view value, bool fold) {
  if (values.empty()) return true;
  return std::any_of(values.begin(), values.end(), [&](const std::string& wanted) {
    return fold ? absl::EqualsIgnoreCase(wanted, value) : wanted == value;
  });
}

}  // namespace

absl::Status ValidateEventFilter(const EventFilter& filter) {
  for (const std::string& kind : filter.kinds) {
    if (!ParseEventKind(kind).has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown event kind \"", kind, "\" (release, user, mirrors, delete, meta or stats)"));
    }
  }
  for (const auto* list : {&filter.dists, &filter.users, &filter.tags}) {
    for (const std::string& value : *list) {
      if (value.empty()) return absl::InvalidArgumentError("an empty filter value");
    }
  }
  return absl::OkStatus();
}

absl::optional<std::string> TagOfPath(absl::string_view path) {
  if (absl::ConsumePrefix(&path, "tag/") && absl::ConsumeSuffix(&path, ".json") && !path.empty() &&
      !absl::StrContains(path, '/')) {
    return absl::AsciiStrToLower(path);
  }
  return absl::nullopt;
}

std::vector<std::string> EventTags(const v1::Event& event) {
  std::vector<std::string> tags;
  auto add = [&tags](std::string tag) {
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(std::move(tag));
  };
  for (const std::string& tag : event.tags()) add(absl::AsciiStrToLower(tag));
  for (const v1::Op& op : event.ops()) {
    if (absl::optional<std::string> tag = TagOfPath(op.path())) add(*std::move(tag));
  }
  return tags;
}

bool EventMatches(const EventFilter& filter, const v1::Event& event) {
  if (!AnyOf(filter.kinds, event.kind(), /*fold=*/false)) return false;
  if (!AnyOf(filter.dists, event.subject().dist(), /*fold=*/true)) return false;
  if (!AnyOf(filter.users, event.actor(), /*fold=*/true)) return false;
  if (filter.tags.empty()) return true;
  for (const std::string& tag : EventTags(event)) {
    if (AnyOf(filter.tags, tag, /*fold=*/true)) return true;
  }
  return false;
}

}  // namespace pgxn::feed
