// -----------------------------------------------------------------------------
// File: https_load.h
// -----------------------------------------------------------------------------
// An HTTPS/1.1 keep-alive POST load generator (Boost.Beast + OpenSSL), used
// against hookstream's ingress and against nginx with the same requests.
//
// Two shapes:
//   - RunClosedLoop: `connections` connections, each sending its next request
//     as soon as the previous answer arrived, until `max_requests` were sent
//     or `max_duration` passed. Measures throughput and round-trip latency.
//   - RunPaced: an open-loop sender at a fixed rate (for the live-latency
//     workload); each request is made at its send time, so it can carry it.
//
// Example:
//   LoadResult r = *RunClosedLoop(
//       {.port = 8443}, {.connections = 32, .max_requests = 200000},
//       [&](uint64_t k) { return requests[k]; });
//
// Thread-safety: the makers are called concurrently from the I/O threads.
// Every run is bounded: it stops at its count or duration, whichever first.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hookstream::bench {

struct HttpsTarget {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  // PEM file to verify the server's certificate with; empty: no verification
  // (the handshake costs the same either way, and only once per connection).
  std::string ca_file;
};

struct LoadResult {
  uint64_t sent = 0;
  uint64_t ok_2xx = 0;
  uint64_t non_2xx = 0;
  // Transport failures (connect, TLS, read, write); the connection is
  // reopened.
  uint64_t errors = 0;
  // Paced runs: sends that found no idle connection and waited for one.
  uint64_t late = 0;
  std::string first_error;
  std::map<int, uint64_t> status_counts;
  // From the first send to the last answer.
  double seconds = 0;
  // Round trip (write of the request → last byte of the answer) per answer.
  std::vector<int64_t> latencies_ns;
  // The body of one 2xx answer, to show what the server said.
  std::string sample_body;
};

struct ClosedLoopOptions {
  int connections = 32;
  // I/O threads; connections are spread over them.
  int threads = 1;
  uint64_t max_requests = 100'000;
  absl::Duration max_duration = absl::Seconds(10);
};

// Returns the full request bytes for the k-th request of the run.
using RequestMaker = std::function<std::string(uint64_t k)>;

absl::StatusOr<LoadResult> RunClosedLoop(const HttpsTarget& target,
                                         const ClosedLoopOptions& options,
                                         const RequestMaker& make_request);

struct PacedOptions {
  int connections = 8;
  double rate_per_second = 2000;
  absl::Duration duration = absl::Seconds(10);
};

// Returns the request bytes for a request sent at `send_ns`
// (MonotonicNowNs()).
using StampedRequestMaker = std::function<std::string(int64_t send_ns)>;

absl::StatusOr<LoadResult> RunPaced(const HttpsTarget& target,
                                    const PacedOptions& options,
                                    const StampedRequestMaker& make_request);

}  // namespace hookstream::bench
