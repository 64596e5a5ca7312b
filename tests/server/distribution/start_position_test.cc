#include "server/distribution/start_position.h"

#include <optional>

#include "absl/status/status.h"
#include "common/base/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/distribution/gap_status.h"
#include "tests/server/distribution/test_events.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::distribution {
namespace {

using ::hookstream::distribution::testing::AppendOrDie;
using ::hookstream::distribution::testing::MakeEvent;
using ::hookstream::testing::FakeClock;
using ::hookstream::testing::IsOk;
using ::hookstream::testing::MemoryStore;
using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kEpoch[] = "epoch-A";

v1::SubscribeRequest AfterSeq(uint64_t sequence) {
  v1::SubscribeRequest r;
  r.set_after_sequence(sequence);
  return r;
}

class StartPositionTest : public ::testing::Test {
 protected:
  // A ring of 4 that has seen events 1..10: holds 7..10.
  StartPositionTest()
      : store_({.max_events = 4, .max_bytes = 1 << 20}, clock_, kEpoch),
        ring_(store_.ring()) {
    for (int n = 1; n <= 10; ++n) AppendOrDie(store_, MakeEvent(n));
  }

  absl::StatusOr<StartPosition> Resolve(const v1::SubscribeRequest& r) {
    return ResolveStartPosition(r, ring_);
  }

  static v1::SubscribeRequest After(uint64_t sequence) {
    return AfterSeq(sequence);
  }

  FakeClock clock_;
  MemoryStore store_;
  EventRing& ring_;
};

void ExpectGap(const v1::Gap& gap, uint64_t requested, uint64_t oldest,
               uint64_t missed, v1::GapReason reason) {
  EXPECT_EQ(gap.stream_epoch(), kEpoch);
  EXPECT_EQ(gap.requested_after_sequence(), requested);
  EXPECT_EQ(gap.oldest_sequence(), oldest);
  EXPECT_EQ(gap.missed_count(), missed);
  EXPECT_EQ(gap.reason(), reason);
}

// Verifies no start, and origin unset or LATEST, start at the head.
TEST_F(StartPositionTest, NoStartAndLatestStartAtHead) {
  v1::SubscribeRequest none;
  ASSERT_THAT(Resolve(none), IsOk());
  EXPECT_EQ(Resolve(none)->after_sequence, 10u);
  EXPECT_FALSE(Resolve(none)->gap);
  for (v1::Origin origin : {v1::ORIGIN_UNSPECIFIED, v1::ORIGIN_LATEST}) {
    v1::SubscribeRequest r;
    r.set_origin(origin);
    ASSERT_THAT(Resolve(r), IsOk());
    EXPECT_EQ(Resolve(r)->after_sequence, 10u);
  }
}

// Verifies ORIGIN_OLDEST starts just before the oldest held event.
TEST_F(StartPositionTest, OldestStartsBeforeOldestHeld) {
  v1::SubscribeRequest r;
  r.set_origin(v1::ORIGIN_OLDEST);
  ASSERT_THAT(Resolve(r), IsOk());
  EXPECT_EQ(Resolve(r)->after_sequence, 6u);
  EXPECT_FALSE(Resolve(r)->gap);
}

// Verifies an unknown origin value is INVALID_ARGUMENT.
TEST_F(StartPositionTest, UnknownOriginIsInvalid) {
  v1::SubscribeRequest r;
  r.set_origin(static_cast<v1::Origin>(42));
  EXPECT_THAT(Resolve(r), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies after_sequence of a held position, the position just before the
// oldest, and the head all start there without a gap.
TEST_F(StartPositionTest, AfterSequenceHeld) {
  for (uint64_t s : {6u, 7u, 9u, 10u}) {
    ASSERT_THAT(Resolve(After(s)), IsOk()) << s;
    EXPECT_EQ(Resolve(After(s))->after_sequence, s);
    EXPECT_FALSE(Resolve(After(s))->gap);
  }
}

// Verifies after_sequence beyond the head is OUT_OF_RANGE without a Gap
// (nothing was missed).
TEST_F(StartPositionTest, AfterSequenceBeyondHeadIsOutOfRange) {
  const absl::StatusOr<StartPosition> start = Resolve(After(11));
  EXPECT_THAT(start, StatusIs(absl::StatusCode::kOutOfRange,
                              HasSubstr("beyond the head sequence 10")));
  EXPECT_FALSE(GapFromStatus(start.status()));
}

// Verifies an evicted position fails with OUT_OF_RANGE carrying the Gap under
// GAP_POLICY_FAIL (explicit and default), naming the oldest sequence.
TEST_F(StartPositionTest, EvictedPositionFailsWithGap) {
  for (v1::GapPolicy policy :
       {v1::GAP_POLICY_UNSPECIFIED, v1::GAP_POLICY_FAIL}) {
    v1::SubscribeRequest r = After(2);
    r.set_gap_policy(policy);
    const absl::StatusOr<StartPosition> start = Resolve(r);
    EXPECT_THAT(start, StatusIs(absl::StatusCode::kOutOfRange,
                                HasSubstr("oldest available sequence is 7")));
    const std::optional<v1::Gap> gap = GapFromStatus(start.status());
    ASSERT_TRUE(gap);
    ExpectGap(*gap, 2, 7, 4, v1::GAP_REASON_EVICTED);
  }
}

// Verifies after_sequence 0 (from the first event ever) is a gap once the
// first event was evicted.
TEST_F(StartPositionTest, AfterZeroOnEvictedRingIsGap) {
  const absl::StatusOr<StartPosition> start = Resolve(After(0));
  EXPECT_THAT(start, StatusIs(absl::StatusCode::kOutOfRange));
  ExpectGap(*GapFromStatus(start.status()), 0, 7, 6, v1::GAP_REASON_EVICTED);
}

// Verifies an evicted position under RESUME_FROM_OLDEST returns the Gap to
// send and starts before the oldest.
TEST_F(StartPositionTest, EvictedPositionResumesFromOldest) {
  v1::SubscribeRequest r = After(2);
  r.set_gap_policy(v1::GAP_POLICY_RESUME_FROM_OLDEST);
  const absl::StatusOr<StartPosition> start = Resolve(r);
  ASSERT_THAT(start, IsOk());
  EXPECT_EQ(start->after_sequence, 6u);
  ASSERT_TRUE(start->gap);
  ExpectGap(*start->gap, 2, 7, 4, v1::GAP_REASON_EVICTED);
}

// Verifies after_event_id starts after that event's sequence.
TEST_F(StartPositionTest, AfterEventIdHeld) {
  v1::SubscribeRequest r;
  r.set_after_event_id("evt_8");
  ASSERT_THAT(Resolve(r), IsOk());
  EXPECT_EQ(Resolve(r)->after_sequence, 8u);
  // evt_6 itself is evicted but its successor is held: no gap.
  r.set_after_event_id("evt_6");
  ASSERT_THAT(Resolve(r), IsOk());
  EXPECT_EQ(Resolve(r)->after_sequence, 6u);
  EXPECT_FALSE(Resolve(r)->gap);
}

// Verifies an id never seen is NOT_FOUND, and an empty id INVALID_ARGUMENT.
TEST_F(StartPositionTest, AfterEventIdUnknown) {
  v1::SubscribeRequest r;
  r.set_after_event_id("evt_404");
  EXPECT_THAT(Resolve(r),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("evt_404")));
  r.set_after_event_id("");
  EXPECT_THAT(Resolve(r), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies an id seen but evicted is treated as an evicted position under
// both policies.
TEST_F(StartPositionTest, AfterEventIdEvicted) {
  v1::SubscribeRequest r;
  r.set_after_event_id("evt_3");
  const absl::StatusOr<StartPosition> failed = Resolve(r);
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kOutOfRange));
  ExpectGap(*GapFromStatus(failed.status()), 3, 7, 3, v1::GAP_REASON_EVICTED);

  r.set_gap_policy(v1::GAP_POLICY_RESUME_FROM_OLDEST);
  const absl::StatusOr<StartPosition> resumed = Resolve(r);
  ASSERT_THAT(resumed, IsOk());
  EXPECT_EQ(resumed->after_sequence, 6u);
  ExpectGap(*resumed->gap, 3, 7, 3, v1::GAP_REASON_EVICTED);
}

// Verifies from_time starts at the first held event appended at or after the
// time, and at the head when there is none.
TEST(StartPositionFromTimeTest, FirstEventAtOrAfter) {
  FakeClock clock;
  MemoryStore store({.max_events = 100, .max_bytes = 1 << 20}, clock, kEpoch);
  EventRing& ring = store.ring();
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  for (int n = 1; n <= 6; ++n) {
    AppendOrDie(store, MakeEvent(n, "customer.created", "acm_1",
                                 t0 + absl::Seconds(10 * n)));
  }
  auto from = [&](absl::Time t) {
    v1::SubscribeRequest r;
    *r.mutable_from_time() = ToProtoTimestamp(t);
    absl::StatusOr<StartPosition> start = ResolveStartPosition(r, ring);
    EXPECT_THAT(start, IsOk());
    EXPECT_FALSE(start.ok() && start->gap);
    return start.ok() ? start->after_sequence : 999;
  };
  EXPECT_EQ(from(t0), 0u);                      // before everything
  EXPECT_EQ(from(t0 + absl::Seconds(30)), 2u);  // exactly event 3
  EXPECT_EQ(from(t0 + absl::Seconds(31)), 3u);  // between 3 and 4
  EXPECT_EQ(from(t0 + absl::Seconds(60)), 5u);  // exactly the last
  EXPECT_EQ(from(t0 + absl::Seconds(61)), 6u);  // after everything: head

  v1::SubscribeRequest bad;
  bad.mutable_from_time()->set_nanos(-1);
  EXPECT_THAT(ResolveStartPosition(bad, ring),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies a different epoch with a position is FAILED_PRECONDITION carrying
// a Gap{EPOCH_CHANGED} under FAIL.
TEST_F(StartPositionTest, EpochMismatchFails) {
  for (bool by_id : {false, true}) {
    v1::SubscribeRequest r = After(9);
    if (by_id) r.set_after_event_id("evt_9");
    r.set_stream_epoch("epoch-B");
    const absl::StatusOr<StartPosition> start = Resolve(r);
    EXPECT_THAT(start, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("oldest available sequence is 7")));
    const std::optional<v1::Gap> gap = GapFromStatus(start.status());
    ASSERT_TRUE(gap);
    ExpectGap(*gap, by_id ? 0 : 9, 7, 0, v1::GAP_REASON_EPOCH_CHANGED);
  }
}

// Verifies a different epoch under RESUME_FROM_OLDEST sends a Gap and starts
// from the oldest, even when the position would be beyond this epoch's head.
TEST_F(StartPositionTest, EpochMismatchResumesFromOldest) {
  v1::SubscribeRequest r = After(500);
  r.set_stream_epoch("epoch-B");
  r.set_gap_policy(v1::GAP_POLICY_RESUME_FROM_OLDEST);
  const absl::StatusOr<StartPosition> start = Resolve(r);
  ASSERT_THAT(start, IsOk());
  EXPECT_EQ(start->after_sequence, 6u);
  ASSERT_TRUE(start->gap);
  ExpectGap(*start->gap, 500, 7, 0, v1::GAP_REASON_EPOCH_CHANGED);
}

// Verifies the matching epoch changes nothing, and that origins ignore the
// epoch (they do not belong to one).
TEST_F(StartPositionTest, EpochMatchOrNotPositional) {
  v1::SubscribeRequest r = After(8);
  r.set_stream_epoch(kEpoch);
  ASSERT_THAT(Resolve(r), IsOk());
  EXPECT_EQ(Resolve(r)->after_sequence, 8u);

  v1::SubscribeRequest oldest;
  oldest.set_origin(v1::ORIGIN_OLDEST);
  oldest.set_stream_epoch("epoch-B");
  ASSERT_THAT(Resolve(oldest), IsOk());
  EXPECT_EQ(Resolve(oldest)->after_sequence, 6u);
  EXPECT_FALSE(Resolve(oldest)->gap);
}

// Verifies an unknown gap policy value is INVALID_ARGUMENT.
TEST_F(StartPositionTest, UnknownGapPolicyIsInvalid) {
  v1::SubscribeRequest r;
  r.set_gap_policy(static_cast<v1::GapPolicy>(7));
  EXPECT_THAT(Resolve(r), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies starts on an empty ring: everything is position 0, no gap.
TEST(StartPositionEmptyRingTest, AllStartsAtZero) {
  FakeClock clock;
  EventRing ring({.max_events = 4, .max_bytes = 1 << 20}, clock,
                 {.epoch = kEpoch});
  v1::SubscribeRequest latest, oldest, zero;
  oldest.set_origin(v1::ORIGIN_OLDEST);
  zero.set_after_sequence(0);
  for (const v1::SubscribeRequest& r : {latest, oldest, zero}) {
    const absl::StatusOr<StartPosition> start = ResolveStartPosition(r, ring);
    ASSERT_THAT(start, IsOk());
    EXPECT_EQ(start->after_sequence, 0u);
    EXPECT_FALSE(start->gap);
  }
  EXPECT_THAT(ResolveStartPosition(AfterSeq(1), ring),
              StatusIs(absl::StatusCode::kOutOfRange));
}

v1::SubscribeRequest WithInterval(int64_t seconds, int32_t nanos) {
  v1::SubscribeRequest r;
  r.mutable_heartbeat_interval()->set_seconds(seconds);
  r.mutable_heartbeat_interval()->set_nanos(nanos);
  return r;
}

// Verifies the heartbeat interval default, bounds and rejections.
TEST(HeartbeatIntervalTest, DefaultBoundsAndRejections) {
  EXPECT_THAT(HeartbeatInterval(v1::SubscribeRequest()),
              ::hookstream::testing::IsOkAndHolds(absl::Seconds(15)));
  EXPECT_THAT(HeartbeatInterval(WithInterval(0, 0)),
              ::hookstream::testing::IsOkAndHolds(absl::Seconds(15)));
  EXPECT_THAT(HeartbeatInterval(WithInterval(1, 0)),
              ::hookstream::testing::IsOkAndHolds(absl::Seconds(1)));
  EXPECT_THAT(HeartbeatInterval(WithInterval(2, 500'000'000)),
              ::hookstream::testing::IsOkAndHolds(absl::Milliseconds(2500)));
  EXPECT_THAT(HeartbeatInterval(WithInterval(3600, 0)),
              ::hookstream::testing::IsOkAndHolds(absl::Hours(1)));
  for (const v1::SubscribeRequest& bad :
       {WithInterval(0, 999'999'999), WithInterval(3601, 0),
        WithInterval(-5, 0), WithInterval(1, -1),
        WithInterval(0, 2'000'000'000)}) {
    EXPECT_THAT(HeartbeatInterval(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad.DebugString();
  }
}

}  // namespace
}  // namespace hookstream::distribution
