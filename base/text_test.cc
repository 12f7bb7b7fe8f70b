#include <string>

#include "base/quote.h"
#include "base/utf8.h"
#include "gtest/gtest.h"

namespace pgxn::base {
namespace {

TEST(Utf8Test, AcceptsWellFormedAndRefusesTheRest) {
  const struct {
    std::string bytes;
    bool valid;
  } kCases[] = {
      {"", true},
      {"plain ascii", true},
      {"d\xc3\xa5t\xc3\xa5", true},  // å
      {"\xe2\x82\xac", true},        // €
      {"\xf0\x9f\x90\x98", true},    // U+1F418
      {"\xc3", false},               // truncated
      {"\xc0\xaf", false},           // overlong '/'
      {"\xed\xa0\x80", false},       // surrogate
      {"\xf4\x90\x80\x80", false},   // above U+10FFFF
      {"\x80", false},               // stray continuation
      {"\xff", false},
  };
  for (const auto& c : kCases) EXPECT_EQ(IsValidUtf8(c.bytes), c.valid) << c.bytes;
}

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
