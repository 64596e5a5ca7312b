// -----------------------------------------------------------------------------
// File: gap_status.h
// -----------------------------------------------------------------------------
// The gap contract's error side: a `hookstream.v1.Gap` becomes a status that
// ends a stream, and that status crosses to gRPC with rich details.
//
// - GapError(gap): OUT_OF_RANGE for an evicted position, FAILED_PRECONDITION
//   for an epoch change; the message names the oldest available sequence;
//   the Gap rides along as an absl::Status payload (type URL
//   `type.googleapis.com/hookstream.v1.Gap`).
// - ToGrpcStatus(status): the same code and message; when the status has
//   payloads, they become the `details` of a serialized google.rpc.Status
//   (code, message, details = [Any]) in the binary error details, which gRPC
//   sends as the `grpc-status-details-bin` trailer. Any client decodes it with
//   its standard google.rpc.Status.
// - GapFromGrpcStatus(status): the inverse, for tests and tools.
//
// Example:
//   return ToGrpcStatus(GapError(gap));  // OUT_OF_RANGE + details [Any(Gap)]
//
// Thread-safety: pure functions.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream::distribution {

// The type URL of a Gap in an absl::Status payload and in google.protobuf.Any.
inline constexpr char kGapTypeUrl[] = "type.googleapis.com/hookstream.v1.Gap";

// Returns the status that ends a stream under GAP_POLICY_FAIL.
absl::Status GapError(const v1::Gap& gap);

// Returns the Gap carried by `status`, if any.
std::optional<v1::Gap> GapFromStatus(const absl::Status& status);

// Converts to grpc::Status; payloads become google.rpc.Status details.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Decodes the Gap from a grpc::Status's binary error details, if present.
std::optional<v1::Gap> GapFromGrpcStatus(const grpc::Status& status);

}  // namespace hookstream::distribution
