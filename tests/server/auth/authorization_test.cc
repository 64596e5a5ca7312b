#include "server/auth/authorization.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::auth {
namespace {

using ::hookstream::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::EventFilter Filter(std::vector<std::string> types,
                       std::vector<std::string> accounts = {}) {
  v1::EventFilter f;
  for (const std::string& t : types) f.add_types(t);
  for (const std::string& a : accounts) f.add_accounts(a);
  return f;
}

const Identity kBilling{.name = "billing",
                        .types = {"customer.*", "refund.created"},
                        .accounts = {"acm_1", "acm_2"}};
const Identity kAll{.name = "all", .types = {"*"}};

// Verifies which requested patterns lie inside which grants.
TEST(AuthorizationTest, PatternCoverage) {
  EXPECT_TRUE(PatternCovers("*", "*"));
  EXPECT_TRUE(PatternCovers("*", "customer.created"));
  EXPECT_TRUE(PatternCovers("customer.*", "customer.created"));
  EXPECT_TRUE(PatternCovers("customer.*", "customer.*"));
  EXPECT_TRUE(PatternCovers("customer.*", "customer.tax_id.*"));
  EXPECT_TRUE(PatternCovers("customer.*", "customer.tax_id.created"));
  EXPECT_FALSE(PatternCovers("customer.*", "customer"));
  EXPECT_FALSE(PatternCovers("customer.*", "customers.created"));
  EXPECT_FALSE(PatternCovers("customer.*", "*"));
  EXPECT_FALSE(PatternCovers("customer.tax_id.*", "customer.*"));
  EXPECT_TRUE(PatternCovers("refund.created", "refund.created"));
  EXPECT_FALSE(PatternCovers("refund.created", "refund.*"));
  EXPECT_FALSE(PatternCovers("refund.created", "refund.created.x"));
}

// Verifies an empty request becomes the grant, and a narrower one is kept.
TEST(AuthorizationTest, RestrictFilterIntersects) {
  absl::StatusOr<v1::EventFilter> f = RestrictFilter(kBilling, Filter({}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->types(), ElementsAre("customer.*", "refund.created"));
  EXPECT_THAT(f->accounts(), ElementsAre("acm_1", "acm_2"));
  f = RestrictFilter(kBilling, Filter({"customer.created"}, {"acm_2"}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->types(), ElementsAre("customer.created"));
  EXPECT_THAT(f->accounts(), ElementsAre("acm_2"));
  f = RestrictFilter(kAll, Filter({}, {"acm_9"}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->types(), ElementsAre("*"));
  EXPECT_THAT(f->accounts(), ElementsAre("acm_9"));
}

// Verifies asking for anything outside the grant is PERMISSION_DENIED
// naming it (never a silent subset).
TEST(AuthorizationTest, AskingOutsideIsPermissionDenied) {
  EXPECT_THAT(RestrictFilter(kBilling, Filter({"*"})),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("may not read type pattern '*'")));
  EXPECT_THAT(
      RestrictFilter(kBilling, Filter({"customer.created", "refund.*"})),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("'refund.*'")));
  EXPECT_THAT(RestrictFilter(kBilling, Filter({}, {"acm_1", "acm_3"})),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("may not read account 'acm_3'")));
}

// Verifies MayRead for single events (GetEvent).
TEST(AuthorizationTest, MayRead) {
  EXPECT_TRUE(MayRead(kBilling, "customer.created", "acm_1"));
  EXPECT_TRUE(MayRead(kBilling, "refund.created", "acm_2"));
  EXPECT_FALSE(MayRead(kBilling, "refund.pending", "acm_1"));
  EXPECT_FALSE(MayRead(kBilling, "customer.created", "acm_3"));
  EXPECT_FALSE(MayRead(kBilling, "customer.created", ""));
  EXPECT_FALSE(MayRead(kBilling, "customer", "acm_1"));
  EXPECT_TRUE(MayRead(kAll, "anything", ""));
}

}  // namespace
}  // namespace hookstream::auth
