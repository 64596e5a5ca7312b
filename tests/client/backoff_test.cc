#include "client/backoff.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace hookstream {
namespace {

Backoff::Options TestOptions() {
  Backoff::Options options;
  options.initial_delay = absl::Milliseconds(100);
  options.max_delay = absl::Seconds(1);
  options.multiplier = 2.0;
  return options;
}

// Verifies the ceiling doubles per attempt and stops at max_delay.
TEST(BackoffTest, CeilingGrowsExponentiallyUpToTheMaximum) {
  testing::FakeClock clock;
  Backoff backoff(TestOptions(), clock, [] { return 0.5; });
  const std::vector<absl::Duration> expected_ceilings = {
      absl::Milliseconds(100), absl::Milliseconds(200), absl::Milliseconds(400),
      absl::Milliseconds(800), absl::Seconds(1),        absl::Seconds(1)};
  for (const absl::Duration ceiling : expected_ceilings) {
    EXPECT_EQ(backoff.CurrentCeiling(), ceiling);
    EXPECT_EQ(backoff.NextDelay(), ceiling / 2);
  }
  EXPECT_EQ(backoff.attempts(), 6);
}

// Verifies full jitter: the delay is the random fraction of the ceiling, from
// zero up to (not beyond) the ceiling.
TEST(BackoffTest, DelayIsTheRandomFractionOfTheCeiling) {
  testing::FakeClock clock;
  double next = 0.0;
  Backoff backoff(TestOptions(), clock, [&next] { return next; });
  next = 0.0;
  EXPECT_EQ(backoff.NextDelay(), absl::ZeroDuration());
  next = 0.25;
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(50));
  next = 1.0;
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(400));
  next = 7.0;  // a broken source is clamped, never exceeds the ceiling
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(800));
}

// Verifies Reset starts over from the initial ceiling.
TEST(BackoffTest, ResetStartsOver) {
  testing::FakeClock clock;
  Backoff backoff(TestOptions(), clock, [] { return 1.0; });
  backoff.NextDelay();
  backoff.NextDelay();
  EXPECT_EQ(backoff.CurrentCeiling(), absl::Milliseconds(400));
  backoff.Reset();
  EXPECT_EQ(backoff.attempts(), 0);
  EXPECT_EQ(backoff.NextDelay(), absl::Milliseconds(100));
}

// Verifies NextAttemptTime is the clock's now plus the delay.
TEST(BackoffTest, NextAttemptTimeUsesTheClock) {
  testing::FakeClock clock(absl::FromUnixSeconds(1000));
  Backoff backoff(TestOptions(), clock, [] { return 0.5; });
  EXPECT_EQ(backoff.NextAttemptTime(),
            absl::FromUnixSeconds(1000) + absl::Milliseconds(50));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(backoff.NextAttemptTime(),
            absl::FromUnixSeconds(1005) + absl::Milliseconds(100));
}

// Verifies a huge attempt count neither overflows nor exceeds max_delay.
TEST(BackoffTest, ManyAttemptsStayAtTheMaximum) {
  testing::FakeClock clock;
  Backoff backoff(TestOptions(), clock, [] { return 1.0; });
  for (int i = 0; i < 10'000; ++i) backoff.NextDelay();
  EXPECT_EQ(backoff.NextDelay(), absl::Seconds(1));
}

// Verifies the default random source yields delays within [0, ceiling] that
// are not all equal (it is actually random).
TEST(BackoffTest, DefaultRandomSourceJittersWithinTheCeiling) {
  testing::FakeClock clock;
  Backoff::Options options = TestOptions();
  options.multiplier = 1.0;
  Backoff backoff(options, clock);
  absl::Duration first = backoff.NextDelay();
  bool varied = false;
  for (int i = 0; i < 100; ++i) {
    const absl::Duration d = backoff.NextDelay();
    EXPECT_GE(d, absl::ZeroDuration());
    EXPECT_LE(d, absl::Milliseconds(100));
    varied = varied || d != first;
  }
  EXPECT_TRUE(varied);
}

}  // namespace
}  // namespace hookstream
