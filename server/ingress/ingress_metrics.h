// -----------------------------------------------------------------------------
// File: ingress_metrics.h
// -----------------------------------------------------------------------------
// The ingress's counters, declared in one struct: requests by outcome, by
// matched secret label (so an operator sees when an old secret stops being
// used), unsigned requests accepted in insecure mode, and connection-level
// events, and the request latency histogram. Read them with Read(); the
// admin listener's /metrics (server/server_metrics.cc) renders the snapshot.
//
// Example:
//   metrics.Count(Outcome::kAccepted);
//   metrics.CountSecretMatch("gettrx", "2026-11");
//   IngressMetrics::Snapshot s = metrics.Read();
//   s.by_outcome[static_cast<size_t>(Outcome::kAccepted)];  // 1
//
// Thread-safety: all methods are thread-safe. Outcome counters are relaxed
// atomics; the per-secret map takes a mutex (one short lookup per request).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/log.h"
#include "common/metrics/exposition.h"
#include "server/ingress/outcomes.h"

namespace hookstream::ingress {

class IngressMetrics {
 public:
  struct Snapshot {
    std::array<uint64_t, kOutcomeCount> by_outcome{};
    // "<source>/<label>" → requests whose signature matched that secret.
    std::map<std::string, uint64_t> by_secret;
    uint64_t unsigned_requests = 0;
    uint64_t connections_accepted = 0;
    uint64_t connections_refused = 0;  // over the connection cap
    uint64_t tls_handshake_failures = 0;
    uint64_t write_timeouts = 0;
    uint64_t connections_active = 0;

    // (source, outcome) → requests; source "" when none matched the path.
    std::map<std::pair<std::string, Outcome>, uint64_t> by_source;

    uint64_t count(Outcome o) const {
      return by_outcome[static_cast<size_t>(o)];
    }
  };

  void Count(Outcome outcome) {
    by_outcome_[static_cast<size_t>(outcome)].fetch_add(
        1, std::memory_order_relaxed);
  }
  // Count plus the per-source series (sources are configured, so bounded).
  void Count(Outcome outcome, absl::string_view source) {
    Count(outcome);
    absl::MutexLock lock(&mu_);
    ++by_source_[{std::string(source), outcome}];
  }
  // From the request's first byte to its answer.
  metrics::Histogram& request_duration() { return request_duration_; }
  const metrics::Histogram& request_duration() const {
    return request_duration_;
  }
  void CountSecretMatch(absl::string_view source, absl::string_view label) {
    absl::MutexLock lock(&mu_);
    ++by_secret_[absl::StrCat(source, "/", label)];
  }
  void CountUnsigned() { Inc(unsigned_requests_); }
  void CountConnectionAccepted() { Inc(connections_accepted_); }
  void CountConnectionRefused() { Inc(connections_refused_); }
  void CountTlsHandshakeFailure() { Inc(tls_handshake_failures_); }
  // An answer not written within --write_timeout (the client stopped
  // reading); sessions log it through write_timeout_log().
  void CountWriteTimeout() { Inc(write_timeouts_); }
  LogLimiter& write_timeout_log() { return write_timeout_log_; }
  // Sessions log a failed handshake through this: one line per 10 s with
  // how many it stands for (a scanner must not fill the disk).
  LogLimiter& handshake_failure_log() { return handshake_failure_log_; }
  void ConnectionOpened() { Inc(connections_active_); }
  void ConnectionClosed() {
    connections_active_.fetch_sub(1, std::memory_order_relaxed);
  }

  uint64_t count(Outcome outcome) const {
    return by_outcome_[static_cast<size_t>(outcome)].load(
        std::memory_order_relaxed);
  }

  Snapshot Read() const {
    Snapshot s;
    for (size_t i = 0; i < kOutcomeCount; ++i) {
      s.by_outcome[i] = by_outcome_[i].load(std::memory_order_relaxed);
    }
    {
      absl::MutexLock lock(&mu_);
      s.by_secret.insert(by_secret_.begin(), by_secret_.end());
      s.by_source.insert(by_source_.begin(), by_source_.end());
    }
    s.unsigned_requests = Get(unsigned_requests_);
    s.connections_accepted = Get(connections_accepted_);
    s.connections_refused = Get(connections_refused_);
    s.tls_handshake_failures = Get(tls_handshake_failures_);
    s.write_timeouts = Get(write_timeouts_);
    s.connections_active = Get(connections_active_);
    return s;
  }

 private:
  static void Inc(std::atomic<uint64_t>& c) {
    c.fetch_add(1, std::memory_order_relaxed);
  }
  static uint64_t Get(const std::atomic<uint64_t>& c) {
    return c.load(std::memory_order_relaxed);
  }

  std::array<std::atomic<uint64_t>, kOutcomeCount> by_outcome_{};
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> by_secret_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::pair<std::string, Outcome>, uint64_t> by_source_
      ABSL_GUARDED_BY(mu_);
  metrics::Histogram request_duration_{metrics::Histogram::LatencyBuckets()};
  std::atomic<uint64_t> unsigned_requests_{0};
  std::atomic<uint64_t> connections_accepted_{0};
  std::atomic<uint64_t> connections_refused_{0};
  std::atomic<uint64_t> tls_handshake_failures_{0};
  LogLimiter handshake_failure_log_{absl::Seconds(10)};
  std::atomic<uint64_t> write_timeouts_{0};
  LogLimiter write_timeout_log_{absl::Seconds(10)};
  std::atomic<uint64_t> connections_active_{0};
};

}  // namespace hookstream::ingress
