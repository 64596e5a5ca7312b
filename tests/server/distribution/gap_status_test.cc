#include "server/distribution/gap_status.h"

#include <optional>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace hookstream::distribution {
namespace {

using ::testing::HasSubstr;

v1::Gap EvictedGap() {
  v1::Gap gap;
  gap.set_stream_epoch("e1");
  gap.set_requested_after_sequence(3);
  gap.set_oldest_sequence(11);
  gap.set_missed_count(7);
  gap.set_reason(v1::GAP_REASON_EVICTED);
  return gap;
}

// Verifies an eviction gap becomes OUT_OF_RANGE whose message names the
// oldest available sequence, with a google.rpc.Status in the binary details
// that a client decodes with the standard types (code, message, Any(Gap)).
TEST(GapStatusTest, EvictedIsOutOfRangeWithRichDetails) {
  const grpc::Status status = ToGrpcStatus(GapError(EvictedGap()));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(),
              HasSubstr("oldest available sequence is 11"));

  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(status.error_details()));
  EXPECT_EQ(rich.code(), static_cast<int>(grpc::StatusCode::OUT_OF_RANGE));
  EXPECT_EQ(rich.message(), status.error_message());
  ASSERT_EQ(rich.details_size(), 1);
  EXPECT_EQ(rich.details(0).type_url(),
            "type.googleapis.com/hookstream.v1.Gap");
  v1::Gap gap;
  ASSERT_TRUE(rich.details(0).UnpackTo(&gap));
  EXPECT_EQ(gap.SerializeAsString(), EvictedGap().SerializeAsString());
  ASSERT_TRUE(GapFromGrpcStatus(status));
  EXPECT_EQ(GapFromGrpcStatus(status)->oldest_sequence(), 11u);
}

// Verifies an epoch change becomes FAILED_PRECONDITION with the Gap.
TEST(GapStatusTest, EpochChangedIsFailedPrecondition) {
  v1::Gap gap = EvictedGap();
  gap.set_reason(v1::GAP_REASON_EPOCH_CHANGED);
  gap.set_missed_count(0);
  const absl::Status error = GapError(gap);
  EXPECT_EQ(error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(error.message()),
              HasSubstr("oldest available sequence is 11"));
  const grpc::Status status = ToGrpcStatus(error);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(GapFromGrpcStatus(status));
  EXPECT_EQ(GapFromGrpcStatus(status)->reason(), v1::GAP_REASON_EPOCH_CHANGED);
}

// Verifies statuses without payloads carry no details, and OK stays OK.
TEST(GapStatusTest, PlainStatusHasNoDetails) {
  const grpc::Status status =
      ToGrpcStatus(absl::NotFoundError("evt_1 was never seen"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "evt_1 was never seen");
  EXPECT_TRUE(status.error_details().empty());
  EXPECT_FALSE(GapFromGrpcStatus(status));
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace hookstream::distribution
