// -----------------------------------------------------------------------------
// File: backoff.h
// -----------------------------------------------------------------------------
// Backoff computes how long a client waits before its next reconnect attempt:
// exponential growth with "full jitter" (the delay is uniform in
// [0, min(max_delay, initial_delay * multiplier^attempt)]), so that many
// clients dropped at once by a server restart do not reconnect in lockstep.
//
// Example:
//   Backoff backoff(Backoff::Options{}, RealClock());
//   while (!Connect().ok()) {
//     SleepUntil(backoff.NextAttemptTime());
//   }
//   backoff.Reset();  // connected: the next failure starts small again
//
// The random source and the clock are injected so tests are deterministic.
//
// Thread-safety: not thread-safe; one Backoff belongs to one reconnect loop.
#pragma once

#include <functional>

#include "absl/time/time.h"
#include "common/base/clock.h"

namespace hookstream {

class Backoff {
 public:
  struct Options {
    // The ceiling of the first delay.
    absl::Duration initial_delay = absl::Milliseconds(100);
    // The ceiling never grows beyond this.
    absl::Duration max_delay = absl::Seconds(30);
    // Growth of the ceiling per attempt (>= 1).
    double multiplier = 2.0;
  };

  // Returns a number uniformly distributed in [0, 1).
  using RandomSource = std::function<double()>;

  // `clock` must outlive the Backoff. `random` empty: a seeded absl::BitGen.
  Backoff(Options options, const Clock& clock, RandomSource random = nullptr);

  // The delay before the next attempt; each call counts one attempt.
  absl::Duration NextDelay();

  // clock.Now() + NextDelay().
  absl::Time NextAttemptTime();

  // The ceiling the next NextDelay() draws under (for tests and logs).
  absl::Duration CurrentCeiling() const;

  // Forgets past attempts (after a successful connection).
  void Reset() { attempts_ = 0; }

  int attempts() const { return attempts_; }

 private:
  const Options options_;
  const Clock& clock_;
  RandomSource random_;
  int attempts_ = 0;
};

}  // namespace hookstream
