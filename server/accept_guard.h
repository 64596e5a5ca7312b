// -----------------------------------------------------------------------------
// File: accept_guard.h
// -----------------------------------------------------------------------------
// Keeps gRPC's listener alive through a moment without free descriptors.
//
// Debian's gRPC 1.51 gives up a listening port for good when accept4 fails
// with anything but EINTR/EAGAIN/ECONNABORTED ("Failed accept4: Too many open
// files"): after one EMFILE the gRPC port never accepts again, and there is
// no option for it (newer gRPC retries). accept_guard.cc defines `accept4`,
// which the executable's definition interposes over libc's for libgrpc. It
// forwards to the system call; on EMFILE/ENFILE it closes a reserve
// descriptor, accepts the pending connection and closes it at once with a
// reset (the client fails fast instead of hanging), reopens the reserve,
// counts it, logs (rate-limited) and answers EINTR, on which gRPC calls
// accept4 again: the backlog is drained the same way, and the real EAGAIN
// at its end re-arms gRPC's read notification. Without a reserve (not armed,
// or taken back by a racing open) it answers EAGAIN, which also keeps the
// listener.
//
// The same accept4 holds gRPC's connection caps, which gRPC 1.51 lacks: a
// connection that would exceed `max_connections` in total or
// `max_connections_per_peer` from one address is reset the same way, counted
// and logged (connection_table.h says how open connections are counted).
//
// Only gRPC calls accept4: Asio (ingress, admin) calls accept(), and the
// ingress listener backs off and retries on its own (listener.cc).
//
// Example (main, before the gRPC server starts):
//   ArmAcceptGuard({.max_connections = 4096, .max_connections_per_peer = 256});
//
// Thread-safety: accept4 may be called from any number of threads; the
// reserve is handed over with an atomic exchange.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hookstream {

struct AcceptLimits {
  size_t max_connections = 0;           // 0 = no cap
  size_t max_connections_per_peer = 0;  // 0 = no cap
};

// Opens the reserve descriptor (/dev/null) and sets the caps; call once.
// Until it is called accept4 behaves exactly as libc's. Returns false when
// the reserve cannot be opened.
bool ArmAcceptGuard(AcceptLimits limits = {});

// Connections accepted and reset at once, since start, by reason.
struct AcceptShedCounts {
  uint64_t no_descriptor = 0;   // EMFILE/ENFILE
  uint64_t connection_cap = 0;  // max_connections
  uint64_t peer_cap = 0;        // max_connections_per_peer
};
AcceptShedCounts AcceptShed();

// Connections shed because accept4 found no free descriptor, since start.
uint64_t AcceptShedTotal();

}  // namespace hookstream
