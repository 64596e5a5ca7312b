// -----------------------------------------------------------------------------
// File: grpc_codes.h
// -----------------------------------------------------------------------------
// The canonical names of gRPC status codes ("OK", "UNAVAILABLE", …), as the
// de-facto `grpc_code` metric label and the log lines spell them.
#pragma once

#include <array>

#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace hookstream::distribution {

inline constexpr std::array<absl::string_view, 17> kGrpcCodeNames = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

inline absl::string_view GrpcCodeName(grpc::StatusCode code) {
  const auto i = static_cast<size_t>(code);
  return i < kGrpcCodeNames.size() ? kGrpcCodeNames[i] : "UNKNOWN";
}

}  // namespace hookstream::distribution
