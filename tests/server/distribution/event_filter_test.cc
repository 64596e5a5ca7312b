#include "server/distribution/event_filter.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::distribution {
namespace {

using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;

v1::EventFilter Proto(std::vector<std::string> types,
                      std::vector<std::string> accounts = {}) {
  v1::EventFilter proto;
  for (const std::string& t : types) proto.add_types(t);
  for (const std::string& a : accounts) proto.add_accounts(a);
  return proto;
}

// The arguments are string literals: StoredEvent's fields are views.
StoredEvent Event(absl::string_view type, absl::string_view account = "acm_1") {
  StoredEvent event;
  event.type = type;
  event.account = account;
  return event;
}

EventFilter MustCreate(const v1::EventFilter& proto) {
  absl::StatusOr<EventFilter> filter = EventFilter::Create(proto);
  EXPECT_TRUE(filter.ok()) << filter.status();
  return filter.ok() ? *filter : EventFilter();
}

// Verifies an empty filter (and a default-constructed one) matches everything.
TEST(EventFilterTest, EmptyMatchesEverything) {
  const EventFilter filter = MustCreate(Proto({}));
  EXPECT_TRUE(filter.MatchesAll());
  EXPECT_TRUE(filter.Matches(Event("customer.created")));
  EXPECT_TRUE(filter.Matches(Event("", "")));
  EXPECT_TRUE(EventFilter().Matches(Event("refund.created", "acm_9")));
}

// Verifies an exact type matches only that type.
TEST(EventFilterTest, ExactType) {
  const EventFilter filter = MustCreate(Proto({"customer.created"}));
  EXPECT_FALSE(filter.MatchesAll());
  EXPECT_TRUE(filter.Matches(Event("customer.created")));
  EXPECT_FALSE(filter.Matches(Event("customer.updated")));
  EXPECT_FALSE(filter.Matches(Event("customer.created.extra")));
  EXPECT_FALSE(filter.Matches(Event("customer")));
}

// Verifies `prefix.*` matches types under the prefix, at any depth, but not
// the bare prefix or a type that only starts with the same letters.
TEST(EventFilterTest, PrefixPattern) {
  const EventFilter filter = MustCreate(Proto({"customer.*"}));
  EXPECT_TRUE(filter.Matches(Event("customer.created")));
  EXPECT_TRUE(filter.Matches(Event("customer.tax_id.created")));
  EXPECT_FALSE(filter.Matches(Event("customer")));
  EXPECT_FALSE(filter.Matches(Event("customer.")));
  EXPECT_FALSE(filter.Matches(Event("customers.created")));
  EXPECT_FALSE(filter.Matches(Event("refund.created")));
}

// Verifies `*` matches every type, even alongside narrower patterns.
TEST(EventFilterTest, StarMatchesAllTypes) {
  const EventFilter filter = MustCreate(Proto({"refund.created", "*"}));
  EXPECT_TRUE(filter.MatchesAll());
  EXPECT_TRUE(filter.Matches(Event("anything.at.all")));
}

// Verifies several type entries are OR'd.
TEST(EventFilterTest, TypesAreOred) {
  const EventFilter filter =
      MustCreate(Proto({"refund.*", "customer.created"}));
  EXPECT_TRUE(filter.Matches(Event("refund.updated")));
  EXPECT_TRUE(filter.Matches(Event("customer.created")));
  EXPECT_FALSE(filter.Matches(Event("customer.deleted")));
}

// Verifies accounts are OR'd among themselves and AND'd with types.
TEST(EventFilterTest, AccountsAndTypes) {
  const EventFilter filter =
      MustCreate(Proto({"customer.*"}, {"acm_1", "acm_2"}));
  EXPECT_TRUE(filter.Matches(Event("customer.created", "acm_1")));
  EXPECT_TRUE(filter.Matches(Event("customer.created", "acm_2")));
  EXPECT_FALSE(filter.Matches(Event("customer.created", "acm_3")));
  EXPECT_FALSE(filter.Matches(Event("refund.created", "acm_1")));

  const EventFilter accounts_only = MustCreate(Proto({}, {"acm_2"}));
  EXPECT_FALSE(accounts_only.MatchesAll());
  EXPECT_TRUE(accounts_only.Matches(Event("refund.created", "acm_2")));
  EXPECT_FALSE(accounts_only.Matches(Event("refund.created", "acm_1")));
}

// Verifies every malformed pattern is INVALID_ARGUMENT naming the pattern.
TEST(EventFilterTest, RejectsBadPatterns) {
  for (const std::string bad :
       {"cust*omer", "customer*", "*.created", "customer.*.created", ".*", "**",
        "customer.**", "*customer"}) {
    EXPECT_THAT(EventFilter::Create(Proto({bad})),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad)))
        << bad;
  }
  EXPECT_THAT(EventFilter::Create(Proto({""})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EventFilter::Create(Proto({}, {""})),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hookstream::distribution
