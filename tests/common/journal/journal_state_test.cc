#include "common/journal/journal_state.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::journal {
namespace {

using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;

JournalState State(bool clean, std::string sync, std::string boot) {
  return {.epoch = "20261202T000000Z-0123456789abcdef",
          .epoch_start = absl::FromUnixSeconds(1'800'000'000),
          .boot_id = std::move(boot),
          .sync = std::move(sync),
          .clean = clean};
}

TEST(JournalStateTest, RoundTrips) {
  const JournalState s = State(false, "none", "boot-1");
  absl::StatusOr<JournalState> d = DecodeJournalState(EncodeJournalState(s));
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->epoch, s.epoch);
  EXPECT_EQ(d->epoch_start, s.epoch_start);
  EXPECT_EQ(d->boot_id, "boot-1");
  EXPECT_EQ(d->sync, "none");
  EXPECT_FALSE(d->clean);
}

TEST(JournalStateTest, RefusesDamage) {
  std::string text = EncodeJournalState(State(true, "fsync", "b"));
  text[30] ^= 1;
  EXPECT_THAT(DecodeJournalState(text), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeJournalState("hello"),
              StatusIs(absl::StatusCode::kDataLoss));
}

// Verifies the table of journal_state.h: only an unclean stop under
// --journal_sync=none followed by a reboot changes the epoch.
TEST(JournalStateTest, NewEpochOnlyAfterUncleanNoneAndReboot) {
  EXPECT_FALSE(NeedsNewEpoch(State(true, "none", "a"), "b"));
  EXPECT_FALSE(NeedsNewEpoch(State(false, "fsync", "a"), "b"));
  EXPECT_FALSE(NeedsNewEpoch(State(false, "none", "a"), "a"));
  EXPECT_TRUE(NeedsNewEpoch(State(false, "none", "a"), "b"));
}

TEST(JournalStateTest, BootIdIsRead) {
  EXPECT_THAT(CurrentBootId(), ::testing::MatchesRegex("[0-9a-f-]{36}"));
}

}  // namespace
}  // namespace hookstream::journal
