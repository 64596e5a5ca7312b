// -----------------------------------------------------------------------------
// File: grpc_status.h
// -----------------------------------------------------------------------------
// Turns a grpc::Status into an absl::Status without losing the gap contract's
// rich details: when the server ends a stream with OUT_OF_RANGE or
// FAILED_PRECONDITION it puts a google.rpc.Status carrying a
// hookstream.v1.Gap in `grpc-status-details-bin` (grpc::Status::
// error_details()). The Gap travels on as an absl::Status payload under
// kGapPayloadUrl, so callers that only see absl::Status can still read it.
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

inline constexpr absl::string_view kGapPayloadUrl =
    "type.googleapis.com/hookstream.v1.Gap";

// The Gap inside a serialized google.rpc.Status, if any.
std::optional<v1::Gap> GapFromStatusDetails(absl::string_view details);

// Same code and message; the Gap (if the details carry one) as a payload.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The Gap payload FromGrpcStatus attached, if any.
std::optional<v1::Gap> GapFromStatus(const absl::Status& status);

}  // namespace hookstream
