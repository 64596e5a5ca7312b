#include "server/distribution/gap_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"

namespace hookstream::distribution {

absl::Status GapError(const v1::Gap& gap) {
  absl::Status status;
  if (gap.reason() == v1::GAP_REASON_EPOCH_CHANGED) {
    status = absl::FailedPreconditionError(absl::StrCat(
        "stream epoch changed: position belongs to another epoch; the server's "
        "epoch is ",
        gap.stream_epoch(), ", oldest available sequence is ",
        gap.oldest_sequence()));
  } else {
    status = absl::OutOfRangeError(absl::StrCat(
        "events after sequence ", gap.requested_after_sequence(),
        " were evicted (", gap.missed_count(),
        " missed); oldest available sequence is ", gap.oldest_sequence()));
  }
  status.SetPayload(kGapTypeUrl, absl::Cord(gap.SerializeAsString()));
  return status;
}

std::optional<v1::Gap> GapFromStatus(const absl::Status& status) {
  const auto payload = status.GetPayload(kGapTypeUrl);  // absl::optional
  if (!payload) return std::nullopt;
  v1::Gap gap;
  if (!gap.ParseFromString(std::string(*payload))) return std::nullopt;
  return gap;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  google::rpc::Status rich;
  status.ForEachPayload(
      [&rich](absl::string_view type_url, const absl::Cord& payload) {
        google::protobuf::Any* any = rich.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(payload));
      });
  if (rich.details().empty()) return grpc::Status(code, message);
  rich.set_code(static_cast<int32_t>(status.code()));
  rich.set_message(message);
  return grpc::Status(code, message, rich.SerializeAsString());
}

std::optional<v1::Gap> GapFromGrpcStatus(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return std::nullopt;
  for (const google::protobuf::Any& any : rich.details()) {
    v1::Gap gap;
    if (any.UnpackTo(&gap)) return gap;
  }
  return std::nullopt;
}

}  // namespace hookstream::distribution
