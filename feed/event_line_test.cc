#include "feed/event_line.h"

#include "feed/test_events.h"
#include "gtest/gtest.h"

namespace pgxn::feed {
namespace {

TEST(EventLineTest, NamesTheEventItsSubjectAndItsOps) {
  TestChain chain;
  v1::Event event = chain.Next({PutOp("dist/pair.json", "{}"), PutOp("index.json", "{}")},
                               "release", "pair", "0.1.0");
  event.set_actor("theory");
  EXPECT_EQ(EventLine(event), "seq 1 release pair 0.1.0 by theory (2 puts, 0 deletes)");
  v1::Event removal = chain.Next({DeleteOp("index.json")}, "delete", "pair", "");
  removal.clear_actor();
  EXPECT_EQ(EventLine(removal), "seq 2 delete pair (0 puts, 1 delete)");
}

TEST(EventLineTest, ALineStaysOneLine) {
  TestChain chain;
  v1::Event event = chain.Next({PutOp("a.json", "{}")}, "release", "evil\nname", "1\r\n");
  event.set_actor("x\ny");
  EXPECT_EQ(EventLine(event), "seq 1 release evil\\nname 1\\r\\n by x\\ny (1 put, 0 deletes)");
}

}  // namespace
}  // namespace pgxn::feed
