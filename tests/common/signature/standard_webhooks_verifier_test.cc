#include "common/signature/standard_webhooks_verifier.h"

#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::hookstream::testing::FakeClock;
using ::hookstream::testing::IsOkAndHolds;
using ::hookstream::testing::StatusIs;

// The Standard Webhooks specification's example secret. Vectors computed at
// authoring time with:
//   KEY=$(printf '%s' MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c
//   100) printf '%s' "$ID.$TS.$BODY" |
//     openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY -binary | base64
constexpr absl::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
// The specification's own example message.
constexpr absl::string_view kSpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr absl::string_view kSpecTimestamp = "1614265330";
constexpr absl::string_view kSpecBody = R"({"test": 2432232314})";
constexpr absl::string_view kSpecSignature =
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// A GETTRX body signed at FakeClock's default start time.
constexpr absl::string_view kId = "msg_1";
constexpr absl::string_view kTimestamp = "1733267345";
constexpr absl::string_view kBody =
    R"({"id":"evt_1","type":"customer.created"})";
constexpr absl::string_view kSignature =
    "v1,VPG6XuDD3d13NKFLJSh+qqEmlNeArSiqOLeTOGJHKjQ=";

class Headers {
 public:
  Headers(absl::string_view id, absl::string_view timestamp,
          absl::string_view signature) {
    if (!id.empty()) map_["webhook-id"] = std::string(id);
    if (!timestamp.empty()) map_["webhook-timestamp"] = std::string(timestamp);
    if (!signature.empty()) map_["webhook-signature"] = std::string(signature);
  }
  std::optional<absl::string_view> operator()(absl::string_view name) const {
    auto it = map_.find(std::string(name));
    if (it == map_.end()) return std::nullopt;
    return absl::string_view(it->second);
  }

 private:
  std::map<std::string, std::string> map_;
};

class StandardWebhooksVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto verifier =
        StandardWebhooksVerifier::Create({{"primary", std::string(kSecret)}});
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = *std::move(verifier);
  }

  absl::StatusOr<std::string> Verify(absl::string_view id,
                                     absl::string_view timestamp,
                                     absl::string_view signature,
                                     absl::string_view body = kBody) {
    Headers headers(id, timestamp, signature);
    return verifier_->Verify({.header = headers, .body = body}, clock_.Now());
  }

  FakeClock clock_;  // starts at 1733267345 = kTimestamp
  std::unique_ptr<StandardWebhooksVerifier> verifier_;
};

// Verifies the specification's own example passes.
TEST_F(StandardWebhooksVerifierTest, SpecificationExamplePasses) {
  clock_.Set(absl::FromUnixSeconds(1614265330));
  EXPECT_THAT(Verify(kSpecId, kSpecTimestamp, kSpecSignature, kSpecBody),
              IsOkAndHolds("primary"));
}

// Verifies a GETTRX body signed now passes, alone and among other entries.
TEST_F(StandardWebhooksVerifierTest, AcceptsV1AmongOtherEntries) {
  EXPECT_THAT(Verify(kId, kTimestamp, kSignature), IsOkAndHolds("primary"));
  EXPECT_THAT(
      Verify(kId, kTimestamp,
             absl::StrCat("v1a,c2lnbmF0dXJl "
                          "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ",
                          kSignature)),
      IsOkAndHolds("primary"));
}

// Verifies the timestamp tolerance holds in both directions, inclusive of
// exactly 5 minutes.
TEST_F(StandardWebhooksVerifierTest, ToleranceBothDirections) {
  const absl::Time sent = absl::FromUnixSeconds(1733267345);
  clock_.Set(sent + absl::Minutes(5));
  EXPECT_THAT(Verify(kId, kTimestamp, kSignature), IsOkAndHolds("primary"));
  clock_.Set(sent - absl::Minutes(5));
  EXPECT_THAT(Verify(kId, kTimestamp, kSignature), IsOkAndHolds("primary"));

  clock_.Set(sent + absl::Minutes(5) + absl::Seconds(1));
  absl::StatusOr<std::string> old = Verify(kId, kTimestamp, kSignature);
  EXPECT_THAT(old, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(VerifyFailureReason(old.status()), kReasonTimestampTooOld);

  clock_.Set(sent - absl::Minutes(5) - absl::Seconds(1));
  absl::StatusOr<std::string> future = Verify(kId, kTimestamp, kSignature);
  EXPECT_THAT(future, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(VerifyFailureReason(future.status()), kReasonTimestampTooNew);
}

// Verifies tolerance is configurable per direction.
TEST_F(StandardWebhooksVerifierTest, CustomTolerance) {
  auto verifier =
      StandardWebhooksVerifier::Create({{"primary", std::string(kSecret)}},
                                       {.tolerance_past = absl::Minutes(5),
                                        .tolerance_future = absl::Minutes(1)});
  ASSERT_TRUE(verifier.ok());
  Headers headers(kId, kTimestamp, kSignature);
  const absl::Time sent = absl::FromUnixSeconds(1733267345);
  EXPECT_EQ(VerifyFailureReason((*verifier)
                                    ->Verify({.header = headers, .body = kBody},
                                             sent - absl::Minutes(2))
                                    .status()),
            kReasonTimestampTooNew);
  EXPECT_THAT((*verifier)->Verify({.header = headers, .body = kBody},
                                  sent + absl::Minutes(4)),
              IsOkAndHolds("primary"));
}

// Verifies each missing header is reported as a missing signature.
TEST_F(StandardWebhooksVerifierTest, MissingHeaders) {
  using Parts =
      std::tuple<absl::string_view, absl::string_view, absl::string_view>;
  for (const auto& [id, ts, sig] :
       {Parts{"", kTimestamp, kSignature}, Parts{kId, "", kSignature},
        Parts{kId, kTimestamp, ""}}) {
    absl::StatusOr<std::string> result = Verify(id, ts, sig);
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnauthenticated));
    EXPECT_EQ(VerifyFailureReason(result.status()), kReasonMissingSignature);
  }
}

// Verifies malformed timestamps and signature lists are refused.
TEST_F(StandardWebhooksVerifierTest, MalformedInput) {
  for (absl::string_view ts : {"abc", "-1733267345", "+1733267345", "1e9",
                               "1733267345.5", "99999999999999999999"}) {
    EXPECT_EQ(VerifyFailureReason(Verify(kId, ts, kSignature).status()),
              kReasonMalformedSignature)
        << ts;
  }
  for (absl::string_view sig :
       {"v2,VPG6XuDD3d13NKFLJSh+qqEmlNeArSiqOLeTOGJHKjQ=",
        "VPG6XuDD3d13NKFLJSh+qqEmlNeArSiqOLeTOGJHKjQ=", "v1,", "v1,!!!!",
        "v1,VPG6XuDD3d13NKFLJSh+qqEmlNeArSiqOLeTOG"}) {
    EXPECT_EQ(VerifyFailureReason(Verify(kId, kTimestamp, sig).status()),
              kReasonMalformedSignature)
        << sig;
  }
}

// Verifies the id, the timestamp and the body are all covered by the MAC.
TEST_F(StandardWebhooksVerifierTest, EverySignedPartMatters) {
  EXPECT_EQ(
      VerifyFailureReason(Verify("msg_2", kTimestamp, kSignature).status()),
      kReasonBadSignature);
  EXPECT_EQ(VerifyFailureReason(Verify(kId, "1733267346", kSignature).status()),
            kReasonBadSignature);
  EXPECT_EQ(
      VerifyFailureReason(
          Verify(kId, kTimestamp, kSignature, R"({"id":"evt_2"})").status()),
      kReasonBadSignature);
}

// Verifies rotation: the secret that matched is reported.
TEST_F(StandardWebhooksVerifierTest, RotationReportsMatchedSecret) {
  auto verifier = StandardWebhooksVerifier::Create(
      {{"next", "whsec_c2Vjb25kLXNlY3JldC1rZXk="},
       {"current", std::string(kSecret)}});
  ASSERT_TRUE(verifier.ok());
  Headers headers(kId, kTimestamp, kSignature);
  EXPECT_THAT(
      (*verifier)->Verify({.header = headers, .body = kBody}, clock_.Now()),
      IsOkAndHolds("current"));
}

// Verifies secret decoding: whsec_ is base64-decoded, other text is raw.
TEST_F(StandardWebhooksVerifierTest, SecretDecoding) {
  EXPECT_THAT(StandardWebhooksVerifier::DecodeSecret("whsec_aGVsbG8="),
              IsOkAndHolds("hello"));
  EXPECT_THAT(StandardWebhooksVerifier::DecodeSecret("plain"),
              IsOkAndHolds("plain"));
  EXPECT_THAT(StandardWebhooksVerifier::DecodeSecret("whsec_***"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(StandardWebhooksVerifier::Create({{"bad", "whsec_"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hookstream
