#include "gateway/media_type.h"

#include <string>

#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

TEST(MediaTypeForPathTest, ChoosesByExtension) {
  const struct {
    std::string path;
    std::string media_type;
  } kCases[] = {
      {"/dist/pair.json", "application/json"},
      {"dist/pair/0.1.7/META.json", "application/json"},
      {"/dist/pair/0.1.7/pair-0.1.7.zip", "application/zip"},
      {"/dist/pair/0.1.7/README.txt", "text/plain; charset=utf-8"},
      {"/meta/origin.pub", "text/plain; charset=utf-8"},
      {"/dist/pair/0.1.7/doc/pair.html", "text/html; charset=utf-8"},
      {"/feeds/recent.atom", "application/atom+xml"},
      {"/UPPER.JSON", "application/json"},
      {"/tag/key value.json", "application/json"},
      {"/dist/pair/0.1.7/pair-0.1.7.tar.gz", "application/octet-stream"},
      {"/README", "application/octet-stream"},
      {"/dir.json/README", "application/octet-stream"},  // the dot is in a directory
      {"/trailing.", "application/octet-stream"},
      {"/.json", "application/json"},
      {"", "application/octet-stream"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(MediaTypeForPath(c.path), c.media_type) << c.path;
  }
}

}  // namespace
}  // namespace pgxn::gateway
