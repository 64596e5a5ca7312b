// -----------------------------------------------------------------------------
// File: thread_name.h
// -----------------------------------------------------------------------------
// Names the calling thread, as `top -H`, `ps -L`, perf, gdb and
// /proc/<pid>/task/<tid>/comm show it, so that an operator (or a profile)
// can tell the HTTPS loops from the stream threads and the journal's writer
// instead of seeing the binary's name on every thread. Every thread
// hookstream starts names itself, "hs-<role>[-<n>]" (docs/operations.md
// lists them); gRPC's and NATS's own threads keep their libraries' names.
//
// Example:
//   std::thread([] {
//     NameCurrentThread("hs-jrnl-write");
//     ...
//   });
//
// Linux keeps at most 15 bytes of a name: a longer one is cut there. Best
// effort: a name that cannot be set changes nothing else.
#pragma once

#include <cstddef>

#include "absl/strings/string_view.h"

namespace hookstream {

// The longest name the kernel keeps.
inline constexpr size_t kMaxThreadNameBytes = 15;

void NameCurrentThread(absl::string_view name);

}  // namespace hookstream
