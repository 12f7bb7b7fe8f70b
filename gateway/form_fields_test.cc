#include "gateway/form_fields.h"

#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

Request Post(std::string content_type, std::string body) {
  Request request;
  request.method = "POST";
  request.path = "/account/register";
  if (!content_type.empty()) request.headers.emplace_back("content-type", content_type);
  request.body = std::move(body);
  return request;
}

TEST(FormFieldsTest, ReadsEveryEncoding) {
  const struct {
    std::string name;
    Request request;
  } cases[] = {
      {"urlencoded", Post("application/x-www-form-urlencoded", "nickname=bob&why=I+write+code")},
      {"no content type", Post("", "nickname=bob&why=I%20write%20code")},
      {"json",
       Post("application/json; charset=utf-8", R"({"nickname": "bob", "why": "I write code"})")},
      {"multipart", Post("multipart/form-data; boundary=XX",
                         "--XX\r\nContent-Disposition: form-data; name=\"nickname\"\r\n\r\nbob\r\n"
                         "--XX\r\nContent-Disposition: form-data; name=\"why\"\r\n\r\n"
                         "I write code\r\n--XX--\r\n")},
  };
  for (const auto& c : cases) {
    absl::StatusOr<QueryParams> fields = ParseFormFields(c.request);
    ASSERT_TRUE(fields.ok()) << c.name << ": " << fields.status();
    EXPECT_EQ(FieldOr(*fields, "nickname"), "bob") << c.name;
    EXPECT_EQ(FieldOr(*fields, "why"), "I write code") << c.name;
    EXPECT_EQ(FieldOr(*fields, "absent"), "") << c.name;
  }
}

TEST(FormFieldsTest, JsonScalarsBecomeText) {
  auto fields = ParseFormFields(Post("application/json", R"({"admin": true, "n": 3})"));
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(FieldOr(*fields, "admin"), "true");
  EXPECT_EQ(FieldOr(*fields, "n"), "3");
}

TEST(FormFieldsTest, RefusesWhatDoesNotParse) {
  const struct {
    Request request;
    std::string message;
  } cases[] = {
      {Post("application/json", "{\"a\":"), "Bad request: body is not valid JSON"},
      {Post("application/json", "[1]"), "Bad request: JSON body must be an object"},
      {Post("application/json", R"({"a": {"b": 1}})"), "Bad request: field \"a\" must be a string"},
      {Post("application/json", R"({"a": null})"), "Bad request: field \"a\" must be a string"},
      {Post("application/json", std::string(100, '[')), "Bad request: JSON body nested too deeply"},
      {Post("text/plain", "x"), "Bad request: unsupported Content-Type \"text/plain\""},
      {Post("application/x-www-form-urlencoded", "a=%zz"), "Bad request: "},
  };
  for (const auto& c : cases) {
    absl::StatusOr<QueryParams> fields = ParseFormFields(c.request);
    ASSERT_FALSE(fields.ok()) << c.request.body.view();
    EXPECT_TRUE(absl::IsInvalidArgument(fields.status())) << c.request.body.view();
    EXPECT_EQ(fields.status().message().substr(0, c.message.size()), c.message) << fields.status();
  }
  auto empty = ParseFormFields(Post("application/json", ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

}  // namespace
}  // namespace pgxn::gateway
