// -----------------------------------------------------------------------------
// File: fd_limit.h
// -----------------------------------------------------------------------------
// The file-descriptor budget, checked once at start: the soft RLIMIT_NOFILE
// is raised to the hard limit, and the start is refused when the ingress
// connection cap plus a reserve for gRPC connections, the journal and the
// rest does not fit in it. Headroom, not the only defence: gRPC 1.51's
// listener would stop accepting for good after one accept4 failed with
// EMFILE, and accept_guard.h sheds connections instead when a flood of raw
// gRPC connections (which no cap of gRPC 1.51 bounds) still exhausts it.
//
// Example:
//   ASSIGN_OR_RETURN(uint64_t limit,
//   EnsureFdLimit(config.ingress.max_connections));
//
// Thread-safety: call once, before starting threads that open files.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace hookstream {

// Descriptors kept beyond the ingress cap: gRPC connections and listeners,
// the journal's segments, certificates, eventfds.
inline constexpr uint64_t kFdReserve = 1024;

// Raises the soft limit to the hard one; returns the soft limit now in
// force, or FAILED_PRECONDITION when `ingress_connections` + kFdReserve
// exceeds it (naming both numbers and what to change).
absl::StatusOr<uint64_t> EnsureFdLimit(size_t ingress_connections);

}  // namespace hookstream
