// -----------------------------------------------------------------------------
// File: event_appender.h
// -----------------------------------------------------------------------------
// EventAppender is the write side of hookstream's storage seam: the ingress
// hands it each verified, converted event, and is called back once the event
// is durable in the configured backend. Only then does the ingress answer
// 200, so "acknowledged" means "kept" as far as the backend keeps anything:
//
//   backend   | done(OK) runs after                | survives
//   ----------+------------------------------------+---------------------------
//   memory    | the event is in the ring (inline)  | nothing (one process)
//   journal   | the fdatasync covering its record  | kill -9, OS crash, power
//             | (--journal_sync=none: its write)   | (none: kill -9 only)
//   jetstream | JetStream's PubAck                 | what the stream replicates
//
// The backend owns sequences and deduplication: an event whose provider id it
// has kept before (within the dedup window) is not kept again, and done gets
// the first delivery's sequence with `duplicate = true`, also only once that
// first delivery is durable.
//
// Errors passed to done: UNAVAILABLE (nothing kept; the sender should retry
// later: a full disk, a failed fsync, no JetStream leader), RESOURCE_EXHAUSTED
// (the event can never be kept: larger than the store's budget),
// INVALID_ARGUMENT (no id). An event that failed may still turn up after a
// restart (its bytes may have reached the disk); a retry is then answered
// `duplicate`, so nothing is lost or doubled.
//
// Example (what the ingress does):
//   appender.Append(std::move(event),
//                   [session](absl::StatusOr<AppendResult> result) {
//                     session->PostToOwnLoop(Answer(result));
//                   });
//
// Thread-safety: Append may be called from any thread, concurrently. `done`
// runs exactly once: on the calling thread before Append returns (memory), or
// later on a backend thread. It must not block and must not assume either.
#pragma once

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "hookstream/v1/event.pb.h"

namespace hookstream {

struct AppendResult {
  uint64_t sequence = 0;
  // True when the event id was kept before: nothing new was kept, and
  // `sequence` is the first delivery's.
  bool duplicate = false;
};

using AppendCallback =
    absl::AnyInvocable<void(absl::StatusOr<AppendResult>) &&>;

class EventAppender {
 public:
  virtual ~EventAppender() = default;

  // Takes `event` (its id and received_at set; sequence and stream_epoch are
  // the backend's to set) and runs `done` once it is durable, or with the
  // reason it is not.
  virtual void Append(v1::Event event, AppendCallback done) = 0;
};

}  // namespace hookstream
