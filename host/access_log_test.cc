#include "host/access_log.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "base/temp_dir.h"
#include "gtest/gtest.h"

namespace pgxn::host {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

gateway::Request Get(std::string target) {
  gateway::Request request;
  request.method = "GET";
  request.target = std::move(target);
  request.remote_address = "192.0.2.7:51234";
  request.headers = {{"user-agent", "curl/7.88.1"}, {"referer", "https://pgxn.org/"}};
  return request;
}

const absl::Time kNoon = absl::FromUnixSeconds(1796385600);  // 2026-12-04 12:00:00 UTC

TEST(AccessLogTest, ALineInCombinedLogFormatWithTheHandlersTime) {
  gateway::Response response = gateway::TextResponse(200, "hello\n");
  EXPECT_EQ(AccessLog::Line(Get("/dist/pair.json"), response, absl::Microseconds(123), kNoon),
            "192.0.2.7 - - [04/Dec/2026:12:00:00 +0000] \"GET /dist/pair.json HTTP/1.1\" 200 6 "
            "\"https://pgxn.org/\" \"curl/7.88.1\" 0.000123");
}

TEST(AccessLogTest, WhatAClientSentCannotBreakTheLine) {
  gateway::Request request = Get("/a\"b\\c\nd");
  request.headers = {{"user-agent", "evil\" \"x\r\n200 0"}};
  request.remote_address = "[2001:db8::1]:443";
  request.version = 10;
  const std::string line =
      AccessLog::Line(request, gateway::TextResponse(404, ""), absl::ZeroDuration(), kNoon);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_EQ(line,
            "2001:db8::1 - - [04/Dec/2026:12:00:00 +0000] \"GET /a\\\"b\\\\c\\nd HTTP/1.0\" 404 0 "
            "\"-\" \"evil\\\" \\\"x\\r\\n200 0\" 0.000000");
}

// An event stream's body has no length to count.
class IdleStream final : public gateway::BodyStream {
 public:
  void SetWaker(std::function<void()>) override {}
  Piece Next() override { return {}; }
  void Close() override {}
};

TEST(AccessLogTest, AStreamOfOpenLengthHasNoByteCountAFileStreamHasItsSize) {
  gateway::Response events;
  events.status = 200;
  events.push = std::make_shared<IdleStream>();
  EXPECT_NE(AccessLog::Line(Get("/feed"), events, absl::ZeroDuration(), kNoon)
                .find("\" 200 - \""),
            std::string::npos);
  gateway::Response streamed;
  streamed.status = 200;
  streamed.stream_size = 1 << 20;
  streamed.stream = [](uint64_t, size_t) -> absl::StatusOr<std::string> { return ""; };
  EXPECT_NE(AccessLog::Line(Get("/x"), streamed, absl::ZeroDuration(), kNoon)
                .find("\" 200 1048576 \""),
            std::string::npos);
}

TEST(AccessLogTest, WritesEveryLineAndReopensAfterRotation) {
  base::TempDir dir;
  const std::string path = dir.path() + "/access.log";
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open(path);
  ASSERT_TRUE(log.ok()) << log.status();
  gateway::Response ok = gateway::TextResponse(200, "x");
  for (int i = 0; i < 3; ++i) {
    (*log)->Record(Get("/before/" + std::to_string(i)), ok, absl::ZeroDuration(), kNoon);
  }
  ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);  // logrotate
  ASSERT_TRUE((*log)->Reopen().ok());
  (*log)->Record(Get("/after"), ok, absl::ZeroDuration(), kNoon);
  (*log)->Stop();
  const std::vector<std::string> rotated =
      absl::StrSplit(ReadAll(path + ".1"), '\n', absl::SkipEmpty());
  ASSERT_EQ(rotated.size(), 3u);
  EXPECT_NE(rotated[2].find("GET /before/2 "), std::string::npos);
  const std::string now = ReadAll(path);
  EXPECT_NE(now.find("GET /after "), std::string::npos) << now;
  EXPECT_EQ(now.find("/before/"), std::string::npos) << now;
}

TEST(AccessLogTest, AnUnwritablePathIsRefusedNamingIt) {
  absl::StatusOr<std::unique_ptr<AccessLog>> log = AccessLog::Open("/nonexistent-dir/access.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("/nonexistent-dir/access.log"), std::string::npos);
}

}  // namespace
}  // namespace pgxn::host
