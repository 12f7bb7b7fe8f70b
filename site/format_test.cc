#include "site/format.h"

#include "gtest/gtest.h"

namespace pgxn::site {
namespace {

TEST(Format, DatesShowDayMonthYearAndKeepTheIsoForm) {
  EXPECT_EQ(DateValue("2010-10-29T22:44:42Z"),
            nlohmann::json({{"iso", "2010-10-29T22:44:42Z"}, {"human", "29 Oct 2010"}}));
  EXPECT_EQ(DateValue("yesterday"), nlohmann::json({{"iso", ""}, {"human", "yesterday"}}));
}

TEST(Format, SizesInPowersOfAThousand) {
  EXPECT_EQ(HumanSize(1), "1 byte");
  EXPECT_EQ(HumanSize(999), "999 bytes");
  EXPECT_EQ(HumanSize(1500), "1.5 KB");
  EXPECT_EQ(HumanSize(340'000), "340 KB");
  EXPECT_EQ(HumanSize(45'200'000), "45 MB");
}

TEST(Format, LicensesAreNamedAndOnlyWebLinksBecomeLinks) {
  EXPECT_EQ(LicenseList("postgresql"),
            nlohmann::json::parse(R"([{"name": "The PostgreSQL License",
                                       "url": "https://www.postgresql.org/about/licence/"}])"));
  EXPECT_EQ(LicenseList(nlohmann::json{"mit", "made_up"})[1],
            nlohmann::json({{"name", "made_up"}}));
  const nlohmann::json custom = LicenseList(nlohmann::json{
      {"Mine", "https://example.org/license"}, {"Evil", "javascript:alert(1)"}});
  ASSERT_EQ(custom.size(), 2u);
  EXPECT_FALSE(custom[0].contains("url"));  // "Evil" sorts first, and stays text
  EXPECT_EQ(custom[1]["url"], "https://example.org/license");
}

TEST(Format, MaintainersSplitNameAndAddress) {
  EXPECT_EQ(MaintainerList("David E. Wheeler <david@justatheory.com>"),
            nlohmann::json::parse(
                R"([{"name": "David E. Wheeler", "email": "david@justatheory.com"}])"));
  EXPECT_EQ(MaintainerList(nlohmann::json{"Just A Name", "x <not an address>"}),
            nlohmann::json::parse(R"([{"name": "Just A Name"}, {"name": "x"}])"));
}

TEST(Format, UrlPartsAreEncoded) {
  EXPECT_EQ(UrlSegment("key value/x"), "key%20value%2Fx");
  EXPECT_EQ(QueryValue("a b&c"), "a+b%26c");
  EXPECT_EQ(TreeName("pgTAP"), "pgtap");
}

TEST(Format, DocsFitUnderThePagesHeading) {
  EXPECT_EQ(FitDocIntoPage("<h1 id=\"a\">A</h1><h2>B</h2><h6>C</h6><h5>D</h5>", 1),
            "<h2 id=\"a\">A</h2><h3>B</h3><h6>C</h6><h6>D</h6>");
  EXPECT_EQ(FitDocIntoPage("<h1>A</h1>", 2), "<h3>A</h3>");
  EXPECT_EQ(FitDocIntoPage("<div id=\"pgxndoc\"><div id=\"pgxntoc\"><h3>Contents</h3></div>"
                           "<div id=\"pgxnbod\"><h1>T</h1><pre><code>x</code></pre>"
                           "<pre class=\"s\">y</pre></div></div>",
                           1),
            "<div id=\"pgxndoc\"><div id=\"pgxntoc\"><h2>Contents</h2></div>"
            "<div id=\"pgxnbod\"><h2>T</h2><pre tabindex=\"0\"><code>x</code></pre>"
            "<pre tabindex=\"0\" class=\"s\">y</pre></div></div>");
  EXPECT_EQ(FitDocIntoPage("<p><img src=\"x\"> <img src=\"y\" alt=\"Y\"></p>", 1),
            "<p><img alt=\"\" src=\"x\"> <img src=\"y\" alt=\"Y\"></p>");
}

}  // namespace
}  // namespace pgxn::site
