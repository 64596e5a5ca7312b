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
// Only gRPC calls accept4: Asio (ingress, admin) calls accept(), and the
// ingress listener backs off and retries on its own (listener.cc).
//
// Example (main, before the gRPC server starts):
//   ArmAcceptGuard();
//
// Thread-safety: accept4 may be called from any number of threads; the
// reserve is handed over with an atomic exchange.
#pragma once

#include <cstdint>

namespace hookstream {

// Opens the reserve descriptor (/dev/null). Until it is called accept4
// behaves exactly as libc's. Returns false when the reserve cannot be opened.
bool ArmAcceptGuard();

// Connections shed because accept4 found no free descriptor, since start.
uint64_t AcceptShedTotal();

}  // namespace hookstream
