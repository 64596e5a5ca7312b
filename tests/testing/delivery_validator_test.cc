// The validator must catch each violation it promises, or the tests that use
// it (kill -9 loop, soak) could pass with the contract broken.
#include "tests/testing/delivery_validator.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookstream::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kEpoch[] = "ep";

std::vector<StreamEvent> Stream(int n) {
  std::vector<StreamEvent> s;
  for (int i = 1; i <= n; ++i) {
    s.push_back({static_cast<uint64_t>(i), absl::StrCat("evt_", i),
                 i % 2 == 0 ? "refund.created" : "customer.created", "acm_1"});
  }
  return s;
}

v1::Event Ev(uint64_t seq, std::string id = "") {
  v1::Event e;
  e.set_stream_epoch(kEpoch);
  e.set_sequence(seq);
  e.set_id(id.empty() ? absl::StrCat("evt_", seq) : id);
  return e;
}

TEST(DeliveryValidatorTest, AcceptsAFaithfulDelivery) {
  DeliveryLog all("all");
  all.Started(kEpoch, 0);
  for (uint64_t s = 1; s <= 5; ++s) all.Event(Ev(s));
  v1::EventFilter refunds;
  refunds.add_types("refund.*");
  DeliveryLog only("refunds", refunds);
  only.Started(kEpoch, 0);
  only.Event(Ev(2));
  only.Event(Ev(4));
  EXPECT_THAT(
      ValidateDeliveries(kEpoch, Stream(5), {{"evt_3", 3}}, {&all, &only}),
      IsEmpty());
}

TEST(DeliveryValidatorTest, CatchesEachViolation) {
  DeliveryLog dup("dup");
  dup.Started(kEpoch, 0);
  dup.Event(Ev(1));
  dup.Event(Ev(1));
  DeliveryLog skip("skip");
  skip.Started(kEpoch, 0);
  skip.Event(Ev(1));
  skip.Event(Ev(3));
  DeliveryLog reused("reused");
  reused.Started(kEpoch, 2);
  reused.Event(Ev(3, "evt_other"));
  DeliveryLog gap_ok("gap_ok");
  gap_ok.Started(kEpoch, 0);
  v1::Gap gap;
  gap.set_stream_epoch(kEpoch);
  gap.set_oldest_sequence(4);
  gap_ok.Gap(gap);
  gap_ok.Event(Ev(4));
  const std::vector<std::string> bad = ValidateDeliveries(
      kEpoch, Stream(4), {{"evt_1", 1}, {"evt_9", 9}, {"evt_2", 3}},
      {&dup, &skip, &reused, &gap_ok});
  EXPECT_THAT(bad, ElementsAre(HasSubstr("evt_2 at sequence 3 is at 2"),
                               HasSubstr("evt_9 (sequence 9) is missing"),
                               HasSubstr("dup: sequence 1 after 1"),
                               HasSubstr("skip: skipped sequence 2"),
                               HasSubstr("reused: sequence 3 delivered as")));
}

TEST(DeliveryValidatorTest, CatchesABrokenStream) {
  std::vector<StreamEvent> s = Stream(3);
  s[2].sequence = 2;
  s[2].id = "evt_1";
  EXPECT_THAT(ValidateDeliveries(kEpoch, s, {}, {}),
              ElementsAre(HasSubstr("sequence 2 after 2"),
                          HasSubstr("id evt_1 at sequences 1 and 2")));
}

}  // namespace
}  // namespace hookstream::testing
