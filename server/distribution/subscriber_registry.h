// -----------------------------------------------------------------------------
// File: subscriber_registry.h
// -----------------------------------------------------------------------------
// SubscriberRegistry knows the live Subscribe streams: how many there are
// (GetStreamInfo.subscriber_count) and how to end them all at shutdown, each
// with a last heartbeat and then UNAVAILABLE, so clients reconnect and resume
// from the position that heartbeat gave them.
//
// Lifecycle: a reactor calls Add in its constructor and Remove in OnDone, just
// before it deletes itself. Shutdown asks every live reactor to end
// (RequestShutdown never blocks and never calls into gRPC, so it is safe to
// call under the registry's lock, which is what keeps each reactor alive
// while it is asked), and makes every later Add fail.
//
// Example:
//   SubscriberRegistry registry;
//   ... EventStreamService service(ring, clock, registry);
//   registry.Shutdown();          // streams: last heartbeat, UNAVAILABLE
//   server->Shutdown(deadline);   // then wait for them to finish
//
// It also keeps what operators see of the streams: List() (ListSubscribers,
// the metrics, the dashboard) and the counters in stats().
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics/exposition.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream::distribution {

// One live stream as an operator sees it.
struct SubscriberSnapshot {
  // From the `x-subscriber-name` request header (capped), else empty.
  std::string name;
  std::string peer;
  v1::EventFilter filter;
  // How the stream started, e.g. "after_sequence=12" or "origin=latest".
  std::string start;
  absl::Time connected_at;
  // Every event up to here was sent (or skipped by the filter).
  uint64_t position = 0;
  uint64_t events_sent = 0;
  // The start (`after_event_id`) waits for this replica to apply the shared
  // log (catch_up.h): there is no position yet.
  bool waiting = false;
};

// What the registry needs from a stream.
class ShutdownTarget {
 public:
  virtual ~ShutdownTarget() = default;
  // Asks the stream to send a last heartbeat and end with UNAVAILABLE. Must
  // not block, and must not call back into the registry.
  virtual void RequestShutdown() = 0;
  // The stream's state now. Called under the registry's lock: may take the
  // stream's own lock, must not call back into the registry.
  virtual SubscriberSnapshot Snapshot() const { return {}; }
};

// Counters across all streams (relaxed atomics; the histogram is lock-free).
struct SubscriberStats {
  std::atomic<uint64_t> streams_started{0};
  std::atomic<uint64_t> events_sent{0};
  // Gap messages sent (GAP_POLICY_RESUME_FROM_OLDEST) and streams ended by
  // one (GAP_POLICY_FAIL), by GapReason.
  std::atomic<uint64_t> gaps_sent{0};
  std::atomic<uint64_t> gaps_ended{0};
  // Streams ended, by gRPC status code (0..16).
  std::array<std::atomic<uint64_t>, 17> ended_by_code{};
  // From an event's log time to the start of the write that carries it.
  metrics::Histogram delivery_latency{metrics::Histogram::LatencyBuckets()};
};

class SubscriberRegistry {
 public:
  // At most `max_streams` live streams at once (a cap no client can raise).
  explicit SubscriberRegistry(
      size_t max_streams = std::numeric_limits<size_t>::max())
      : max_streams_(max_streams) {}
  SubscriberRegistry(const SubscriberRegistry&) = delete;
  SubscriberRegistry& operator=(const SubscriberRegistry&) = delete;

  // Registers a live stream. Registers nothing and returns UNAVAILABLE after
  // Shutdown, RESOURCE_EXHAUSTED at the cap: the stream should end with it.
  absl::Status Add(ShutdownTarget* stream);

  // Unregisters a stream; a no-op if it is not registered.
  void Remove(ShutdownTarget* stream);

  // Live streams.
  size_t count() const;

  // Every live stream's snapshot (unordered).
  std::vector<SubscriberSnapshot> List() const;

  SubscriberStats& stats() { return stats_; }
  const SubscriberStats& stats() const { return stats_; }

  // Asks every live stream to end and refuses new ones. Idempotent.
  void Shutdown();

  bool shutting_down() const;

  // Waits until every live stream has ended (been Removed), at most until
  // `deadline`. Returns true when none is left.
  bool WaitUntilEmpty(absl::Time deadline) const;

 private:
  const size_t max_streams_;
  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<ShutdownTarget*> streams_ ABSL_GUARDED_BY(mu_);
  SubscriberStats stats_;
};

}  // namespace hookstream::distribution
