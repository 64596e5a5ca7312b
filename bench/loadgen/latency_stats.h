// -----------------------------------------------------------------------------
// File: latency_stats.h
// -----------------------------------------------------------------------------
// Percentiles of a set of latency samples (nearest rank), and the one-line
// JSON results the bench tools print for bench/run.sh to aggregate.
//
// Example:
//   Percentiles p = ComputePercentiles(std::move(samples_ns));
//   JsonLine out; out.Add("p50_us", p.p50_ns / 1e3); puts(out.str().c_str());
//
// Thread-safety: none; each object belongs to one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace hookstream::bench {

struct Percentiles {
  uint64_t count = 0;
  int64_t p50_ns = 0;
  int64_t p99_ns = 0;
  int64_t p999_ns = 0;
  int64_t max_ns = 0;
};

// Sorts `samples`; all zero when empty.
Percentiles ComputePercentiles(std::vector<int64_t> samples);

// Builds {"k":v,...} in insertion order.
class JsonLine {
 public:
  JsonLine& Add(absl::string_view key, double value);
  JsonLine& Add(absl::string_view key, int64_t value);
  JsonLine& Add(absl::string_view key, uint64_t value);
  JsonLine& Add(absl::string_view key, int value) {
    return Add(key, static_cast<int64_t>(value));
  }
  JsonLine& Add(absl::string_view key, absl::string_view value);
  JsonLine& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  // Adds p50/p99/p999/max in microseconds under `prefix`_p50_us etc.
  JsonLine& AddPercentilesUs(absl::string_view prefix, const Percentiles& p);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(absl::string_view key);
  std::string body_;
};

// Monotonic nanoseconds (CLOCK_MONOTONIC): one clock for every process on
// the machine, so a sender and a receiver in two processes can subtract.
int64_t MonotonicNowNs();

// The resident set of process `pid` in bytes (VmRSS of /proc/<pid>/status),
// or -1 when it cannot be read.
int64_t ProcessRssBytes(int pid);

// CPU time (user + system, all threads) process `pid` used so far, in
// seconds; pid 0 is this process. -1 when it cannot be read.
double ProcessCpuSeconds(int pid);

// Context switches (voluntary + involuntary) of the threads process `pid`
// has now, summed; pid 0 is this process; -1 when it cannot be read. A
// thread that exited no longer counts: take differences over a window in
// which the server keeps its threads. Each switch is a sleep and a wake-up:
// what a live fan-out pays per message.
int64_t ProcessContextSwitches(int pid);

}  // namespace hookstream::bench
