// -----------------------------------------------------------------------------
// File: jetstream_backend.h
// -----------------------------------------------------------------------------
// JetStreamBackend is `--backend=jetstream`: NATS JetStream is the shared log
// behind several hookstream replicas. It connects, creates or checks the
// stream (stream_setup.h), takes the stream's identity as this replica's
// epoch, appends through the Publisher (the 200 after the PubAck) and fills
// the replica's ring through the Follower (every replica applies the same
// stream the same way, so a subscriber may resume on any of them).
//
// The stream's info for /metrics is read by a StreamMonitor every
// --nats_stream_info_interval, never on a request's thread.
//
// Reads: the ring, wrapped so that a position the stream has but this
// replica has not applied yet is waited for rather than refused
// (IsWithinStream), and GetInfo names the backend and the stream's last
// sequence.
//
// Example:
//   ASSIGN_OR_RETURN(auto backend, JetStreamBackend::Open(options, clock));
//   ingress: backend->appender(); distribution: backend->reader();
//   backend->Close();
//
// Thread-safety: the accessors are; Close once, from the composition root.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/base/clock.h"
#include "common/jetstream/follower.h"
#include "common/jetstream/jetstream_options.h"
#include "common/jetstream/nats_handles.h"
#include "common/jetstream/publisher.h"
#include "common/jetstream/stream_monitor.h"
#include "common/jetstream/stream_setup.h"
#include "common/ring/event_ring.h"
#include "common/store/event_reader.h"

namespace hookstream::jetstream {

class JetStreamBackend {
 public:
  // Connects (any of options.urls), ensures the stream and starts following
  // it. Errors, one line each: UNAVAILABLE (no NATS server reachable, no
  // JetStream answer), FAILED_PRECONDITION (an existing stream contradicts
  // the options, naming the setting; bad credentials or CA file).
  static absl::StatusOr<std::unique_ptr<JetStreamBackend>> Open(
      JetStreamOptions options, const Clock& clock);

  JetStreamBackend(const JetStreamBackend&) = delete;
  JetStreamBackend& operator=(const JetStreamBackend&) = delete;
  ~JetStreamBackend();

  EventAppender& appender() { return *publisher_; }
  EventReader& reader() { return *reader_; }
  EventRing& ring() { return *ring_; }
  const StreamIdentity& identity() const { return ring_->identity(); }
  const StreamState& stream_at_start() const { return state_; }

  // The newest sequence this replica applied, and the stream's last as far
  // as this replica knows (what it published, what the follower was told,
  // and the stream's state at start).
  uint64_t applied_sequence() const { return ring_->GetInfo().head_sequence; }
  uint64_t known_stream_last_sequence() const;
  // Asks JetStream for the stream's last sequence (a request/reply, bounded
  // by the context's wait); the known one when JetStream does not answer.
  uint64_t RefreshStreamLastSequence();

  const PublisherStats& publisher_stats() const { return publisher_->stats(); }
  const FollowerStats& follower_stats() const { return follower_->stats(); }
  // The stream's state as the poller last read it (/metrics).
  const StreamMonitor& monitor() const { return *monitor_; }

  // Completes or fails every pending append, stops following, closes the
  // connection. Idempotent.
  void Close();

 private:
  class Reader;
  JetStreamBackend() = default;

  JetStreamOptions options_;
  StreamState state_;
  // Destroyed in reverse: reader, monitor (its thread), follower (its
  // subscription), publisher, then the context and the connection.
  ConnectionPtr connection_;
  JsPtr js_;
  std::unique_ptr<EventRing> ring_;
  std::unique_ptr<Publisher> publisher_;
  std::unique_ptr<Follower> follower_;
  std::unique_ptr<StreamMonitor> monitor_;
  std::unique_ptr<EventReader> reader_;
  std::atomic<uint64_t> refreshed_last_{0};
  bool closed_ = false;
};

}  // namespace hookstream::jetstream
