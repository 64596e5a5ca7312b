// -----------------------------------------------------------------------------
// File: grpc_status.h
// -----------------------------------------------------------------------------
// Turns a grpc::Status into an absl::Status without losing the gap contract's
// rich details: when the server ends a stream with OUT_OF_RANGE or
// FAILED_PRECONDITION it puts a google.rpc.Status carrying a
// hookstream.v1.Gap in `grpc-status-details-bin` (grpc::Status::
// error_details()). The details are decoded with the compiled
// google.rpc.Status (protos/google/rpc/status.proto), and the Gap travels on
// as an absl::Status payload under kGapTypeUrl, so callers that only see
// absl::Status can still read it.
//
// Example:
//   absl::Status s = FromGrpcStatus(reader->Finish());
//   if (std::optional<v1::Gap> gap = GapFromStatus(s)) Report(*gap);
//
// Thread-safety: pure functions.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream {

// The type URL of a hookstream.v1.Gap packed in a google.protobuf.Any: what
// the server writes into the status details ("type.googleapis.com/" + the
// message's full name, as Any::PackFrom makes it; grpc_status_test checks
// the two agree). The client owns its copy: it never includes server/.
inline constexpr absl::string_view kGapTypeUrl =
    "type.googleapis.com/hookstream.v1.Gap";

// The Gap inside a serialized google.rpc.Status, if any.
std::optional<v1::Gap> GapFromStatusDetails(absl::string_view details);

// Same code and message; the Gap (if the details carry one) as a payload.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The Gap payload FromGrpcStatus attached, if any.
std::optional<v1::Gap> GapFromStatus(const absl::Status& status);

}  // namespace hookstream
