#include "client/start_position.h"

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;

// Verifies every documented text form parses into the right request fields.
TEST(StartPositionTest, ParsesEveryFormIntoTheRequest) {
  v1::SubscribeRequest r;

  ParseStartPosition("oldest")->ApplyTo(r);
  EXPECT_EQ(r.origin(), v1::ORIGIN_OLDEST);

  ParseStartPosition("latest")->ApplyTo(r);
  EXPECT_EQ(r.origin(), v1::ORIGIN_LATEST);

  ParseStartPosition("seq:42")->ApplyTo(r);
  EXPECT_EQ(r.start_case(), v1::SubscribeRequest::kAfterSequence);
  EXPECT_EQ(r.after_sequence(), 42u);
  EXPECT_EQ(r.stream_epoch(), "");

  ParseStartPosition("seq:0@20261128T132201Z-9f3a")->ApplyTo(r);
  EXPECT_EQ(r.start_case(), v1::SubscribeRequest::kAfterSequence);
  EXPECT_EQ(r.after_sequence(), 0u);
  EXPECT_EQ(r.stream_epoch(), "20261128T132201Z-9f3a");

  ParseStartPosition("id:evt_123")->ApplyTo(r);
  EXPECT_EQ(r.after_event_id(), "evt_123");
  EXPECT_EQ(r.stream_epoch(), "");  // cleared from the previous start

  ParseStartPosition("time:2026-11-28T13:22:01.5Z")->ApplyTo(r);
  EXPECT_EQ(r.start_case(), v1::SubscribeRequest::kFromTime);
  EXPECT_EQ(
      r.from_time().seconds(),
      absl::ToUnixSeconds(absl::FromCivil(
          absl::CivilSecond(2026, 11, 28, 13, 22, 1), absl::UTCTimeZone())));
  EXPECT_EQ(r.from_time().nanos(), 500'000'000);
}

// Verifies bad input is refused with a message naming the problem.
TEST(StartPositionTest, RejectsMalformedInput) {
  EXPECT_THAT(ParseStartPosition("seq:abc"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a sequence number")));
  EXPECT_THAT(ParseStartPosition("seq:-1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ParseStartPosition("seq:5@"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty epoch")));
  EXPECT_THAT(ParseStartPosition("id:"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("empty event id")));
  EXPECT_THAT(
      ParseStartPosition("time:yesterday"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("RFC 3339")));
  EXPECT_THAT(ParseStartPosition("newest"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected oldest, latest")));
}

// Verifies ToString gives back text that parses to the same position.
TEST(StartPositionTest, ToStringRoundTrips) {
  for (const char* text : {"oldest", "latest", "seq:7", "seq:7@ep-1",
                           "id:evt_x", "time:2026-11-28T13:22:01Z"}) {
    absl::StatusOr<StartPosition> p = ParseStartPosition(text);
    ASSERT_TRUE(p.ok()) << text;
    EXPECT_EQ(p->ToString(), text);
  }
}

}  // namespace
}  // namespace hookstream
