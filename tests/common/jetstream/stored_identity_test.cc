#include "common/jetstream/stored_identity.h"

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/store/stream_identity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::jetstream {
namespace {

using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;

// Verifies that what hookstream writes into the Description reads back as
// the same identity, to the nanosecond.
TEST(StoredIdentityTest, FormatsAndParsesBack) {
  const absl::Time start =
      absl::FromUnixNanos(int64_t{1'796'300'433'675'704'185});
  const StreamIdentity identity = NewStreamIdentity(start);
  const std::string text = FormatStoredIdentity(identity);
  EXPECT_THAT(text, ::testing::MatchesRegex(
                        "hookstream epoch=[0-9]{8}T[0-9]{6}Z-[0-9a-f]{16} "
                        "start=2026-12-03T12:20:33.675704185Z"));
  absl::StatusOr<StreamIdentity> parsed = ParseStoredIdentity(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->epoch, identity.epoch);
  EXPECT_EQ(parsed->start_time, start);
}

// Verifies a fixed text, as another hookstream version may have written it.
TEST(StoredIdentityTest, ParsesAFixedText) {
  absl::StatusOr<StreamIdentity> parsed = ParseStoredIdentity(
      "hookstream epoch=20261203T122033Z-9f3a1c2b4d5e6f70 "
      "start=2026-12-03T12:20:33Z");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->epoch, "20261203T122033Z-9f3a1c2b4d5e6f70");
  EXPECT_EQ(parsed->start_time, absl::FromUnixSeconds(1'796'300'433));
}

// Verifies that an empty Description (an older hookstream's stream) is
// told apart from someone else's text and from a damaged identity.
TEST(StoredIdentityTest, TellsMissingFromForeignAndMalformed) {
  EXPECT_THAT(ParseStoredIdentity("").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ParseStoredIdentity("orders of the shop").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not hookstream's")));
  for (const char* bad : {
           "hookstream epoch=",
           "hookstream epoch=20261203T122033Z-9f3a1c2b4d5e6f70",
           "hookstream epoch=20261203T122033Z-9F3A1C2B4D5E6F70 "
           "start=2026-12-03T12:20:33Z",
           "hookstream epoch=20261203T122033Z-9f3a1c2b4d5e6f7 "
           "start=2026-12-03T12:20:33Z",
           "hookstream epoch=20261203T122033Z-9f3a1c2b4d5e6f70 "
           "start=yesterday",
           "hookstream epoch=20261203T122033Z-9f3a1c2b4d5e6f70 "
           "start=2026-12-03T12:20:33Z extra",
       }) {
    EXPECT_THAT(ParseStoredIdentity(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("not a well-formed")))
        << bad;
  }
}

// Verifies the epoch an older hookstream derived: stable for a name and
// creation time, different for another creation (a recreated stream is a
// new epoch), and of the same shape as every epoch.
TEST(StoredIdentityTest, DerivedEpochComesFromNameAndCreation) {
  const StreamIdentity a = IdentityOfStream("HOOKSTREAM", 1'800'000'000'123);
  EXPECT_EQ(a.epoch, IdentityOfStream("HOOKSTREAM", 1'800'000'000'123).epoch);
  EXPECT_NE(a.epoch, IdentityOfStream("HOOKSTREAM", 1'800'000'000'124).epoch);
  EXPECT_NE(a.epoch, IdentityOfStream("OTHER", 1'800'000'000'123).epoch);
  absl::StatusOr<StreamIdentity> parsed =
      ParseStoredIdentity(FormatStoredIdentity(a));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->epoch, a.epoch);
  EXPECT_EQ(parsed->start_time, a.start_time);
}

}  // namespace
}  // namespace hookstream::jetstream
