#include "client/grpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace hookstream {
namespace {

using ::google::protobuf::internal::WireFormatLite;

// google.rpc.Status { int32 code = 1; string message = 2;
//                     repeated google.protobuf.Any details = 3; }
// Debian ships no google/rpc/status.proto, so the one field we need is read
// straight from the wire format.
constexpr int kDetailsField = 3;

}  // namespace

std::optional<v1::Gap> GapFromStatusDetails(absl::string_view details) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(details.data()),
      static_cast<int>(details.size()));
  while (const uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == kDetailsField &&
        WireFormatLite::GetTagWireType(tag) ==
            WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      std::string bytes;
      if (!in.ReadVarint32(&length) ||
          !in.ReadString(&bytes, static_cast<int>(length))) {
        return std::nullopt;
      }
      google::protobuf::Any any;
      v1::Gap gap;
      if (any.ParseFromString(bytes) && any.Is<v1::Gap>() &&
          any.UnpackTo(&gap)) {
        return gap;
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return std::nullopt;
    }
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
      result.SetPayload(kGapPayloadUrl, absl::Cord(gap->SerializeAsString()));
    }
  }
  return result;
}

std::optional<v1::Gap> GapFromStatus(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kGapPayloadUrl);
  if (!payload) return std::nullopt;
  v1::Gap gap;
  if (!gap.ParseFromString(std::string(*payload))) return std::nullopt;
  return gap;
}

}  // namespace hookstream
