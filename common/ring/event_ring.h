// -----------------------------------------------------------------------------
// File: event_ring.h
// -----------------------------------------------------------------------------
// EventRing is hookstream's event store: the newest events, bounded by a
// count and a byte budget, each stored once (serialized) and shared by every
// reader. It is where the ingress (Append) and the distribution (Read, Wait)
// meet, and the seam a durable or NATS JetStream backend will implement:
// keep this surface small.
//
// Contract:
// - Sequences start at 1 and grow by exactly 1 per appended event within one
//   stream epoch (one EventRing object). An append past either bound evicts
//   the oldest events; `oldest_sequence` then moves up.
// - An event whose provider id was appended before (within the dedup window,
//   or still held) is not appended again: Append reports the first
//   delivery's sequence with `duplicate = true`.
// - A reader asking for events after a position that was evicted gets the
//   held events from the oldest on and learns exactly how many it missed.
//
// Example (a reader that follows the stream):
//   uint64_t position = 0;
//   for (;;) {
//     EventRing::ReadResult r = ring.Read(position, {.max_events = 64});
//     if (r.missed > 0) ReportGap(position, r.oldest_sequence, r.missed);
//     for (const StoredEventPtr& e : r.events) Deliver(*e);
//     position = r.position;
//     if (r.events.empty()) WaitUntilAppended(ring, position);
//   }
//
// Thread-safety: all methods are thread-safe; appends are serialized by an
// internal lock, reads share it. Complexity: Append O(1) amortized (plus the
// evictions it causes), Get O(1), GetById O(1), Read O(events scanned),
// FirstSequenceAtOrAfter O(log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/ring/append_notifier.h"
#include "common/ring/dedup_index.h"
#include "common/ring/stored_event.h"
#include "hookstream/v1/event.pb.h"

namespace hookstream {

// Returns a new, practically unique stream epoch: the start time (UTC) and
// 64 random bits, e.g. `20261128T132201Z-9f3a1c2b4d5e6f70`.
std::string NewStreamEpoch(absl::Time now);

class EventRing {
 public:
  struct Options {
    size_t max_events = 100'000;
    size_t max_bytes = size_t{256} << 20;
    // `{}` so that designated initializers omitting it do not warn (GCC 12).
    DedupIndex::Options dedup = {};
  };

  struct AppendResult {
    uint64_t sequence = 0;
    // True when the event id was seen before: nothing was appended, and
    // `sequence` is the first delivery's.
    bool duplicate = false;
  };

  struct ReadOptions {
    // At most this many events are returned...
    size_t max_events = 64;
    // ...and at most about this many bytes (at least one event is returned
    // when one matches, however large).
    size_t max_bytes = size_t{4} << 20;
    // At most this many events are examined, matching or not, so that a
    // reader with a narrow filter holds the lock briefly.
    size_t max_scan = 4096;
  };

  struct ReadResult {
    // Matching events in sequence order.
    std::vector<StoredEventPtr> events;
    // The position the reader has been brought up to: every event up to it
    // was either returned or did not match. Pass it to the next Read.
    uint64_t position = 0;
    // Events after the requested position that were evicted before this read
    // (0 when none). When > 0, scanning started at `oldest_sequence`.
    uint64_t missed = 0;
    uint64_t oldest_sequence = 0;
    uint64_t head_sequence = 0;
  };

  struct Info {
    std::string stream_epoch;
    absl::Time start_time;
    // head + 1 when empty.
    uint64_t oldest_sequence = 1;
    // 0 when nothing was ever appended.
    uint64_t head_sequence = 0;
    size_t event_count = 0;
    size_t byte_count = 0;
    size_t event_capacity = 0;
    size_t byte_capacity = 0;
    size_t dedup_count = 0;
  };

  // `clock` must outlive the ring. `stream_epoch` empty: a new one.
  EventRing(Options options, const Clock& clock, std::string stream_epoch = "");

  EventRing(const EventRing&) = delete;
  EventRing& operator=(const EventRing&) = delete;

  // Append
  //
  // Assigns the next sequence to `event` (overwriting its `sequence` and
  // `stream_epoch`), stores it serialized, evicts what the bounds require,
  // then wakes waiting readers. Serialization happens before the lock is
  // taken. Errors: INVALID_ARGUMENT when `event.id()` is empty;
  // RESOURCE_EXHAUSTED when the event alone is larger than the byte budget.
  absl::StatusOr<AppendResult> Append(v1::Event event);

  // Get
  //
  // The held event with this sequence, or nullptr (evicted or not yet
  // appended).
  StoredEventPtr Get(uint64_t sequence) const;

  // GetById
  //
  // The held event with this provider id, or nullptr.
  StoredEventPtr GetById(absl::string_view event_id) const;

  // SequenceOfEventId
  //
  // The sequence the event with this provider id was appended at, if the id
  // is held or still remembered by the dedup index (it may be evicted).
  // Takes the lock exclusively: the dedup index forgets expired ids here.
  std::optional<uint64_t> SequenceOfEventId(absl::string_view event_id) const;

  // FirstSequenceAtOrAfter
  //
  // The sequence of the first held event appended at or after `time`
  // (by `StoredEvent::append_time`), or head + 1 when there is none.
  uint64_t FirstSequenceAtOrAfter(absl::Time time) const;

  // Read
  //
  // Events after `after_sequence` that `match` accepts, up to the limits in
  // `options`. Never blocks on appends for longer than the scan.
  ReadResult Read(uint64_t after_sequence, const ReadOptions& options) const;
  ReadResult Read(uint64_t after_sequence, const ReadOptions& options,
                  absl::FunctionRef<bool(const StoredEvent&)> match) const;

  // Wait / CancelWait
  //
  // See AppendNotifier: registers a one-shot callback run by the first append
  // after `after_sequence`, or returns nullopt when there is already
  // something to read.
  std::optional<AppendNotifier::Token> Wait(uint64_t after_sequence,
                                            AppendNotifier::Callback callback);
  bool CancelWait(AppendNotifier::Token token);

  Info GetInfo() const;
  const std::string& stream_epoch() const { return stream_epoch_; }
  const Options& options() const { return options_; }

 private:
  // Evicts oldest events until one of `incoming_bytes` fits; moves them to
  // `evicted` so that their memory is freed after mu_ is released, and
  // unpins their ids in the dedup index. Requires mu_ held exclusively.
  void EvictLocked(size_t incoming_bytes, std::vector<StoredEventPtr>& evicted);

  const Options options_;
  const Clock& clock_;
  const std::string stream_epoch_;
  const absl::Time start_time_;

  // std::shared_mutex, not absl::Mutex: Debian's Abseil is not built with
  // ThreadSanitizer, which then cannot see absl::Mutex synchronize and
  // reports false races; pthread-based locks are intercepted by TSan.
  // Everything below up to notifier_ is guarded by mu_.
  mutable std::shared_mutex mu_;
  // events_[i] has sequence oldest_sequence_ + i.
  std::deque<StoredEventPtr> events_;
  uint64_t oldest_sequence_ = 1;
  size_t bytes_ = 0;
  absl::Time last_append_time_ = absl::InfinitePast();
  // The only id index: remembers every appended id's sequence, with the ids
  // of held events (sequence >= oldest_sequence_) pinned, so it answers
  // duplicates, GetById and SequenceOfEventId. DedupIndex is not
  // thread-safe; mu_ makes "find, then append" atomic.
  mutable DedupIndex dedup_;

  AppendNotifier notifier_;
};

}  // namespace hookstream
