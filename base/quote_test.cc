#include "base/quote.h"

#include <string>

#include "gtest/gtest.h"

namespace pgxn::base {
namespace {

TEST(QuoteTest, QuotesEscapesReplacesAndCuts) {
  EXPECT_EQ(QuoteUntrusted("pair.zip", 200), "\"pair.zip\"");
  EXPECT_EQ(QuoteUntrusted("a\"b\nc", 200), "\"a\\\"b\\nc\"");
  EXPECT_EQ(QuoteUntrusted("x\xff", 200), "\"x\xef\xbf\xbd\"");  // U+FFFD
  // Cut on a character boundary: "å" is two bytes and does not fit in 2.
  EXPECT_EQ(QuoteUntrusted("a\xc3\xa5"
                           "b",
                           2),
            "\"a...\"");
}

}  // namespace
}  // namespace pgxn::base
