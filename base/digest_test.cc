#include "base/digest.h"

#include "gtest/gtest.h"

namespace pgxn::base {
namespace {

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha512Hex("abc").substr(0, 16), "ddaf35a193617aba");
  EXPECT_EQ(Sha256("abc").size(), kSha256Size);
}

TEST(DigestTest, Sha256StreamEqualsTheDigestOfTheWhole) {
  const std::string data = "The quick brown fox jumps over the lazy dog";
  Sha256Stream stream;
  stream.Update(data.substr(0, 7));
  stream.Update("");
  stream.Update(data.substr(7));
  EXPECT_EQ(HexEncode(stream.Finish()), Sha256Hex(data));
  Sha256Stream empty;
  EXPECT_EQ(HexEncode(empty.Finish()), Sha256Hex(""));
}

TEST(DigestTest, HexRoundTrip) {
  const std::string bytes("\x00\x01\xfe\xff", 4);
  EXPECT_EQ(HexEncode(bytes), "0001feff");
  EXPECT_EQ(*HexDecode("0001FEff"), bytes);
  EXPECT_FALSE(HexDecode("abc").has_value()) << "odd length";
  EXPECT_FALSE(HexDecode("zz").has_value()) << "not hex";
}

}  // namespace
}  // namespace pgxn::base
