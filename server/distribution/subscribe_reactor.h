// -----------------------------------------------------------------------------
// File: subscribe_reactor.h
// -----------------------------------------------------------------------------
// SubscribeReactor serves one Subscribe stream on gRPC's callback API: no
// thread and no queue per subscriber, only a cursor into the shared ring.
//
// What it does, in order:
//   1. Validates the request and resolves its start (start_position.h); a bad
//      request or a start that fails the gap contract ends the stream at once
//      with that status (and rich details for a Gap), before any message.
//      An after_event_id this replica does not know (NOT_FOUND) is resolved
//      again once it has caught up with the shared log (catch_up.h, within
//      the call's deadline and kMaxCatchUpWait): the stream sends nothing
//      until then, and ends NOT_FOUND if the id is still unknown.
//   2. Sends a Heartbeat first (epoch, position, head, oldest, server time),
//      then the start's Gap if the policy resumed from the oldest.
//   3. Reads the ring after its cursor with its filter, up to 64 events per
//      message, and writes them as one EventBatch; exactly one write is in
//      flight, so gRPC flow control paces it. When caught up it asks the ring
//      to wake it (EventReader::Wait). The wake-up runs on the appending
//      (ingress) thread, so it does O(1) work there: it only posts the stream
//      to the shared StreamScheduler, whose thread reads and writes. Events
//      appended until then go out in the same batch.
//   4. After `heartbeat_interval` without a message, sends a Heartbeat whose
//      `position` is the cursor, which moves past events its filter skipped
//      (read first, so the position is the freshest). The check runs on the
//      shared StreamScheduler (one timer entry per stream there, no gRPC
//      alarm), which re-arms it for the last message's time +
//      `heartbeat_interval`; a check that finds a write in flight is done
//      when that write completes. Times are the injected Clock's.
//   5. When its next event was evicted: under GAP_POLICY_FAIL ends with
//      OUT_OF_RANGE + Gap details; under RESUME_FROM_OLDEST writes a Gap and
//      goes on from the oldest.
//   6. On RequestShutdown (server shutdown): a last Heartbeat, then
//      UNAVAILABLE. On client cancel: ends.
//
// Concurrency: reactions (OnWriteDone, OnCancel), the ring's wake-up and the
// scheduler's run (RunScheduled: after a wake-up, a heartbeat check or a
// shutdown request) may run concurrently on different threads. Every decision
// is taken under `mu_` by Decide(), which also claims what it decided
// (`write_in_flight_`, `finish_claimed_`); the gRPC call it decided (StartWrite
// or Finish) is then made without the lock, because gRPC may run a reaction
// inline. Before Finish, the ring wait is cancelled (CancelWait, never under
// `mu_`: it waits for a running wake-up, which takes `mu_`) and the scheduler
// forgets the stream (Forget, never under `mu_`: it waits for a run in
// progress, which takes `mu_`; from inside RunScheduled it does not wait),
// so nothing touches the reactor after OnDone deletes it.
//
// Ownership: gRPC owns the reactor from the service's `new` until OnDone,
// which removes it from the registry and deletes it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/store/event_reader.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"
#include "hookstream/v1/event_stream.pb.h"
#include "server/distribution/call_auth.h"
#include "server/distribution/catch_up.h"
#include "server/distribution/event_filter.h"
#include "server/distribution/stream_scheduler.h"
#include "server/distribution/subscriber_registry.h"

namespace hookstream::distribution {

class SubscribeReactor final
    : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
      public ShutdownTarget,
      public ScheduledTask {
 public:
  // Events per EventBatch when the subscriber is behind.
  static constexpr size_t kMaxBatchEvents = 64;
  // Bytes per EventBatch (one larger event is still sent alone).
  static constexpr size_t kMaxBatchBytes = size_t{1} << 20;

  // Who is on the other end, for the log lines, ListSubscribers and the
  // per-subscriber metrics.
  struct Caller {
    // The authenticated identity's name, else x-subscriber-name (capped);
    // may be empty.
    std::string name;
    std::string peer;  // gRPC's peer string, e.g. ipv4:127.0.0.1:53412
  };

  // Starts the stream. `request` is the raw SubscribeRequest; its filter is
  // restricted to what `authorizer` grants (used only here, not kept).
  SubscribeReactor(EventReader& reader, const Clock& clock,
                   SubscriberRegistry& registry, StreamScheduler& scheduler,
                   const grpc::ByteBuffer& request,
                   const CallAuthorizer& authorizer, const FilterLimits& limits,
                   Caller caller = {}, CatchUp* catch_up = nullptr,
                   absl::Time deadline = absl::InfiniteFuture());

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  void RequestShutdown() override;
  SubscriberSnapshot Snapshot() const override ABSL_LOCKS_EXCLUDED(mu_);

  // The scheduler runs this when the heartbeat check is due or when posted.
  void RunScheduled() override;

 private:
  // What a decision asks the caller to do once `mu_` is released.
  struct Step {
    enum class Kind { kNone, kWrite, kFinish };
    Kind kind = Kind::kNone;
    // kFinish: the ring wait to cancel, and the status to end with.
    std::optional<EventReader::WaitToken> cancel_wait = std::nullopt;
    std::optional<CatchUp::Token> cancel_catch_up = std::nullopt;
    grpc::Status status = grpc::Status();
  };

  ~SubscribeReactor() override = default;

  // Resolves the request; returns a non-OK status to end with. OK with
  // `deferred_` set: the start waits for the replica to catch up.
  grpc::Status Start(const grpc::ByteBuffer& request,
                     const CallAuthorizer& authorizer,
                     const FilterLimits& limits)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Resolves the start position; `may_wait`: an unknown after_event_id
  // defers it (CatchUp) instead of ending the stream.
  grpc::Status ResolveStart(v1::SubscribeRequest request, bool may_wait)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The catch-up finished (on CatchUp's thread).
  void OnCaughtUp() ABSL_LOCKS_EXCLUDED(mu_);

  Step Decide() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Step WriteHeartbeat() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Step WriteMessage(grpc::ByteBuffer buffer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the status to end with (the first one wins).
  void EndWith(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleHeartbeatCheck(absl::Time at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Due now (idle for the interval): heartbeat_due_; otherwise re-arms for
  // the last write's time + interval.
  void CheckHeartbeat(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void Perform(Step step) ABSL_LOCKS_EXCLUDED(mu_);
  // Counts a batch about to be written (stats, delivery latency).
  void CountSent(const std::vector<StoredEventPtr>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void OnEventsAppended() ABSL_LOCKS_EXCLUDED(mu_);

  EventReader& reader_;
  const Clock& clock_;
  SubscriberRegistry& registry_;
  StreamScheduler& scheduler_;
  CatchUp* const catch_up_;
  const absl::Time deadline_;

  const Caller caller_;
  const absl::Time connected_at_;

  mutable absl::Mutex mu_;
  // Request, fixed after Start.
  v1::EventFilter filter_proto_ ABSL_GUARDED_BY(mu_);
  std::string start_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t events_sent_ ABSL_GUARDED_BY(mu_) = 0;
  EventFilter filter_ ABSL_GUARDED_BY(mu_);
  bool include_raw_json_ ABSL_GUARDED_BY(mu_) = false;
  v1::GapPolicy gap_policy_ ABSL_GUARDED_BY(mu_) = v1::GAP_POLICY_FAIL;
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_);

  // Every event up to here was written (or skipped by the filter).
  uint64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  // Rare states live on the heap: an idle stream's reactor stays in a smaller
  // allocation class.
  std::unique_ptr<v1::Gap> pending_gap_ ABSL_GUARDED_BY(mu_);
  bool heartbeat_due_ ABSL_GUARDED_BY(mu_) = false;
  bool first_message_sent_ ABSL_GUARDED_BY(mu_) = false;
  // The heartbeat check came while a write was in flight: OnWriteDone does
  // it.
  bool check_after_write_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_requested_ ABSL_GUARDED_BY(mu_) = false;

  // Exactly one write in flight; `write_buffer_` is gRPC's until OnWriteDone.
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ByteBuffer write_buffer_ ABSL_GUARDED_BY(mu_);
  // When the last message was started (by the clock the scheduler uses).
  absl::Time last_write_ ABSL_GUARDED_BY(mu_);
  // When the scheduler runs the next heartbeat check.
  absl::Time heartbeat_check_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();

  std::optional<EventReader::WaitToken> wait_token_ ABSL_GUARDED_BY(mu_);
  // Set once the stream must end; Finish(*end_status_) happens when no write
  // is in flight, the wait is cancelled and the scheduler forgot the stream.
  std::unique_ptr<grpc::Status> end_status_ ABSL_GUARDED_BY(mu_);
  bool finish_claimed_ ABSL_GUARDED_BY(mu_) = false;

  // A start waiting for the replica to catch up (rare: on the heap): the
  // request to resolve again. Its CatchUp registration stays in
  // `catch_up_token_` until the finish cancels it (Cancel, never under
  // `mu_`: it waits for a running OnCaughtUp, which takes `mu_`).
  std::unique_ptr<v1::SubscribeRequest> deferred_ ABSL_GUARDED_BY(mu_);
  std::optional<CatchUp::Token> catch_up_token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hookstream::distribution
