#include "common/signature/hmac_body_verifier.h"

#include <map>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::hookstream::testing::IsOkAndHolds;
using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;

// Vectors computed at authoring time with:
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'test-secret'
//   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'test-secret' -binary |
//   base64 printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'rotated-secret'
constexpr absl::string_view kBody =
    R"({"id":"evt_1","type":"customer.created"})";
constexpr absl::string_view kHex =
    "39e5dd584b3fc6991d8fb93b5eb7e6017586a6697fe6ba838b74b0eb18386aee";
constexpr absl::string_view kBase64 =
    "OeXdWEs/xpkdj7k7XrfmAXWGpml/5rqDi3Sw6xg4au4=";
constexpr absl::string_view kBase64Url =
    "OeXdWEs_xpkdj7k7XrfmAXWGpml_5rqDi3Sw6xg4au4";
constexpr absl::string_view kRotatedHex =
    "49453705bdd5af68fbad25a0856dcb2f7ab45bcb4cb64bec96da71d7b3f8cbeb";

const absl::Time kNow = absl::FromUnixSeconds(1733267345);

class Headers {
 public:
  Headers& Set(std::string name, std::string value) {
    map_[std::move(name)] = std::move(value);
    return *this;
  }
  std::optional<absl::string_view> operator()(absl::string_view name) const {
    auto it = map_.find(std::string(name));
    if (it == map_.end()) return std::nullopt;
    return absl::string_view(it->second);
  }

 private:
  std::map<std::string, std::string> map_;
};

absl::StatusOr<std::string> VerifyWith(const Verifier& verifier,
                                       absl::string_view signature,
                                       absl::string_view body = kBody) {
  Headers headers;
  headers.Set("x-webhook-signature", std::string(signature));
  return verifier.Verify({.header = headers, .body = body}, kNow);
}

std::unique_ptr<HmacBodyVerifier> MakeVerifier() {
  auto verifier = HmacBodyVerifier::Create({{"current", "test-secret"}});
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return *std::move(verifier);
}

// Verifies every documented encoding of the known vector is accepted.
TEST(HmacBodyVerifierTest, AcceptsEveryEncodingOfTheKnownVector) {
  const auto verifier = MakeVerifier();
  const std::string upper = absl::AsciiStrToUpper(kHex);
  const std::string unpadded(kBase64.substr(0, kBase64.size() - 1));
  for (const std::string& signature :
       {std::string(kHex), upper, std::string(kBase64), unpadded,
        std::string(kBase64Url), absl::StrCat("sha256=", kHex),
        absl::StrCat("SHA256=", upper), absl::StrCat("v1=", kHex),
        absl::StrCat("v1=", kBase64), absl::StrCat("sha256=", kBase64Url),
        absl::StrCat("  ", kHex, "  ")}) {
    EXPECT_THAT(VerifyWith(*verifier, signature), IsOkAndHolds("current"))
        << signature;
  }
}

// Verifies a list of candidates passes when any one of them matches.
TEST(HmacBodyVerifierTest, AcceptsAnyMatchingCandidateInAList) {
  const auto verifier = MakeVerifier();
  const std::string wrong(64, 'a');
  EXPECT_THAT(VerifyWith(*verifier, absl::StrCat(wrong, ",", kHex)),
              IsOkAndHolds("current"));
  EXPECT_THAT(VerifyWith(*verifier, absl::StrCat("v1=", wrong, " v1=", kHex)),
              IsOkAndHolds("current"));
  EXPECT_THAT(VerifyWith(*verifier, absl::StrCat(kBase64, ", garbage")),
              IsOkAndHolds("current"));
}

// Verifies a missing or empty header is reported as missing.
TEST(HmacBodyVerifierTest, MissingHeaderIsUnauthenticated) {
  const auto verifier = MakeVerifier();
  Headers none;
  const absl::StatusOr<std::string> result =
      verifier->Verify({.header = none, .body = kBody}, kNow);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnauthenticated,
                               HasSubstr("missing_signature")));
  EXPECT_EQ(VerifyFailureReason(result.status()), kReasonMissingSignature);
  EXPECT_EQ(VerifyFailureReason(VerifyWith(*verifier, "   ").status()),
            kReasonMissingSignature);
}

// Verifies undecodable and truncated signatures are malformed, not matched.
TEST(HmacBodyVerifierTest, MalformedAndTruncatedSignaturesAreRejected) {
  const auto verifier = MakeVerifier();
  for (const std::string& signature :
       {std::string(kHex.substr(0, 63)), std::string(kHex.substr(0, 62)),
        std::string(kBase64.substr(0, 40)), std::string("sha256="),
        std::string("not a signature"), absl::StrCat("sha1=", kHex),
        absl::StrCat(kHex, "00")}) {
    const absl::StatusOr<std::string> result = VerifyWith(*verifier, signature);
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnauthenticated))
        << signature;
    EXPECT_EQ(VerifyFailureReason(result.status()), kReasonMalformedSignature)
        << signature;
  }
}

// Verifies a well-formed signature of other bytes or another key fails.
TEST(HmacBodyVerifierTest, WrongSignatureIsBadSignature) {
  const auto verifier = MakeVerifier();
  std::string flipped(kHex);
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  const absl::StatusOr<std::string> result = VerifyWith(*verifier, flipped);
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnauthenticated,
                               HasSubstr("none of 1 secret")));
  EXPECT_EQ(VerifyFailureReason(result.status()), kReasonBadSignature);
  // The right signature over a body differing in one byte.
  std::string body(kBody);
  body.back() = ' ';
  EXPECT_EQ(VerifyFailureReason(VerifyWith(*verifier, kHex, body).status()),
            kReasonBadSignature);
  EXPECT_EQ(VerifyFailureReason(VerifyWith(*verifier, kRotatedHex).status()),
            kReasonBadSignature);
}

// Verifies that with two active secrets either one passes and the result
// names the one that matched.
TEST(HmacBodyVerifierTest, RotationReportsWhichSecretMatched) {
  auto verifier = HmacBodyVerifier::Create(
      {{"old", "test-secret"}, {"new", "rotated-secret"}});
  ASSERT_TRUE(verifier.ok());
  EXPECT_THAT(VerifyWith(**verifier, kHex), IsOkAndHolds("old"));
  EXPECT_THAT(VerifyWith(**verifier, kRotatedHex), IsOkAndHolds("new"));
  // A sender signing with both during its own roll.
  EXPECT_THAT(VerifyWith(**verifier, absl::StrCat(kRotatedHex, ",", kHex)),
              IsOkAndHolds("old"));
  EXPECT_EQ((*verifier)->secret_count(), 2u);
}

// Verifies the header name is configurable and looked up in lower case.
TEST(HmacBodyVerifierTest, CustomHeaderName) {
  auto verifier = HmacBodyVerifier::Create({{"k", "test-secret"}},
                                           {.header = "X-Hub-Signature-256"});
  ASSERT_TRUE(verifier.ok());
  Headers headers;
  headers.Set("x-hub-signature-256", absl::StrCat("sha256=", kHex));
  EXPECT_THAT((*verifier)->Verify({.header = headers, .body = kBody}, kNow),
              IsOkAndHolds("k"));
}

// Verifies creation fails closed on unusable secrets.
TEST(HmacBodyVerifierTest, CreateRejectsBadSecrets) {
  EXPECT_THAT(HmacBodyVerifier::Create({}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no signing secret")));
  EXPECT_THAT(HmacBodyVerifier::Create({{"a", ""}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HmacBodyVerifier::Create({{"", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HmacBodyVerifier::Create({{"a", "x"}, {"a", "y"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than once")));
}

// Verifies a failure message never contains the secret or the expected MAC.
TEST(HmacBodyVerifierTest, FailureMessageLeaksNothing) {
  const auto verifier = MakeVerifier();
  const absl::Status status = VerifyWith(*verifier, kRotatedHex).status();
  EXPECT_THAT(std::string(status.message()),
              ::testing::Not(HasSubstr("test-secret")));
  EXPECT_THAT(std::string(status.message()),
              ::testing::Not(HasSubstr(std::string(kHex))));
}

}  // namespace
}  // namespace hookstream
