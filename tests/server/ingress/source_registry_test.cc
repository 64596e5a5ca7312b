#include "server/ingress/source_registry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::ingress {
namespace {

using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Verifies the GETTRX source refuses to exist without a secret unless
// unsigned mode is explicit, with a one-line reason.
TEST(SourceRegistryTest, GettrxFailsClosedWithoutSecret) {
  absl::StatusOr<WebhookSource> source = MakeGettrxSource({});
  EXPECT_THAT(source, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("no GETTRX signing secret")));
  EXPECT_THAT(std::string(source.status().message()), Not(HasSubstr("\n")));
  absl::StatusOr<WebhookSource> insecure =
      MakeGettrxSource({.allow_unsigned = true});
  ASSERT_THAT(insecure, IsOk());
  EXPECT_EQ(insecure->verifier, nullptr);
  EXPECT_TRUE(insecure->allow_unsigned);
}

// Verifies both schemes build, unknown schemes and bad secrets do not.
TEST(SourceRegistryTest, Schemes) {
  absl::StatusOr<WebhookSource> hmac =
      MakeGettrxSource({.secrets = {{"a", "s"}}});
  ASSERT_THAT(hmac, IsOk());
  EXPECT_EQ(hmac->verifier->scheme(), "hmac-sha256");
  EXPECT_EQ(hmac->name, "gettrx");
  absl::StatusOr<WebhookSource> sw = MakeGettrxSource(
      {.scheme = "standard-webhooks", .secrets = {{"a", "whsec_aGVsbG8="}}});
  ASSERT_THAT(sw, IsOk());
  EXPECT_EQ(sw->verifier->scheme(), "standard-webhooks");
  EXPECT_THAT(MakeGettrxSource({.scheme = "md5", .secrets = {{"a", "s"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown signature scheme")));
  EXPECT_THAT(MakeGettrxSource({.scheme = "md5", .allow_unsigned = true}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeGettrxSource({.scheme = "standard-webhooks",
                                .secrets = {{"a", "whsec_!!"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies routing by path, ignoring the query, and registry validation.
TEST(SourceRegistryTest, RoutesByPath) {
  SourceRegistry sources;
  ASSERT_THAT(sources.Add(*MakeGettrxSource({.secrets = {{"a", "s"}}})),
              IsOk());
  EXPECT_NE(sources.FindByTarget("/v1/webhooks/gettrx"), nullptr);
  EXPECT_NE(sources.FindByTarget("/v1/webhooks/gettrx?x=1"), nullptr);
  EXPECT_EQ(sources.FindByTarget("/v1/webhooks/gettrx/"), nullptr);
  EXPECT_EQ(sources.FindByTarget("/v2/webhooks/gettrx"), nullptr);
  EXPECT_EQ(sources.FindByTarget("v1/webhooks/gettrx"), nullptr);
  EXPECT_THAT(sources.Add(*MakeGettrxSource({.secrets = {{"a", "s"}}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("registered twice")));
  WebhookSource unsigned_source = *MakeGettrxSource({.allow_unsigned = true});
  unsigned_source.name = "other";
  unsigned_source.allow_unsigned = false;
  EXPECT_THAT(sources.Add(unsigned_source),
              StatusIs(absl::StatusCode::kInvalidArgument));
  unsigned_source.name = "Bad/Name";
  unsigned_source.allow_unsigned = true;
  EXPECT_THAT(sources.Add(unsigned_source),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(sources.Names(), std::vector<std::string>{"gettrx"});
}

}  // namespace
}  // namespace hookstream::ingress
