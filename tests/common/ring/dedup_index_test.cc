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
  dedup.Insert("evt_a", 7, clock.Now());
  dedup.Insert("evt_b", 9, clock.Now());
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
  dedup.Insert("evt_old", 1, clock.Now());
  clock.Advance(absl::Minutes(30));
  dedup.Insert("evt_new", 2, clock.Now());
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
  dedup.Insert("evt_1", 1, clock.Now());
  dedup.Insert("evt_2", 2, clock.Now());
  clock.Advance(absl::Seconds(10));
  dedup.Insert("evt_3", 3, clock.Now());
  EXPECT_EQ(dedup.size(), 1u);
  EXPECT_THAT(dedup.Find("evt_3"), Optional(Eq(3u)));
}

TEST(DedupIndexTest, CountCapForgetsOldestFirst) {
  // Verifies that beyond max_ids the oldest ids are forgotten, newest kept.
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(72), .max_ids = 3}, clock);
  for (uint64_t i = 1; i <= 5; ++i) {
    dedup.Insert("evt_" + std::to_string(i), i, clock.Now());
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
  dedup.Insert("evt_a", 1, clock.Now());
  dedup.Insert("evt_a", 2, clock.Now());
  EXPECT_THAT(dedup.Find("evt_a"), Optional(Eq(1u)));
  EXPECT_EQ(dedup.size(), 1u);
  dedup.Insert("evt_b", 3, clock.Now());
  dedup.Insert("evt_c", 4, clock.Now());  // evicts evt_a by count
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
    dedup.Insert(prefix + std::to_string(i), i, clock.Now());
  }
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_THAT(dedup.Find(prefix + std::to_string(i)), Optional(Eq(i)));
  }
}

TEST(DedupIndexTest, PinnedIdsOutliveTheWindowAndTheCount) {
  // Verifies that ids at or above the KeepFrom floor are never forgotten,
  // however old or many, and that lowering the pin releases them to the
  // window and the count again.
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(1), .max_ids = 2}, clock);
  dedup.KeepFrom(1);
  for (uint64_t i = 1; i <= 4; ++i) {
    dedup.Insert("evt_" + std::to_string(i), i, clock.Now());
  }
  EXPECT_EQ(dedup.size(), 4u);  // max_ids is a floor the pinned ids exceed
  clock.Advance(absl::Hours(2));
  for (uint64_t i = 1; i <= 4; ++i) {
    EXPECT_THAT(dedup.Find("evt_" + std::to_string(i)), Optional(Eq(i)));
  }

  dedup.KeepFrom(3);  // 1 and 2 are expired and unpinned: forgotten
  EXPECT_EQ(dedup.Find("evt_1"), std::nullopt);
  EXPECT_EQ(dedup.Find("evt_2"), std::nullopt);
  EXPECT_THAT(dedup.Find("evt_3"), Optional(Eq(3u)));
  EXPECT_EQ(dedup.size(), 2u);

  dedup.KeepFrom(5);
  EXPECT_EQ(dedup.Find("evt_4"), std::nullopt);
  EXPECT_EQ(dedup.size(), 0u);
}

TEST(DedupIndexTest, CountCapForgetsOnlyUnpinnedIds) {
  // Verifies that beyond max_ids only ids below the pin are forgotten, and
  // that the remembered count is then max(max_ids, pinned ids).
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(72), .max_ids = 2}, clock);
  dedup.KeepFrom(1);
  dedup.Insert("evt_1", 1, clock.Now());
  dedup.Insert("evt_2", 2, clock.Now());
  dedup.Insert("evt_3", 3, clock.Now());
  dedup.KeepFrom(2);
  dedup.Insert("evt_4", 4,
               clock.Now());  // forgets evt_1, keeps the three pinned
  EXPECT_EQ(dedup.size(), 3u);
  EXPECT_EQ(dedup.Find("evt_1"), std::nullopt);
  EXPECT_THAT(dedup.Find("evt_2"), Optional(Eq(2u)));
  EXPECT_THAT(dedup.Find("evt_4"), Optional(Eq(4u)));

  dedup.KeepFrom(4);
  dedup.Insert("evt_5", 5,
               clock.Now());  // 4 ids, 2 of them pinned: the 2 oldest go
  EXPECT_EQ(dedup.size(), 2u);
  EXPECT_EQ(dedup.Find("evt_3"), std::nullopt);
  EXPECT_THAT(dedup.Find("evt_4"), Optional(Eq(4u)));
  EXPECT_THAT(dedup.Find("evt_5"), Optional(Eq(5u)));
}

TEST(DedupIndexTest, PeekForgetsNothing) {
  // Verifies that Peek answers like Find but leaves expired ids in place
  // (it is const), while Find forgets them.
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(1), .max_ids = 10}, clock);
  dedup.Insert("evt_a", 7, clock.Now());
  EXPECT_THAT(dedup.Peek("evt_a"), Optional(Eq(7u)));
  EXPECT_EQ(dedup.Peek("evt_b"), std::nullopt);
  clock.Advance(absl::Hours(1));
  EXPECT_THAT(dedup.Peek("evt_a"), Optional(Eq(7u)));
  EXPECT_EQ(dedup.size(), 1u);
  EXPECT_EQ(dedup.Find("evt_a"), std::nullopt);
  EXPECT_EQ(dedup.Peek("evt_a"), std::nullopt);
  EXPECT_EQ(dedup.size(), 0u);
}

TEST(DedupIndexTest, ForgettingStopsAtTheFirstPinnedId) {
  // Verifies the documented limit of out-of-order inserts: an unpinned id
  // inserted after a pinned one waits for it (later, never wrongly early).
  FakeClock clock;
  DedupIndex dedup({.window = absl::Hours(1), .max_ids = 10}, clock);
  dedup.KeepFrom(5);
  dedup.Insert("evt_pinned", 5, clock.Now());
  dedup.Insert("evt_late", 1, clock.Now());
  clock.Advance(absl::Hours(2));
  EXPECT_THAT(dedup.Find("evt_pinned"), Optional(Eq(5u)));
  EXPECT_THAT(dedup.Find("evt_late"), Optional(Eq(1u)));
  dedup.KeepFrom(6);
  EXPECT_EQ(dedup.Find("evt_late"), std::nullopt);
  EXPECT_EQ(dedup.size(), 0u);
}

TEST(DedupIndexTest, ByteCapForgetsOldestLongIdsFirst) {
  // Verifies the byte bound (issue 11, "300 events with 1 MB ids"): long ids
  // are forgotten oldest first once their bytes pass max_bytes, although
  // the count bound is far away, and the charged bytes follow exactly.
  FakeClock clock;
  constexpr size_t kIdBytes = 1 << 20;
  constexpr size_t kCharge = kIdBytes + DedupIndex::kEntryOverheadBytes;
  DedupIndex dedup({.window = absl::Hours(72),
                    .max_ids = 1'000'000,
                    .max_bytes = 4 * kCharge},
                   clock);
  for (uint64_t s = 1; s <= 300; ++s) {
    dedup.Insert(std::string(kIdBytes, static_cast<char>('a' + s % 26)) +
                     std::to_string(s),
                 s, clock.Now());
    ASSERT_LE(dedup.bytes(), 4 * kCharge + 3 * 300) << "after " << s;
  }
  EXPECT_LE(dedup.size(), 4u);
  EXPECT_GE(dedup.size(), 3u);
  EXPECT_EQ(dedup.Find(std::string(kIdBytes, 'b') + "1"), std::nullopt);
  EXPECT_THAT(
      dedup.Find(std::string(kIdBytes, static_cast<char>('a' + 300 % 26)) +
                 "300"),
      Optional(Eq(300u)));
  // Short ids are charged their length plus the overhead.
  DedupIndex small({.max_bytes = 1 << 20}, clock);
  small.Insert("evt_1", 1, clock.Now());
  EXPECT_EQ(small.bytes(), 5 + DedupIndex::kEntryOverheadBytes);
}

TEST(DedupIndexTest, ByteCapNeverForgetsPinnedIds) {
  // Verifies that pinned ids (held by the ring) survive the byte bound: the
  // ring's own byte budget bounds them instead.
  FakeClock clock;
  DedupIndex dedup({.max_bytes = 1000}, clock);
  dedup.KeepFrom(1);
  dedup.Insert(std::string(2000, 'x'), 1, clock.Now());
  dedup.Insert(std::string(2000, 'y'), 2, clock.Now());
  EXPECT_EQ(dedup.size(), 2u);
  dedup.KeepFrom(2);
  EXPECT_EQ(dedup.Find(std::string(2000, 'x')), std::nullopt);
  EXPECT_THAT(dedup.Find(std::string(2000, 'y')), Optional(Eq(2u)));
}

}  // namespace
}  // namespace hookstream
