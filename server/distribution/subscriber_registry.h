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
// Thread-safety: all methods are thread-safe.
#pragma once

#include <cstddef>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hookstream::distribution {

// What the registry needs from a stream.
class ShutdownTarget {
 public:
  virtual ~ShutdownTarget() = default;
  // Asks the stream to send a last heartbeat and end with UNAVAILABLE. Must
  // not block, and must not call back into the registry.
  virtual void RequestShutdown() = 0;
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
};

}  // namespace hookstream::distribution
