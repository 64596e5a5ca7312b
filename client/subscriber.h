// -----------------------------------------------------------------------------
// File: subscriber.h
// -----------------------------------------------------------------------------
// Subscriber follows a hookstream EventStream: it delivers every event that
// matches its filter exactly once and in order, across dropped connections,
// and reports every gap and every epoch change instead of hiding them.
//
// How it resumes: it remembers the stream epoch and the position it has been
// brought up to (the last event's sequence, or a heartbeat's `position`,
// which runs ahead under a filter). When the stream breaks with a transient
// status (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED, a
// server-side CANCELLED, or a stream that simply ends) it waits (exponential
// backoff, full jitter) and subscribes again with `after_sequence = position`
// and `stream_epoch = epoch`. The server's gap contract then guarantees no
// loss and no duplicate, or tells why not:
// - GAP_POLICY_FAIL (default): an evicted position or a new epoch (server
//   restarted with an empty ring) is delivered as a Gap, then the
//   subscription ends with the server's status (OUT_OF_RANGE or
//   FAILED_PRECONDITION; GapFromStatus() reads the Gap back from it).
// - GAP_POLICY_RESUME_FROM_OLDEST: the Gap is delivered and delivery goes on
//   from the oldest held event (of the new epoch, after a restart).
// With `follow_epoch_changes`, an epoch change under GAP_POLICY_FAIL is
// delivered as a Gap and the subscription goes on from the new epoch's
// oldest event instead of ending (what a tail-like consumer wants).
// Other errors (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, …) end the
// subscription with that status.
//
// Backoff: the delay grows with each attempt that did not get anywhere, and
// starts over only once a stream has delivered an event or stayed open for
// `healthy_after`, so a server that fails every stream right after its first
// heartbeat is retried ever more slowly, not in a tight loop.
// `max_reconnect_attempts` counts such attempts in a row.
//
// Two ways to consume, pick one per Subscriber:
//   // Pull:
//   Subscriber sub(channel, {.start = StartPosition::Oldest()});
//   for (;;) {
//     absl::StatusOr<Delivery> d = sub.Next(absl::Seconds(30));
//     if (absl::IsDeadlineExceeded(d.status())) continue;  // idle
//     if (!d.ok()) return d.status();                       // ended
//     if (d->kind == Delivery::Kind::kEvent) Handle(d->event);
//     else ReportGap(d->gap);
//   }
//   // Callback (runs on the caller's thread until the end or Stop()):
//   absl::Status s = sub.Run({.on_event = [](const v1::Event& e) { … },
//                             .on_gap = [](const v1::Gap& g) { … },
//                             .on_epoch_change = [](const v1::Gap& g) { … }});
//
// To resume in a later process, persist position() and start from
// StartPosition::AfterSequence(p.sequence, p.stream_epoch).
//
// Connecting: give a channel (or a ChannelFactory), or let the Subscriber
// make one from `options.connection` (target, TLS, client certificate,
// bearer token; see connection.h); a comma-separated target names replicas
// of one stream, and each new stream goes to the next of them (fail-over:
// the resume is after position(), in the same epoch). The bearer token is
// sent with every Subscribe either way. `on_connection` reports each
// stream's start (its first heartbeat) and end, for a "connected" /
// "connection lost" line.
//
// Liveness: the server promises a heartbeat at least every
// `heartbeat_interval`, so a stream silent for `liveness_timeout` while the
// worker is reading is cancelled and resumed (a second, mostly sleeping
// watchdog thread checks this).
//
// Threading: the constructor starts one worker thread that runs the gRPC
// stream with the synchronous API and puts deliveries in a bounded queue
// (`max_buffered`); when the queue is full the worker stops reading, so gRPC
// flow control slows the server for this subscriber only. Next() and Run()
// must be called from one thread at a time; callbacks run on the thread that
// called Run(). Stop() and position() may be called from any thread,
// including from inside a callback. The destructor stops and joins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/backoff.h"
#include "client/connection.h"
#include "client/start_position.h"
#include "common/base/clock.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

namespace hookstream {

// Returns the channel for the next (re)connect attempt. Returning the same
// channel every time is fine: gRPC reconnects it (subject to its own
// reconnect backoff, see GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS).
using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>()>;

// A stream started or ended (SubscriberOptions::on_connection).
struct ConnectionEvent {
  enum class Kind {
    // A stream got its first message (a heartbeat).
    kConnected,
    // A stream ended with a status the Subscriber retries; it tries again
    // after `retry_in`.
    kDisconnected,
  };
  Kind kind = Kind::kConnected;
  // kConnected: the first heartbeat (epoch, head, oldest, the position the
  // stream starts after).
  v1::Heartbeat heartbeat;
  // kConnected: a stream came before this one (this is a reconnect).
  bool resumed = false;
  // kDisconnected: why, and how long until the next attempt.
  absl::Status status;
  absl::Duration retry_in;
  // kDisconnected: attempts in a row that did not get a healthy stream
  // (1 for the first failure after a healthy stream).
  int failed_attempts = 0;
};

struct SubscriberOptions {
  // Where to connect when no channel is given (Subscriber(options)); its
  // bearer token is sent with every Subscribe in any case.
  // `= {}` on members without a default value keeps designated
  // initializers that omit them free of GCC's missing-initializer warning.
  ConnectionOptions connection = {};
  // Where the first subscription starts; reconnects resume after position().
  StartPosition start = {};
  v1::EventFilter filter = {};
  bool include_raw_json = false;
  // Asked of the server; >= 1 s.
  absl::Duration heartbeat_interval = absl::Seconds(15);
  v1::GapPolicy gap_policy = v1::GAP_POLICY_FAIL;
  // Under GAP_POLICY_FAIL: an epoch change (the server restarted with a new
  // stream) is delivered as a Gap and delivery goes on from the new epoch's
  // oldest event, instead of ending the subscription.
  bool follow_epoch_changes = false;
  Backoff::Options backoff = {};
  // A stream that delivered no event counts as healthy (the backoff starts
  // over) once it has stayed open this long.
  absl::Duration healthy_after = absl::Seconds(10);
  // A stream that sends nothing (not even a heartbeat) for this long while
  // the subscriber is reading is taken for dead (e.g. a silently dropped
  // TCP connection): it is cancelled and resumed like UNAVAILABLE.
  // Zero: 3 × heartbeat_interval + 5 s. InfiniteDuration(): never.
  absl::Duration liveness_timeout = absl::ZeroDuration();
  // Attempts in a row that did not get a healthy stream (no event delivered,
  // open less than `healthy_after`) after which the subscription ends with
  // the last status (UNAVAILABLE, "gave up after N reconnect attempts").
  // 0: retry forever.
  int max_reconnect_attempts = 0;
  // Deliveries queued ahead of the consumer before the worker stops reading.
  size_t max_buffered = 1024;
  // For the backoff, `healthy_after` and the liveness check. nullptr:
  // RealClock(). Must outlive the Subscriber.
  const Clock* clock = nullptr;
  // For the backoff's jitter. Empty: a seeded generator.
  Backoff::RandomSource random = {};
  // Called on the Subscriber's worker thread when a stream starts or ends
  // (see ConnectionEvent). Keep it short; it must not call Next() or Run().
  std::function<void(const ConnectionEvent&)> on_connection = {};
};

// One thing the subscription hands to its consumer.
struct Delivery {
  enum class Kind { kEvent, kGap };
  Kind kind = Kind::kEvent;
  // kEvent.
  v1::Event event;
  // kGap: events were missed. `gap.reason()` is GAP_REASON_EVICTED (the ring
  // dropped them before this subscriber read them) or
  // GAP_REASON_EPOCH_CHANGED (the server restarted: sequences start over in
  // `gap.stream_epoch()`).
  v1::Gap gap;

  bool epoch_changed() const {
    return kind == Kind::kGap && gap.reason() == v1::GAP_REASON_EPOCH_CHANGED;
  }
};

// Where a consumer stands: every event up to `sequence` in `stream_epoch`
// was delivered to it, did not match its filter, or was reported missing by
// a Gap it took (after a Gap: `gap.oldest_sequence - 1` in `gap.stream_epoch`).
struct StreamPosition {
  std::string stream_epoch;
  uint64_t sequence = 0;
};

struct SubscriberCallbacks {
  std::function<void(const v1::Event&)> on_event;
  // Evicted events (GAP_REASON_EVICTED and unknown reasons).
  std::function<void(const v1::Gap&)> on_gap;
  // The server's epoch changed (GAP_REASON_EPOCH_CHANGED). Unset: these go
  // to on_gap.
  std::function<void(const v1::Gap&)> on_epoch_change;
};

class Subscriber {
 public:
  Subscriber(std::shared_ptr<grpc::Channel> channel, SubscriberOptions options);
  Subscriber(ChannelFactory channel_factory, SubscriberOptions options);
  // Connects as `options.connection` says. If that fails (an unreadable
  // certificate, a token that would travel in clear text), the subscription
  // ends at once with the reason (Next() and Run() return it).
  explicit Subscriber(SubscriberOptions options);
  ~Subscriber();

  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Next
  //
  // The next delivery, waiting at most `timeout`. DEADLINE_EXCEEDED when
  // nothing arrived in time (the subscription goes on). Once the
  // subscription has ended, and every queued delivery was returned, returns
  // its final status (never OK); CANCELLED after Stop().
  absl::StatusOr<Delivery> Next(absl::Duration timeout);

  // Run
  //
  // Calls `callbacks` for each delivery until the subscription ends (returns
  // its status) or Stop() is called (returns OK).
  absl::Status Run(const SubscriberCallbacks& callbacks);

  // Stop
  //
  // Ends the subscription: cancels the stream, wakes Next()/Run(), joins the
  // worker. Idempotent.
  void Stop();

  // The position of the last delivery returned to the consumer (advanced by
  // heartbeats once the consumer has taken everything before them).
  StreamPosition position() const;

  // How many times a stream was started again after a transient failure.
  int reconnects() const;

 private:
  // An internal queue entry: a delivery, or a heartbeat's position marker.
  struct Item {
    bool is_position = false;
    Delivery delivery;
    StreamPosition position;
  };

  void Work();
  void Watch();
  // What one stream achieved.
  struct StreamOutcome {
    absl::Status status;
    bool got_message = false;
    bool delivered_event = false;
    // When its first message arrived.
    absl::Time first_message;
  };
  // One stream, from start to Finish.
  StreamOutcome RunStream(v1::EventStream::Stub& stub, bool resumed);
  void Notify(const ConnectionEvent& event) const;
  // Polls `channel` until it connects, Stop(), or a short bound.
  void WaitUntilConnected(grpc::Channel& channel);
  v1::SubscribeRequest BuildRequest() const;
  // Worker side: queues `item`, waiting for room. False when stopping.
  bool Push(Item item);
  void HandleHeartbeat(const v1::Heartbeat& heartbeat);
  // False when the event was dropped (a repeat) or the Subscriber stops.
  bool HandleEvent(v1::Event event);
  void HandleGap(const v1::Gap& gap);
  void Finish(absl::Status status);
  bool Retryable(const absl::Status& status) const;

  const SubscriberOptions options_;
  ChannelFactory channel_factory_;
  // Why no channel could be made (Subscriber(options) only).
  absl::Status channel_error_;
  const Clock& clock_;

  // Worker-only state: the resume cursor (what the worker has received).
  bool have_position_ = false;
  std::string epoch_;
  uint64_t cursor_ = 0;
  Backoff backoff_;

  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* current_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  StreamPosition consumer_position_ ABSL_GUARDED_BY(mu_);
  int reconnects_ ABSL_GUARDED_BY(mu_) = 0;
  // Liveness: when the worker last received a message or resumed reading,
  // whether it is waiting on the consumer (then silence is ours), and
  // whether the watchdog cancelled the current stream.
  absl::Time last_activity_ ABSL_GUARDED_BY(mu_);
  bool waiting_on_consumer_ ABSL_GUARDED_BY(mu_) = false;
  bool stalled_ ABSL_GUARDED_BY(mu_) = false;
  const absl::Duration liveness_timeout_;

  // Last: started after every member above is initialized.
  std::thread worker_;
  std::thread watchdog_;
};

}  // namespace hookstream
