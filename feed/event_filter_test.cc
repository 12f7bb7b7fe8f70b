#include "feed/event_filter.h"

#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

v1::Event Release(const std::string& dist, const std::string& user,
                  std::vector<std::string> paths) {
  v1::Event event;
  event.set_kind("release");
  event.mutable_subject()->set_dist(dist);
  event.mutable_subject()->set_version("1.0.0");
  event.set_actor(user);
  for (const std::string& path : paths) event.add_ops()->set_path(path);
  return event;
}

TEST(EventFilterTest, CriteriaCombineAndValuesAreAlternatives) {
  const v1::Event pair =
      Release("Pair", "alice",
              {"dist/pair.json", "tag/key value.json", "tag/ordered pair.json", "user/alice.json"});
  v1::Event stats;
  stats.set_kind("stats");
  stats.add_ops()->set_path("stats/tag.json");

  EXPECT_TRUE(EventMatches({}, pair));
  EXPECT_TRUE(EventMatches({}, stats));
  EXPECT_TRUE(EventMatches({.kinds = {"release"}}, pair));
  EXPECT_FALSE(EventMatches({.kinds = {"release"}}, stats));
  EXPECT_TRUE(EventMatches({.kinds = {"user", "stats"}}, stats));
  // Dists and users without case, as PGXN's paths.
  EXPECT_TRUE(EventMatches({.dists = {"pair"}}, pair));
  EXPECT_TRUE(EventMatches({.dists = {"widget", "PAIR"}}, pair));
  EXPECT_FALSE(EventMatches({.dists = {"pai"}}, pair));
  EXPECT_TRUE(EventMatches({.users = {"Alice"}}, pair));
  EXPECT_FALSE(EventMatches({.users = {"bob"}}, pair));
  // A tag matches the events that write its file.
  EXPECT_TRUE(EventMatches({.tags = {"Key Value"}}, pair));
  EXPECT_TRUE(EventMatches({.tags = {"nothing", "ordered pair"}}, pair));
  EXPECT_FALSE(EventMatches({.tags = {"key"}}, pair));
  EXPECT_FALSE(EventMatches({.tags = {"key value"}}, stats));
  // All criteria must hold.
  EXPECT_TRUE(EventMatches(
      {.kinds = {"release"}, .dists = {"pair"}, .users = {"alice"}, .tags = {"key value"}}, pair));
  EXPECT_FALSE(EventMatches({.dists = {"pair"}, .users = {"bob"}}, pair));
  EXPECT_EQ(EventTags(pair), (std::vector<std::string>{"key value", "ordered pair"}));
}

TEST(EventFilterTest, TagsTheEventNamesMatchBeforeTheirFilesFollow) {
  // A release whose tag files the origin publishes later: it names its tags.
  v1::Event release = Release("pair", "alice", {"dist/pair.json"});
  release.add_tags("ordered pair");
  release.add_tags("Key Value");
  v1::Event later;
  later.set_kind("stats");
  later.add_ops()->set_path("tag/key value.json");
  later.add_ops()->set_path("stats/tag.json");
  EXPECT_TRUE(EventMatches({.tags = {"key value"}}, release));
  EXPECT_TRUE(EventMatches({.tags = {"ORDERED PAIR"}}, release));
  EXPECT_FALSE(EventMatches({.tags = {"pair"}}, release));
  EXPECT_TRUE(EventMatches({.tags = {"key value"}}, later));
  EXPECT_EQ(EventTags(release), (std::vector<std::string>{"ordered pair", "key value"}));
  // Named and written, a tag is listed once.
  release.add_ops()->set_path("tag/key value.json");
  EXPECT_EQ(EventTags(release), (std::vector<std::string>{"ordered pair", "key value"}));
  EXPECT_EQ(TagOfPath("tag/pgtap.json"), "pgtap");
  EXPECT_EQ(TagOfPath("tag/PgTap.json"), "pgtap");
  EXPECT_EQ(TagOfPath("tag/.json"), absl::nullopt);
  EXPECT_EQ(TagOfPath("user/pgtap.json"), absl::nullopt);
}

TEST(EventFilterTest, UnknownKindsAndEmptyValuesAreRefusedByName) {
  EXPECT_TRUE(ValidateEventFilter({.kinds = {"release", "stats"}, .tags = {"x"}}).ok());
  absl::Status bad = ValidateEventFilter({.kinds = {"releases"}});
  EXPECT_TRUE(absl::IsInvalidArgument(bad));
  EXPECT_NE(bad.message().find("\"releases\""), absl::string_view::npos) << bad;
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateEventFilter({.dists = {""}})));
}

}  // namespace
}  // namespace pgxn::feed
