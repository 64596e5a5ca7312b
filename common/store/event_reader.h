// -----------------------------------------------------------------------------
// File: event_reader.h
// -----------------------------------------------------------------------------
// EventReader is the read side of hookstream's storage seam: everything the
// distribution needs from the stream, and nothing else. Every backend serves
// reads from an in-memory EventRing (common/ring), which implements this;
// the distribution depends only on this header, never on a backend.
//
// Contract:
// - Only durable events are visible: a backend applies an event to what
//   readers see after it is durable in that backend (memory: at once;
//   journal: after the covering fsync; JetStream: after its ack). So no
//   reader can have seen a sequence that a crash then reuses.
// - Sequences grow within one stream epoch but need not be contiguous: a
//   stream may start above 1 and may have holes. "After N" always means the
//   first sequence greater than N.
// - `oldest_sequence` is the eviction floor + 1: every sequence below it is
//   gone, and a reader at a position below `oldest_sequence - 1` has missed
//   events (the gap contract). It is the first held event's sequence unless
//   that is a hole.
// - `head_sequence` is the newest applied sequence (0 before the first; for a
//   stream restored or started above 1, the sequence before its first).
//
// Example (a reader that follows the stream):
//   uint64_t position = 0;
//   for (;;) {
//     EventReader::ReadResult r = reader.Read(position, {.max_events = 64},
//                                             match_all);
//     if (r.missed > 0) ReportGap(position, r.oldest_sequence, r.missed);
//     for (const StoredEventPtr& e : r.events) Deliver(*e);
//     position = r.position;
//     if (r.events.empty()) WaitUntilApplied(reader, position);
//   }
//
// Thread-safety: implementations are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/store/stored_event.h"

namespace hookstream {

class EventReader {
 public:
  struct ReadOptions {
    // At most this many events are returned...
    size_t max_events = 64;
    // ...and at most about this many bytes (at least one event is returned
    // when one matches, however large).
    size_t max_bytes = size_t{4} << 20;
    // At most this many events are examined, matching or not, so that a
    // reader with a narrow filter holds the store's lock briefly.
    size_t max_scan = 4096;
  };

  struct ReadResult {
    // Matching events in sequence order.
    std::vector<StoredEventPtr> events;
    // The position the reader has been brought up to: every event up to it
    // was either returned or did not match. Pass it to the next Read.
    uint64_t position = 0;
    // How many sequences after the requested position were evicted before
    // this read (0 when none): oldest_sequence - 1 - requested position.
    // Exact for contiguous streams; with holes it counts the holes too.
    // When > 0, scanning started at `oldest_sequence`.
    uint64_t missed = 0;
    uint64_t oldest_sequence = 0;
    uint64_t head_sequence = 0;
  };

  struct Info {
    std::string stream_epoch;
    absl::Time start_time;
    // head + 1 when nothing is held.
    uint64_t oldest_sequence = 1;
    // 0 when nothing was ever applied.
    uint64_t head_sequence = 0;
    size_t event_count = 0;
    size_t byte_count = 0;
    size_t event_capacity = 0;
    size_t byte_capacity = 0;
    size_t dedup_count = 0;
    // Events evicted since this process started (metrics).
    uint64_t evicted_count = 0;
    // The oldest held event's log time; InfinitePast when none is held.
    absl::Time oldest_log_time = absl::InfinitePast();
    // The backend's name (memory, journal, jetstream; empty when unnamed).
    std::string backend;
    // The shared log's last sequence as this replica knows it, when the
    // backend follows one (JetStream); else equal to head_sequence.
    uint64_t stream_last_sequence = 0;
  };

  using WaitToken = uint64_t;
  using WaitCallback = absl::AnyInvocable<void() &&>;

  virtual ~EventReader() = default;

  // The held event with this sequence, or nullptr (evicted, a hole, or not
  // yet applied).
  virtual StoredEventPtr Get(uint64_t sequence) const = 0;

  // The held event with this provider id, or nullptr.
  virtual StoredEventPtr GetById(absl::string_view event_id) const = 0;

  // The sequence the event with this provider id was applied at, if it is
  // held or still remembered by the dedup window (it may be evicted).
  virtual std::optional<uint64_t> SequenceOfEventId(
      absl::string_view event_id) const = 0;

  // The sequence of the first held event whose log_time is at or after
  // `time`, or head + 1 when there is none.
  virtual uint64_t FirstSequenceAtOrAfter(absl::Time time) const = 0;

  // Events after `after_sequence` that `match` accepts, up to the limits in
  // `options`. Never blocks on writers for longer than the scan.
  virtual ReadResult Read(
      uint64_t after_sequence, const ReadOptions& options,
      absl::FunctionRef<bool(const StoredEvent&)> match) const = 0;
  // Every event (no filter).
  ReadResult Read(uint64_t after_sequence, const ReadOptions& options) const {
    return Read(after_sequence, options,
                [](const StoredEvent&) { return true; });
  }

  // Registers a one-shot `callback`, run by the first apply of a sequence
  // greater than `after_sequence`, on the applying thread once its lock is
  // released: it must be short and must not block (post work elsewhere).
  // Returns nullopt, registering nothing, when such an event is already
  // visible: read now instead.
  virtual std::optional<WaitToken> Wait(uint64_t after_sequence,
                                        WaitCallback callback) = 0;

  // Removes a registration. True if the callback will never run; false if it
  // ran or is running, in which case CancelWait first waits for it to
  // return. Must not be called from inside the callback or under a lock the
  // callback takes.
  virtual bool CancelWait(WaitToken token) = 0;

  virtual Info GetInfo() const = 0;

  // Whether `sequence` is a position of this stream: at most its last
  // sequence. A follower of a shared log may not have applied it yet (a
  // reader there waits for it); a reader asking beyond it is refused. May
  // ask the log (a short request) when the position is beyond what is known.
  virtual bool IsWithinStream(uint64_t sequence) const {
    return sequence <= GetInfo().head_sequence;
  }
  // The shared log's last sequence as of this call, when the backend
  // follows one (JetStream: asks the stream, a short request, so it may
  // block: never call it on a request thread; server/distribution/
  // catch_up.h does it on its own); else the head. An id this replica does
  // not hold may still be in the log up to there.
  virtual uint64_t LogLastSequence() const { return GetInfo().head_sequence; }
  virtual const std::string& stream_epoch() const = 0;
};

}  // namespace hookstream
