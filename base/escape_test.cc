#include "base/escape.h"

#include "gtest/gtest.h"

namespace pgxn::base {
namespace {

TEST(EscapeTest, HtmlEscapesWhatMarkupWouldObey) {
  EXPECT_EQ(EscapeHtml("<a href=\"x\">&amp;</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;");
  EXPECT_EQ(EscapeHtml("it's d\xc3\xa5t\xc3\xa5"), "it's d\xc3\xa5t\xc3\xa5");
  EXPECT_EQ(HtmlEntityFor('"', /*in_attribute=*/false), "");
  EXPECT_EQ(HtmlEntityFor('"', /*in_attribute=*/true), "&quot;");
  EXPECT_EQ(HtmlEntityFor('a', /*in_attribute=*/true), "");
  EXPECT_EQ(EscapeHtml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c'");
}

TEST(EscapeTest, XmlEscapesAndDropsWhatXmlCannotCarry) {
  EXPECT_EQ(EscapeXml("<x a='1' b=\"2\">&</x>"),
            "&lt;x a=&apos;1&apos; b=&quot;2&quot;&gt;&amp;&lt;/x&gt;");
  EXPECT_EQ(EscapeXml("a\x01" "b\tc\nd\re\x1f"), "ab\tc\nd\re");
  EXPECT_EQ(EscapeXml("x\xef\xbf\xbey\xef\xbf\xbfz\xef\xbf\xbd"), "xyz\xef\xbf\xbd");
}

}  // namespace
}  // namespace pgxn::base
