#include "server/auth/access_policy.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::auth {
namespace {

using ::hookstream::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string Policy(const std::string& identities) {
  return absl::StrCat("{\"identities\":[", identities, "]}");
}

// Verifies the issue's example file: a token identity and a certificate
// identity, each found by its credential only.
TEST(AccessPolicyTest, FindsIdentitiesByTokenAndSubject) {
  const std::string json = Policy(absl::StrCat(
      R"({"name":"billing","token_sha256":")", TokenSha256Hex("s3cret-token"),
      R"(","types":["customer.*"],"accounts":["acm_1"],"extra":1},)",
      R"({"name":"analytics","client_cert_subject":"CN=analytics",)",
      R"("types":["*"]})"));
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(json);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->size(), 2u);
  const Identity* billing = policy->FindByToken("s3cret-token");
  ASSERT_NE(billing, nullptr);
  EXPECT_EQ(billing->name, "billing");
  EXPECT_THAT(billing->types, ElementsAre("customer.*"));
  EXPECT_THAT(billing->accounts, ElementsAre("acm_1"));
  EXPECT_EQ(policy->FindByToken("s3cret-tokeN"), nullptr);
  EXPECT_EQ(policy->FindByToken(""), nullptr);
  const Identity* analytics = policy->FindByCertSubject("CN=analytics");
  ASSERT_NE(analytics, nullptr);
  EXPECT_EQ(analytics->name, "analytics");
  EXPECT_THAT(analytics->accounts, IsEmpty());
  EXPECT_EQ(policy->FindByCertSubject("CN=billing"), nullptr);
  EXPECT_EQ(policy->FindByName("analytics"), analytics);
}

// Verifies an identity with only a certificate is never matched by a token
// whose hash happens to be the all-zero placeholder.
TEST(AccessPolicyTest, CertificateIdentityHasNoToken) {
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(
      Policy(R"({"name":"a","client_cert_subject":"CN=a","types":["*"]})"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->FindByToken(""), nullptr);
  EXPECT_EQ(policy->FindByToken("anything"), nullptr);
}

// Verifies the hash is SHA-256 in lower-case hex (what sha256sum prints).
TEST(AccessPolicyTest, TokenHashIsSha256Hex) {
  EXPECT_EQ(TokenSha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Verifies each malformed entry is refused with a reason naming it, and
// never quoting a hash.
TEST(AccessPolicyTest, RefusesMalformedFiles) {
  const std::string bad_hash = std::string(63, 'a');
  for (
      const auto& [json, reason] :
      std::vector<std::pair<std::string, std::string>>{
          {"not json", "not valid JSON"},
          {"[]", "want {\"identities\""},
          {Policy(R"({"types":["*"],"client_cert_subject":"CN=a"})"),
           "\"name\""},
          {Policy(R"({"name":"a","types":["*"]})"), "give \"token_sha256\""},
          {Policy(absl::StrCat(R"({"name":"a","types":["*"],"token_sha256":")",
                               bad_hash, "\"}")),
           "64 hex digits"},
          {Policy(R"({"name":"a","client_cert_subject":"CN=a"})"), "\"types\""},
          {Policy(
               R"({"name":"a","client_cert_subject":"CN=a","types":["a*"]})"),
           "bad type pattern"},
          {Policy(
               R"({"name":"a","client_cert_subject":"CN=a","types":["*"],"accounts":[""]})"),
           "non-empty strings"},
          {Policy(R"({"name":"a","client_cert_subject":"CN=a","types":["*"]},)"
                  R"({"name":"a","client_cert_subject":"CN=b","types":["*"]})"),
           "used twice"},
      }) {
    absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(json);
    EXPECT_THAT(policy,
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(reason)))
        << json;
    EXPECT_THAT(std::string(policy.status().message()),
                Not(HasSubstr(bad_hash)));
  }
}

}  // namespace
}  // namespace hookstream::auth
