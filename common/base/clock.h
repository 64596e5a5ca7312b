// -----------------------------------------------------------------------------
// File: clock.h
// -----------------------------------------------------------------------------
// The one source of time for code that must be testable without sleeping:
// units take a `Clock&` and tests pass a FakeClock
// (tests/testing/fake_clock.h).
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace hookstream {

// Clock
//
// Wall-clock time. Not guaranteed monotonic: callers that order events use
// sequences, not times.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// SystemClock
//
// The real clock. `RealClock()` returns a process-wide instance.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// Returns a process-wide SystemClock.
Clock& RealClock();

}  // namespace hookstream
