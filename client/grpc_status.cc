#include "client/grpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"

namespace hookstream {

std::optional<v1::Gap> GapFromStatusDetails(absl::string_view details) {
  google::rpc::Status status;
  if (details.empty() ||
      !status.ParseFromArray(details.data(),
                             static_cast<int>(details.size()))) {
    return std::nullopt;
  }
  for (const google::protobuf::Any& detail : status.details()) {
    v1::Gap gap;
    if (detail.type_url() == kGapTypeUrl && detail.UnpackTo(&gap)) return gap;
  }
  return std::nullopt;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  // grpc::StatusCode and absl::StatusCode share the canonical numbering.
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
  if (!result.ok()) {
    if (std::optional<v1::Gap> gap =
            GapFromStatusDetails(status.error_details())) {
      result.SetPayload(kGapTypeUrl, absl::Cord(gap->SerializeAsString()));
    }
  }
  return result;
}

std::optional<v1::Gap> GapFromStatus(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kGapTypeUrl);
  if (!payload) return std::nullopt;
  v1::Gap gap;
  if (!gap.ParseFromString(std::string(*payload))) return std::nullopt;
  return gap;
}

}  // namespace hookstream
