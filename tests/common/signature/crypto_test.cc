#include "common/signature/crypto.h"

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookstream {
namespace {

using ::testing::Eq;
using ::testing::Optional;

// Vectors computed at authoring time with:
//   printf '%s' '{"id":"evt_1","type":"customer.created"}' |
//     openssl dgst -sha256 -hmac 'test-secret'
constexpr absl::string_view kBody =
    R"({"id":"evt_1","type":"customer.created"})";
constexpr absl::string_view kHex =
    "39e5dd584b3fc6991d8fb93b5eb7e6017586a6697fe6ba838b74b0eb18386aee";

// Verifies HMAC-SHA256 matches OpenSSL's command-line tool.
TEST(CryptoTest, HmacSha256MatchesKnownVector) {
  EXPECT_EQ(EncodeHex(HmacSha256("test-secret", kBody)), kHex);
  // openssl dgst -sha256 -hmac 'test-secret' on an empty file.
  EXPECT_EQ(EncodeHex(HmacSha256("test-secret", "")),
            "a41bc6d81d6413576ae0994995e0ad89a416ec97389515c3604f47722122eeeb");
}

// Verifies a prepared key gives the same MACs as the one-shot function, on
// every reuse and from several threads at once, including a key longer than
// SHA-256's block (hashed first) and the empty key.
TEST(CryptoTest, PreparedKeyMatchesOneShotAndIsReusable) {
  const HmacSha256Key key("test-secret");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(EncodeHex(key.Mac(kBody)), kHex);
  // printf 'data' | openssl dgst -sha256 -hmac "$(printf 'k%.0s' {1..100})"
  EXPECT_EQ(EncodeHex(HmacSha256Key(std::string(100, 'k')).Mac("data")),
            "09380ee4b802da2363bc96e8e0d133ba275458ea8ddbc564f986fc12b31f8cb1");
  // RFC 2104 HMAC with an empty key over empty data (a well-known value).
  EXPECT_EQ(EncodeHex(HmacSha256Key("").Mac("")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  HmacSha256Key moved = HmacSha256Key("test-secret");
  std::vector<std::thread> threads;
  std::vector<std::string> results(4);
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&moved, &results, t] {
      for (int i = 0; i < 100; ++i) results[t] = EncodeHex(moved.Mac(kBody));
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& r : results) EXPECT_EQ(r, kHex);
}

// Verifies the comparison depends on every byte and on the length.
TEST(CryptoTest, ConstantTimeEqualsComparesBytesAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

// Verifies hex decoding accepts both cases and rejects anything else.
TEST(CryptoTest, DecodeHex) {
  EXPECT_THAT(DecodeHex("00ff7fAb"),
              Optional(Eq(std::string("\x00\xff\x7f\xab", 4))));
  EXPECT_THAT(DecodeHex(""), Optional(Eq(std::string())));
  EXPECT_EQ(DecodeHex("abc"), std::nullopt);
  EXPECT_EQ(DecodeHex("zz"), std::nullopt);
  EXPECT_EQ(DecodeHex("0x"), std::nullopt);
}

// Verifies base64 decoding of both alphabets, padded and unpadded.
TEST(CryptoTest, DecodeBase64BothAlphabetsWithAndWithoutPadding) {
  EXPECT_THAT(DecodeBase64("aGVsbG8="), Optional(Eq(std::string("hello"))));
  EXPECT_THAT(DecodeBase64("aGVsbG8"), Optional(Eq(std::string("hello"))));
  EXPECT_THAT(DecodeBase64("aGk="), Optional(Eq(std::string("hi"))));
  EXPECT_THAT(DecodeBase64("aGk"), Optional(Eq(std::string("hi"))));
  EXPECT_THAT(DecodeBase64("+/8="), Optional(Eq(std::string("\xfb\xff"))));
  EXPECT_THAT(DecodeBase64("-_8"), Optional(Eq(std::string("\xfb\xff"))));
  EXPECT_THAT(DecodeBase64(""), Optional(Eq(std::string())));
}

// Verifies malformed base64 is refused rather than partially decoded.
TEST(CryptoTest, DecodeBase64RejectsMalformedInput) {
  EXPECT_EQ(DecodeBase64("a"), std::nullopt);          // 6 bits only
  EXPECT_EQ(DecodeBase64("aGk=="), std::nullopt);      // bad padding
  EXPECT_EQ(DecodeBase64("aG=k"), std::nullopt);       // padding inside
  EXPECT_EQ(DecodeBase64("aGVs bG8="), std::nullopt);  // space
  EXPECT_EQ(DecodeBase64("aGl="), std::nullopt);       // non-zero tail bits
  EXPECT_EQ(DecodeBase64("aGk*"), std::nullopt);
}

// Verifies encoders round-trip through the decoders for every tail length.
TEST(CryptoTest, EncodersRoundTrip) {
  for (const std::string& bytes :
       {std::string(""), std::string("\x01"), std::string("\x01\x02"),
        std::string("\x01\x02\x03"), std::string("\xff\xfe\xfd\xfc")}) {
    EXPECT_THAT(DecodeBase64(EncodeBase64(bytes)), Optional(Eq(bytes)));
    EXPECT_THAT(DecodeHex(EncodeHex(bytes)), Optional(Eq(bytes)));
  }
  EXPECT_EQ(EncodeBase64("hello"), "aGVsbG8=");
}

}  // namespace
}  // namespace hookstream
