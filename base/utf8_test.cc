#include "base/utf8.h"

#include <string>

#include "absl/strings/escaping.h"
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

TEST(Utf8Test, SequenceLengthsAndDecoding) {
  const struct {
    std::string bytes;
    size_t length;  // of the sequence at 0
    char32_t code_point;
  } kCases[] = {
      {"a", 1, U'a'},
      {"\xc3\xa5", 2, U'\u00e5'},
      {"\xe2\x82\xac", 3, U'\u20ac'},
      {"\xf0\x9f\x90\x98", 4, U'\U0001F418'},
      {"\xf4\x8f\xbf\xbf", 4, U'\U0010FFFF'},
      {"\xc2\x80", 2, U'\u0080'},
      {"\xe0\x9f\x80", 0, 0},      // overlong
      {"\xf0\x8f\xbf\xbf", 0, 0},  // overlong
      {"\xed\xbf\xbf", 0, 0},      // surrogate
      {"\xc1\xbf", 0, 0},          // overlong
      {"\xe2\x82", 0, 0},          // cut short
      {"\xbf", 0, 0},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(absl::CHexEscape(c.bytes));
    EXPECT_EQ(Utf8SequenceLength(c.bytes, 0), c.length);
    size_t i = 0;
    char32_t code_point = 0;
    EXPECT_EQ(DecodeUtf8(c.bytes, &i, &code_point), c.length != 0);
    EXPECT_EQ(i, c.length);
    if (c.length != 0) {
      EXPECT_EQ(code_point, c.code_point);
      std::string encoded;
      AppendUtf8(code_point, encoded);
      EXPECT_EQ(encoded, c.bytes);
    }
  }
}

TEST(Utf8Test, RepairReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(ToValidUtf8("caf\xe9 \xc3\xa5"), "caf\xef\xbf\xbd \xc3\xa5");
  EXPECT_EQ(ToValidUtf8("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(ToValidUtf8(""), "");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xff\xfe\xed\xa0\x80")));
}

TEST(Utf8Test, CountsCharactersAndCutsOnTheirBoundaries) {
  EXPECT_EQ(CountUtf8Chars("d\xc3\xa5t\xc3\xa5"), 4u);
  EXPECT_EQ(CountUtf8Chars(""), 0u);
  bool cut = false;
  EXPECT_EQ(ShortenUtf8("a\xc3\xa5", 2, &cut), "a");
  EXPECT_TRUE(cut);
  EXPECT_EQ(ShortenUtf8("a\xc3\xa5", 3, &cut), "a\xc3\xa5");
  EXPECT_FALSE(cut);
}

}  // namespace
}  // namespace pgxn::base
