// -----------------------------------------------------------------------------
// File: follower.h
// -----------------------------------------------------------------------------
// Follower applies the JetStream stream, in order, to this replica's ring:
// an ordered push consumer (nats.c re-creates it from the last sequence it
// delivered after a gap or a lost heartbeat) starting after the ring's head.
// Each message becomes the event at its stream sequence, with the stream's
// timestamp as its log time: so every replica holds the same events at the
// same sequences, byte for byte, and holes (deleted messages, foreign
// messages) are the same holes everywhere.
//
// Nothing is decided here: no dedup, no filter (JetStream deduplicated at
// publish; subscribers filter at read). A message that is not a hookstream
// event (someone else published on the subjects) is skipped with one log
// line, the same on every replica.
//
// Thread-safety: Start and Stop from one thread; messages are applied on one
// nats.c delivery thread (an ordered consumer delivers one at a time).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/jetstream/jetstream_options.h"
#include "common/jetstream/nats_handles.h"
#include "common/ring/event_ring.h"
#include "nats/nats.h"

namespace hookstream::jetstream {

struct FollowerStats {
  std::atomic<uint64_t> applied{0};
  std::atomic<uint64_t> skipped{0};
  // The stream's last sequence as the newest delivery knew it (its sequence
  // plus the consumer's pending count).
  std::atomic<uint64_t> stream_last_sequence{0};
};

class Follower {
 public:
  // `ring` must outlive the follower; nothing else applies to it.
  Follower(const JetStreamOptions& options, EventRing& ring);
  ~Follower();

  // Subscribes from the ring's head + 1.
  absl::Status Start(jsCtx* js);
  // Unsubscribes and destroys the subscription (before the connection).
  void Stop();

  const FollowerStats& stats() const { return stats_; }

 private:
  static void OnMessage(natsConnection* nc, natsSubscription* sub, natsMsg* msg,
                        void* closure);
  void Apply(natsMsg* msg);

  const JetStreamOptions options_;
  EventRing& ring_;
  SubscriptionPtr sub_;
  FollowerStats stats_;
};

}  // namespace hookstream::jetstream
