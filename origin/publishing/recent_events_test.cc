#include "origin/publishing/recent_events.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pgxn::origin {
namespace {

v1::Event Event(uint64_t seq, size_t bytes) {
  v1::Event event;
  event.set_seq(seq);
  v1::Op* op = event.add_ops();
  op->set_path("f");
  op->set_content(std::string(bytes, 'x'));
  op->set_size(bytes);
  return event;
}

std::vector<uint64_t> Seqs(const std::vector<v1::Event>& events) {
  std::vector<uint64_t> out;
  for (const v1::Event& event : events) out.push_back(event.seq());
  return out;
}

TEST(RecentEventsTest, LightReadsHoldNoMemoryOfTheContents) {
  // A subscriber that keeps light events (a Feed stream's pending records)
  // must not keep a large archive's memory with each.
  RecentEvents cache(size_t{64} << 20);
  cache.Add({Event(1, size_t{8} << 20)});
  std::vector<v1::Event> light = cache.Read(0, 10, SIZE_MAX, false);
  ASSERT_EQ(light.size(), 1u);
  EXPECT_TRUE(light[0].ops(0).content().empty());
  EXPECT_LT(light[0].ops(0).content().capacity(), 1024u);
  EXPECT_EQ(light[0].ops(0).size(), size_t{8} << 20);
}

TEST(RecentEventsTest, ServesWhatFollowsAHeldSeq) {
  RecentEvents cache(1 << 20);
  EXPECT_TRUE(cache.Read(0, 10, 1 << 20, true).empty());
  cache.Add({Event(5, 10), Event(6, 10), Event(7, 10)});
  EXPECT_EQ(Seqs(cache.Read(4, 10, 1 << 20, true)), (std::vector<uint64_t>{5, 6, 7}));
  EXPECT_EQ(Seqs(cache.Read(5, 10, 1 << 20, true)), (std::vector<uint64_t>{6, 7}));
  EXPECT_EQ(Seqs(cache.Read(5, 1, 1 << 20, true)), (std::vector<uint64_t>{6}));
  // Contents count toward the byte limit; the event that reaches it is included.
  EXPECT_EQ(Seqs(cache.Read(4, 10, 15, true)), (std::vector<uint64_t>{5, 6}));
  // Not held: before the first, or nothing after the newest.
  EXPECT_TRUE(cache.Read(3, 10, 1 << 20, true).empty());
  EXPECT_TRUE(cache.Read(7, 10, 1 << 20, true).empty());
  // Without contents on request; the cache keeps them.
  std::vector<v1::Event> light = cache.Read(6, 10, 1 << 20, false);
  ASSERT_EQ(light.size(), 1u);
  EXPECT_TRUE(light[0].ops(0).content().empty());
  EXPECT_EQ(light[0].ops(0).size(), 10u);
  EXPECT_EQ(cache.Read(6, 10, 1 << 20, true)[0].ops(0).content().size(), 10u);
}

TEST(RecentEventsTest, KeepsTheNewestWithinItsBytesAndStartsOverAfterAGap) {
  RecentEvents cache(25);
  cache.Add({Event(1, 10), Event(2, 10)});
  cache.Add({Event(2, 10), Event(3, 10)});  // 2 is held already
  EXPECT_EQ(Seqs(cache.Read(1, 10, 1 << 20, true)), (std::vector<uint64_t>{2, 3}));
  EXPECT_TRUE(cache.Read(0, 10, 1 << 20, true).empty());  // 1 was evicted
  cache.Add({Event(9, 100)});  // a gap, and larger than the limit: still held alone
  EXPECT_TRUE(cache.Read(2, 10, 1 << 20, true).empty());
  EXPECT_EQ(Seqs(cache.Read(8, 10, 1 << 20, true)), (std::vector<uint64_t>{9}));
}

TEST(RecentEventsTest, EventsOfAnotherEpochReplaceTheCache) {
  RecentEvents cache(1 << 20);
  v1::Event old_event = Event(1, 10);
  old_event.set_epoch("old");
  cache.Add({old_event});
  v1::Event new_event = Event(1, 10);
  new_event.set_epoch("new");
  cache.Add({new_event});
  std::vector<v1::Event> read = cache.Read(0, 10, 1 << 20, true);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].epoch(), "new");
}

}  // namespace
}  // namespace pgxn::origin
