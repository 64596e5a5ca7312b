#include "common/ring/dedup_index.h"

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace hookstream {
namespace {

using ::hookstream::testing::FakeClock;
using ::testing::Eq;
using ::testing::Optional;

TEST(DedupIndexTest, FindsInsertedIdsWithTheirSequence) {
  // Verifies that an inserted id is found with its sequence and others are
  // not.
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(1), .max_ids = 10}, clock);
  dedup.Insert("evt_a", 7);
  dedup.Insert("evt_b", 9);
  EXPECT_THAT(dedup.Find("evt_a"), Optional(Eq(7u)));
  EXPECT_THAT(dedup.Find("evt_b"), Optional(Eq(9u)));
  EXPECT_EQ(dedup.Find("evt_c"), std::nullopt);
  EXPECT_EQ(dedup.size(), 2u);
}

TEST(DedupIndexTest, ForgetsIdsOnceTheWindowHasPassed) {
  // Verifies that ids expire exactly `window` after insertion, each by its
  // own insertion time.
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(1), .max_ids = 10}, clock);
  dedup.Insert("evt_old", 1);
  clock.Advance(absl::Minutes(30));
  dedup.Insert("evt_new", 2);
  clock.Advance(absl::Minutes(29));
  EXPECT_THAT(dedup.Find("evt_old"), Optional(Eq(1u)));

  clock.Advance(absl::Minutes(1));  // evt_old is 60 min old, evt_new 30.
  EXPECT_EQ(dedup.Find("evt_old"), std::nullopt);
  EXPECT_THAT(dedup.Find("evt_new"), Optional(Eq(2u)));
  EXPECT_EQ(dedup.size(), 1u);

  clock.Advance(absl::Minutes(30));
  EXPECT_EQ(dedup.Find("evt_new"), std::nullopt);
  EXPECT_EQ(dedup.size(), 0u);
}

TEST(DedupIndexTest, InsertExpiresOldIdsToo) {
  // Verifies that Insert, not only Find, forgets expired ids (size shrinks).
  FakeClock clock;
  DedupIndex dedup({.window = absl::Seconds(10), .max_ids = 10}, clock);
  dedup.Insert("evt_1", 1);
  dedup.Insert("evt_2", 2);
  clock.Advance(absl::Seconds(10));
  dedup.Insert("evt_3", 3);
  EXPECT_EQ(dedup.size(), 1u);
  EXPECT_THAT(dedup.Find("evt_3"), Optional(Eq(3u)));
}

TEST(DedupIndexTest, CountCapForgetsOldestFirst) {
  // Verifies that beyond max_ids the oldest ids are forgotten, newest kept.
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(72), .max_ids = 3}, clock);
  for (uint64_t i = 1; i <= 5; ++i) {
    dedup.Insert("evt_" + std::to_string(i), i);
    EXPECT_LE(dedup.size(), 3u);
  }
  EXPECT_EQ(dedup.size(), 3u);
  EXPECT_EQ(dedup.Find("evt_1"), std::nullopt);
  EXPECT_EQ(dedup.Find("evt_2"), std::nullopt);
  EXPECT_THAT(dedup.Find("evt_3"), Optional(Eq(3u)));
  EXPECT_THAT(dedup.Find("evt_4"), Optional(Eq(4u)));
  EXPECT_THAT(dedup.Find("evt_5"), Optional(Eq(5u)));
}

TEST(DedupIndexTest, SecondInsertOfSameIdKeepsTheFirstSequence) {
  // Verifies that a contract-breaking second Insert neither replaces the
  // first sequence nor leaves a dangling key once the first entry expires.
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(1), .max_ids = 2}, clock);
  dedup.Insert("evt_a", 1);
  dedup.Insert("evt_a", 2);
  EXPECT_THAT(dedup.Find("evt_a"), Optional(Eq(1u)));
  EXPECT_EQ(dedup.size(), 1u);
  dedup.Insert("evt_b", 3);
  dedup.Insert("evt_c", 4);  // evicts evt_a by count
  EXPECT_EQ(dedup.Find("evt_a"), std::nullopt);
  EXPECT_THAT(dedup.Find("evt_b"), Optional(Eq(3u)));
  EXPECT_THAT(dedup.Find("evt_c"), Optional(Eq(4u)));
}

TEST(DedupIndexTest, KeepsLongIdsIntactAcrossManyInserts) {
  // Verifies that keys (views into stored ids) stay valid as the index grows
  // past small-string sizes and reallocations.
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(1), .max_ids = 1000}, clock);
  const std::string prefix(100, 'x');
  for (uint64_t i = 0; i < 1000; ++i) {
    dedup.Insert(prefix + std::to_string(i), i);
  }
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_THAT(dedup.Find(prefix + std::to_string(i)), Optional(Eq(i)));
  }
}

}  // namespace
}  // namespace hookstream
