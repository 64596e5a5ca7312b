#include "client/grpc_status.h"

#include <string>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace hookstream {
namespace {

// Builds a serialized google.rpc.Status {code, message, details} the way a
// server puts it in grpc-status-details-bin, byte by byte from the wire
// format (independent of the compiled google/rpc/status.proto, so a copy
// that drifted from the real message would fail here).
std::string RpcStatusBytes(int code, const std::string& message,
                           const std::vector<google::protobuf::Any>& details) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag((1 << 3) | 0);
    coded.WriteVarint32(static_cast<uint32_t>(code));
    coded.WriteTag((2 << 3) | 2);
    coded.WriteVarint32(static_cast<uint32_t>(message.size()));
    coded.WriteString(message);
    for (const google::protobuf::Any& any : details) {
      const std::string bytes = any.SerializeAsString();
      coded.WriteTag((3 << 3) | 2);
      coded.WriteVarint32(static_cast<uint32_t>(bytes.size()));
      coded.WriteString(bytes);
    }
  }
  return out;
}

v1::Gap SampleGap() {
  v1::Gap gap;
  gap.set_stream_epoch("epoch-2");
  gap.set_requested_after_sequence(3);
  gap.set_oldest_sequence(10);
  gap.set_missed_count(6);
  gap.set_reason(v1::GAP_REASON_EVICTED);
  return gap;
}

// Verifies the Gap is found among the details (after another detail type)
// and survives the trip into an absl::Status payload.
TEST(GrpcStatusTest, CarriesTheGapFromRichDetailsIntoTheAbslStatus) {
  google::protobuf::Any other;
  v1::Heartbeat not_a_gap;
  not_a_gap.set_position(99);
  other.PackFrom(not_a_gap);
  google::protobuf::Any packed;
  packed.PackFrom(SampleGap());
  const grpc::Status status(
      grpc::StatusCode::OUT_OF_RANGE, "evicted; oldest is 10",
      RpcStatusBytes(11, "evicted; oldest is 10", {other, packed}));

  const absl::Status converted = FromGrpcStatus(status);
  EXPECT_EQ(converted.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(converted.message(), "evicted; oldest is 10");
  std::optional<v1::Gap> gap = GapFromStatus(converted);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->SerializeAsString(), SampleGap().SerializeAsString());
}

// Verifies statuses without details, with details lacking a Gap, or with
// garbage details carry no Gap.
TEST(GrpcStatusTest, NoGapWithoutOne) {
  EXPECT_FALSE(GapFromStatus(FromGrpcStatus(grpc::Status(
                                 grpc::StatusCode::NOT_FOUND, "unknown id")))
                   .has_value());
  EXPECT_FALSE(GapFromStatusDetails(RpcStatusBytes(5, "x", {})).has_value());
  EXPECT_FALSE(GapFromStatusDetails("\xff\xff\xff garbage").has_value());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

// Verifies the client's Gap type URL is the one Any::PackFrom writes for the
// compiled hookstream.v1.Gap (the server packs it that way).
TEST(GrpcStatusTest, GapTypeUrlIsTheMessagesFullName) {
  google::protobuf::Any any;
  any.PackFrom(SampleGap());
  EXPECT_EQ(any.type_url(), kGapTypeUrl);
  EXPECT_EQ(kGapTypeUrl,
            "type.googleapis.com/" + v1::Gap::descriptor()->full_name());
}

// Verifies a status built with the compiled google.rpc.Status decodes, and
// an Any of another type under a Gap-like name is not taken for a Gap.
TEST(GrpcStatusTest, DecodesTheCompiledRpcStatus) {
  google::rpc::Status rpc_status;
  rpc_status.set_code(9);
  rpc_status.set_message("epoch changed");
  v1::Gap gap = SampleGap();
  gap.set_reason(v1::GAP_REASON_EPOCH_CHANGED);
  rpc_status.add_details()->PackFrom(gap);
  const std::optional<v1::Gap> decoded =
      GapFromStatusDetails(rpc_status.SerializeAsString());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->reason(), v1::GAP_REASON_EPOCH_CHANGED);

  google::rpc::Status impostor;
  google::protobuf::Any* detail = impostor.add_details();
  detail->set_type_url("type.googleapis.com/hookstream.v1.Heartbeat");
  detail->set_value(gap.SerializeAsString());
  EXPECT_FALSE(GapFromStatusDetails(impostor.SerializeAsString()).has_value());
}

}  // namespace
}  // namespace hookstream
