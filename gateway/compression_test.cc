#include "gateway/compression.h"

#include <zlib.h>

#include <string>

#include "gtest/gtest.h"

namespace pgxn::gateway {
namespace {

std::string Gunzip(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = data.size();
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = out.size();
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - stream.avail_out);
  inflateEnd(&stream);
  return out;
}

Request WithAcceptEncoding(std::string value) {
  Request request;
  request.method = "GET";
  request.headers.emplace_back("accept-encoding", std::move(value));
  return request;
}

TEST(Compression, AcceptsGzipReadsQValues) {
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding("gzip, deflate, br")));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding("br;q=1.0, GZIP;q=0.5")));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding("*")));
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding("gzip;q=0")));
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding("gzip;q=0, *")));
  EXPECT_TRUE(AcceptsGzip(WithAcceptEncoding("identity, *;q=0.5")));
  EXPECT_FALSE(AcceptsGzip(WithAcceptEncoding("identity")));
  EXPECT_FALSE(AcceptsGzip(Request{}));
}

TEST(Compression, CompressesLargeTextAndMarksTheVariant) {
  Response response;
  response.SetHeader("Content-Type", "text/html; charset=utf-8");
  response.SetHeader("ETag", "\"abc\"");
  std::string page;
  for (int i = 0; i < 200; ++i) page += "<p>PostgreSQL extension network</p>\n";
  response.body = page;
  CompressIfAccepted(WithAcceptEncoding("gzip"), &response);
  EXPECT_EQ(response.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(response.Header("ETag"), "\"abc-gzip\"");
  EXPECT_EQ(response.Header("Vary"), "Accept-Encoding");
  EXPECT_LT(response.body.size(), page.size() / 4);
  EXPECT_EQ(Gunzip(response.body), page);
}

TEST(Compression, LeavesSmallBinaryOrUnacceptedBodiesAlone) {
  Response small;
  small.SetHeader("Content-Type", "text/html");
  small.body = "<p>short</p>";
  CompressIfAccepted(WithAcceptEncoding("gzip"), &small);
  EXPECT_EQ(small.Header("Content-Encoding"), "");
  EXPECT_EQ(small.Header("Vary"), "Accept-Encoding");

  Response zip;
  zip.SetHeader("Content-Type", "application/zip");
  zip.body = std::string(4096, 'x');
  CompressIfAccepted(WithAcceptEncoding("gzip"), &zip);
  EXPECT_EQ(zip.Header("Content-Encoding"), "");
  EXPECT_EQ(zip.Header("Vary"), "");

  Response text;
  text.SetHeader("Content-Type", "text/plain");
  text.body = std::string(4096, 'x');
  CompressIfAccepted(WithAcceptEncoding("identity"), &text);
  EXPECT_EQ(text.body, std::string(4096, 'x'));
}

}  // namespace
}  // namespace pgxn::gateway
