#include "site/templates.h"

#include "gtest/gtest.h"
#include "site/site_files.h"

namespace pgxn::site {
namespace {

TEST(Templates, EveryEmbeddedTemplateParses) {
  auto templates = Templates::Load(EmbeddedSiteFiles());
  ASSERT_TRUE(templates.ok()) << templates.status();
  EXPECT_TRUE((*templates)->Render("layout", nlohmann::json::object()).ok());
}

TEST(Templates, ValuesAreEscapedUnlessTripleBraced) {
  auto templates = Templates::Load({{"templates/t.mustache", "{{a}}|{{{b}}}|{{#has_l}}[{{#l}}{{.}}{{/l}}]{{/has_l}}{{^has_e}}none{{/has_e}}|{{n}}{{#f}}F{{/f}}"}});
  ASSERT_TRUE(templates.ok()) << templates.status();
  auto out = (*templates)->Render(
      "t", nlohmann::json{{"a", "<script>\"'&"}, {"b", "<em>ok</em>"}, {"l", {"x", "<y>"}},
                          {"e", nlohmann::json::array()}, {"n", 42}, {"f", false}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "&lt;script&gt;&quot;&apos;&amp;|<em>ok</em>|[x&lt;y&gt;]none|42");
}

TEST(Templates, ABrokenTemplateIsNamed) {
  auto templates = Templates::Load({{"templates/broken.mustache", "{{#open}}never closed"}});
  ASSERT_FALSE(templates.ok());
  EXPECT_NE(templates.status().message().find("broken"), absl::string_view::npos);
}

TEST(Templates, UnknownTemplateIsNotFound) {
  auto templates = Templates::Load({});
  ASSERT_TRUE(templates.ok());
  EXPECT_TRUE(absl::IsNotFound((*templates)->Render("nope", {}).status()));
}

}  // namespace
}  // namespace pgxn::site
