// -----------------------------------------------------------------------------
// File: fd_limit.h
// -----------------------------------------------------------------------------
// The file-descriptor budget, checked once at start: the soft RLIMIT_NOFILE
// is raised to the hard limit, and the start is refused when the ingress
// and gRPC connection caps plus a reserve for the journal and the rest do
// not fit in it. Headroom, not the only defence: gRPC 1.51's listener would
// stop accepting for good after one accept4 failed with EMFILE, and
// accept_guard.h sheds connections instead when descriptors still run out.
//
// Example:
//   ASSIGN_OR_RETURN(uint64_t limit,
//   EnsureFdLimit(config.ingress.max_connections,
//                 config.grpc.max_connections));
//
// Thread-safety: call once, before starting threads that open files.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace hookstream {

// Descriptors kept beyond the two connection caps: listeners, gRPC's
// internal descriptors, the journal's segments, certificates, eventfds (and
// gRPC connections when --grpc_max_connections is 0).
inline constexpr uint64_t kFdReserve = 1024;

// Raises the soft limit to the hard one; returns the soft limit now in
// force, or FAILED_PRECONDITION when `ingress_connections` +
// `grpc_connections` + kFdReserve exceeds it (naming the numbers and what to
// change).
absl::StatusOr<uint64_t> EnsureFdLimit(size_t ingress_connections,
                                       size_t grpc_connections = 0);

}  // namespace hookstream
