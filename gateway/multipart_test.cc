#include "gateway/multipart.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

constexpr char kContentType[] = "multipart/form-data; boundary=XyZ";

// What curl -F 'submit=Release It!' -F archive=@pair-0.1.7.zip sends.
const std::string kCurlBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"submit\"\r\n"
    "\r\n"
    "Release It!\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"archive\"; filename=\"pair-0.1.7.zip\"\r\n"
    "Content-Type: application/zip\r\n"
    "\r\n"
    "PK\x03\x04\r\n--Xy\r\nbinary\r\n"
    "--XyZ--\r\n";

TEST(ParseMultipartFormTest, ParsesCurlUpload) {
  absl::StatusOr<std::vector<FormPart>> parts = ParseMultipartForm(kContentType, kCurlBody);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "submit");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].content_type, "");
  EXPECT_EQ((*parts)[0].data, "Release It!");
  EXPECT_EQ((*parts)[1].name, "archive");
  EXPECT_EQ((*parts)[1].filename, "pair-0.1.7.zip");
  EXPECT_EQ((*parts)[1].content_type, "application/zip");
  EXPECT_EQ((*parts)[1].data, "PK\x03\x04\r\n--Xy\r\nbinary");
  // The data is a view into the body, not a copy.
  EXPECT_GE((*parts)[1].data.data(), kCurlBody.data());
  EXPECT_LE((*parts)[1].data.data() + (*parts)[1].data.size(), kCurlBody.data() + kCurlBody.size());

  const FormPart* archive = FindPart(*parts, "archive");
  ASSERT_NE(archive, nullptr);
  EXPECT_EQ(archive->filename, "pair-0.1.7.zip");
  EXPECT_EQ(FindPart(*parts, "Archive"), nullptr);
  EXPECT_EQ(FindPart(*parts, "missing"), nullptr);
}

struct Case {
  std::string name;  // what the case is about
  std::string content_type;
  std::string body;
};

TEST(ParseMultipartFormTest, AcceptsRfcVariants) {
  const struct {
    Case input;
    std::vector<std::vector<std::string>> parts;  // name, filename, content type, data
  } kCases[] = {
      {{"quoted boundary", "multipart/form-data; boundary=\"a b:c\"",
        "--a b:c\r\nContent-Disposition: form-data; name=f\r\n\r\nv\r\n--a b:c--"},
       {{"f", "", "", "v"}}},
      {{"upper-case type and parameter", "Multipart/Form-Data; BOUNDARY=b",
        "--b\r\ncontent-disposition: FORM-DATA; NAME=\"f\"\r\n\r\nv\r\n--b--\r\n"},
       {{"f", "", "", "v"}}},
      {{"preamble and epilogue", kContentType,
        "preamble --XyZ not a delimiter\r\n--XyZ\r\nContent-Disposition: form-data; "
        "name=\"a\"\r\n\r\n1\r\n--XyZ--\r\nepilogue\r\n--XyZ\r\ngarbage"},
       {{"a", "", "", "1"}}},
      {{"escapes in quoted strings", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\\\"b\"; "
        "filename=\"c:\\\\x\\\\y.zip\"\r\n\r\n\r\n--XyZ--"},
       {{"a\"b", "c:\\x\\y.zip", "", ""}}},
      {{"semicolon inside a quoted filename", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; filename=\"a;b.zip\"; name=\"f\"\r\n\r\nzz"
        "\r\n--XyZ--"},
       {{"f", "a;b.zip", "", "zz"}}},
      {{"empty data and transport padding", kContentType,
        "--XyZ  \r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--XyZ\t\r\n"
        "Content-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--XyZ--"},
       {{"e", "", "", ""}, {"f", "", "", "x"}}},
      {{"no parts at all", kContentType, "--XyZ--\r\n"}, {}},
      {{"other headers are ignored", kContentType,
        "--XyZ\r\nX-Extra: 1\r\nContent-Disposition: form-data; name=\"f\"\r\n"
        "Content-Transfer-Encoding: binary\r\n\r\nx\r\n--XyZ--"},
       {{"f", "", "", "x"}}},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::vector<FormPart>> parts =
        ParseMultipartForm(c.input.content_type, c.input.body);
    ASSERT_TRUE(parts.ok()) << c.input.name << ": " << parts.status();
    ASSERT_EQ(parts->size(), c.parts.size()) << c.input.name;
    for (size_t i = 0; i < parts->size(); ++i) {
      const FormPart& part = (*parts)[i];
      EXPECT_EQ(part.name, c.parts[i][0]) << c.input.name << " part " << i;
      EXPECT_EQ(part.filename, c.parts[i][1]) << c.input.name << " part " << i;
      EXPECT_EQ(part.content_type, c.parts[i][2]) << c.input.name << " part " << i;
      EXPECT_EQ(part.data, c.parts[i][3]) << c.input.name << " part " << i;
    }
  }
}

TEST(ParseMultipartFormTest, RejectsMalformedForms) {
  const struct {
    Case input;
    std::string message;
  } kCases[] = {
      {{"not multipart", "application/x-www-form-urlencoded", "a=1"},
       "Content-Type must be multipart/form-data, not \"application/x-www-form-urlencoded\""},
      {{"missing boundary", "multipart/form-data", kCurlBody},
       "Content-Type multipart/form-data has no boundary parameter"},
      {{"empty boundary", "multipart/form-data; boundary=\"\"", kCurlBody},
       "Content-Type multipart/form-data has no boundary parameter"},
      {{"boundary too long", "multipart/form-data; boundary=" + std::string(71, 'b'), kCurlBody},
       "Multipart boundary must be 1 to 70 characters on one line, not \"" + std::string(71, 'b') +
           "\""},
      {{"unterminated quoted boundary", "multipart/form-data; boundary=\"XyZ", kCurlBody},
       "Content-Type has an unterminated quoted string in parameter \"boundary\": "
       "\"multipart/form-data; boundary=\\\"XyZ\""},
      {{"parameter without =", "multipart/form-data; boundary", kCurlBody},
       "Content-Type has a parameter without '=': \"multipart/form-data; boundary\""},
      {{"boundary not in body", kContentType, "--Other\r\n\r\n--Other--"},
       "Multipart body has no boundary \"--XyZ\""},
      {{"empty body", kContentType, ""}, "Multipart body has no boundary \"--XyZ\""},
      {{"missing final boundary", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ndata"},
       "Multipart body is missing the final boundary \"--XyZ--\""},
      {{"truncated after a part", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ndata\r\n--XyZ"},
       "Multipart boundary \"--XyZ\" is not followed by CRLF or \"--\" at byte 62"},
      {{"delimiter followed by text", kContentType,
        "--XyZabc\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nd\r\n--XyZ--"},
       "Multipart boundary \"--XyZ\" is not followed by CRLF or \"--\" at byte 5"},
      {{"missing name", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; filename=\"a.zip\"\r\n\r\nd\r\n--XyZ--"},
       "Multipart part 1 has no name in its Content-Disposition"},
      {{"empty name", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nd\r\n--XyZ--"},
       "Multipart part 1 has no name in its Content-Disposition"},
      {{"missing disposition in the second part", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nd\r\n--XyZ\r\n"
        "Content-Type: text/plain\r\n\r\nd\r\n--XyZ--"},
       "Multipart part 2 has no Content-Disposition header"},
      {{"no headers", kContentType, "--XyZ\r\n\r\nd\r\n--XyZ--"},
       "Multipart part 1 has no Content-Disposition header"},
      {{"attachment disposition", kContentType,
        "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nd\r\n--XyZ--"},
       "Multipart part 1 has Content-Disposition \"attachment\", not \"form-data\""},
      {{"header line without colon", kContentType,
        "--XyZ\r\nContent-Disposition form-data\r\n\r\nd\r\n--XyZ--"},
       "Multipart part 1 has a malformed header line: \"Content-Disposition form-data\""},
      {{"headers never end", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"},
       "Multipart part 1 has no blank line after its headers"},
      {{"headers run into the next delimiter", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n--XyZ\r\n"
        "Content-Disposition: form-data; name=\"b\"\r\n\r\nd\r\n--XyZ--"},
       "Multipart part 1 has no blank line after its headers"},
      {{"text after a quoted value", kContentType,
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"b\r\n\r\nd\r\n--XyZ--"},
       "Content-Disposition of multipart part 1 has text after the quoted value of parameter "
       "\"name\": \"form-data; name=\\\"a\\\"b\""},
      {{"LF line ends", kContentType,
        "--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nd\n--XyZ--\n"},
       "Multipart boundary \"--XyZ\" is not followed by CRLF or \"--\" at byte 5"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<std::vector<FormPart>> parts =
        ParseMultipartForm(c.input.content_type, c.input.body);
    ASSERT_FALSE(parts.ok()) << c.input.name;
    EXPECT_EQ(parts.status().code(), absl::StatusCode::kInvalidArgument) << c.input.name;
    EXPECT_EQ(parts.status().message(), c.message) << c.input.name;
  }
}

TEST(ParseMultipartFormTest, LimitsTheNumberOfParts) {
  const auto body_with = [](int parts) {
    std::string body;
    for (int i = 0; i < parts; ++i) {
      absl::StrAppend(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"p", i,
                      "\"\r\n\r\nv\r\n");
    }
    return body + "--XyZ--\r\n";
  };
  const struct {
    int parts;
    size_t max_parts;
    bool ok;
  } kCases[] = {{64, 64, true}, {65, 64, false}, {3, 3, true}, {4, 3, false}, {0, 0, true}};
  for (const auto& c : kCases) {
    absl::StatusOr<std::vector<FormPart>> parts =
        ParseMultipartForm(kContentType, body_with(c.parts), c.max_parts);
    const std::string label = absl::StrCat(c.parts, " parts, max ", c.max_parts);
    ASSERT_EQ(parts.ok(), c.ok) << label << ": " << parts.status();
    if (c.ok) {
      EXPECT_EQ(parts->size(), static_cast<size_t>(c.parts)) << label;
    } else {
      EXPECT_EQ(parts.status().message(),
                absl::StrCat("Multipart body has more than ", c.max_parts, " parts"))
          << label;
    }
  }
}

}  // namespace
}  // namespace pgxn::gateway
