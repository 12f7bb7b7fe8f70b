#include "feed/event_kind.h"

#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

TEST(EventKindTest, EveryKindParsesFromItsName) {
  for (EventKind kind : {EventKind::kRelease, EventKind::kUser, EventKind::kMirrors,
                         EventKind::kDelete, EventKind::kMeta, EventKind::kStats}) {
    absl::optional<EventKind> parsed = ParseEventKind(EventKindName(kind));
    ASSERT_TRUE(parsed.has_value()) << EventKindName(kind);
    EXPECT_EQ(*parsed, kind);
  }
}

TEST(EventKindTest, NamesAreThoseOnTheWire) {
  EXPECT_EQ(EventKindName(EventKind::kRelease), "release");
  EXPECT_EQ(EventKindName(EventKind::kStats), "stats");
}

TEST(EventKindTest, UnknownNamesDoNotParse) {
  for (absl::string_view name : {"", "Release", "releases", "release ", "stat"}) {
    EXPECT_FALSE(ParseEventKind(name).has_value()) << '"' << name << '"';
  }
}

}  // namespace
}  // namespace pgxn::feed
