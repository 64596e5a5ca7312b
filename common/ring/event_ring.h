// -----------------------------------------------------------------------------
// File: event_ring.h
// -----------------------------------------------------------------------------
// EventRing is hookstream's in-memory event store: the newest events, bounded
// by a count and a byte budget, each stored once (serialized) and shared by
// every reader. It is the read side of every backend (it implements
// EventReader, common/store/event_reader.h) and is filled by whoever owns the
// sequences: the memory backend, the journal's writer after each fsync, a
// JetStream follower. It never assigns a sequence and never decides a
// duplicate itself.
//
// Contract:
// - Apply makes an event visible at its own sequence, which must be greater
//   than the head. Sequences may start above 1 (a restored stream) and may
//   have holes; "after N" means the first sequence greater than N.
// - An apply past either bound evicts the oldest events first; the eviction
//   floor (`oldest_sequence - 1`) then moves up to the last evicted sequence.
// - The identity (epoch, start time) is the backend's, given at construction.
// - The dedup index remembers every applied id with its sequence, from the
//   event's log_time for the dedup window (so an index rebuilt from a log
//   keeps the original windows), and never forgets the id of a held event.
//   RememberEvictedId restores ids whose events are gone (a journal's
//   carried-over ids).
// - A reader asking for events after a position below the floor gets the held
//   events from the floor on and learns how many sequences it missed.
//
// Example (the memory backend):
//   auto event = std::make_shared<StoredEvent>();
//   event->Encode(proto, ring.stream_epoch());
//   event->SetSequence(ring.GetInfo().head_sequence + 1);
//   event->log_time = clock.Now();
//   RETURN_IF_ERROR(ring.Apply(std::move(event)));  // readers are woken
//
// Thread-safety: all methods are thread-safe; applies are serialized by an
// internal lock, reads share it. Complexity: Apply O(1) amortized (plus the
// evictions it causes); Get, GetById O(1) while sequences are contiguous,
// O(log n) with holes; Read O(events scanned); FirstSequenceAtOrAfter
// O(log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/ring/append_notifier.h"
#include "common/ring/dedup_index.h"
#include "common/store/event_reader.h"
#include "common/store/stored_event.h"
#include "common/store/stream_identity.h"

namespace hookstream {

class EventRing final : public EventReader {
 public:
  struct Options {
    size_t max_events = 100'000;
    size_t max_bytes = size_t{256} << 20;
    // `{}` so that designated initializers omitting it do not warn (GCC 12).
    DedupIndex::Options dedup = {};
    // The backend filling the ring, as GetInfo names it.
    std::string backend = {};
  };

  // `clock` (the dedup window's "now") must outlive the ring. The first
  // sequence applied must be at least `first_sequence`; until then the head
  // is `first_sequence - 1` and so is the eviction floor.
  EventRing(Options options, const Clock& clock, StreamIdentity identity,
            uint64_t first_sequence = 1);

  EventRing(const EventRing&) = delete;
  EventRing& operator=(const EventRing&) = delete;

  // Apply
  //
  // Makes `event` visible at `event->sequence`. The event must be encoded in
  // this ring's epoch with its sequence set (StoredEvent::Encode +
  // SetSequence, or FromLogged), its sequence greater than the head; a
  // log_time before the previous event's is raised to it. Evicts what the
  // bounds require, remembers the id, then wakes waiting readers (outside the
  // lock). Errors, with nothing changed: INVALID_ARGUMENT (not encoded, no
  // id, sequence not above the head), RESOURCE_EXHAUSTED (alone larger than
  // the byte budget: check CanHold first).
  absl::Status Apply(std::shared_ptr<StoredEvent> event);

  // Whether an event of `byte_size` stored bytes fits the byte budget at all.
  bool CanHold(size_t byte_size) const {
    return byte_size <= options_.max_bytes;
  }

  // RememberEvictedId
  //
  // Restores an id whose event is no longer held (a journal's carried-over
  // ids, before its segments are applied): answered by SequenceOfEventId
  // until its window, counted from `log_time`, ends. `sequence` must not be
  // above the eviction floor. Call in sequence order, before any Apply.
  void RememberEvictedId(absl::string_view event_id, uint64_t sequence,
                         absl::Time log_time);

  // EventReader.
  StoredEventPtr Get(uint64_t sequence) const override;
  StoredEventPtr GetById(absl::string_view event_id) const override;
  // Takes the lock exclusively: the dedup index forgets expired ids here.
  std::optional<uint64_t> SequenceOfEventId(
      absl::string_view event_id) const override;
  uint64_t FirstSequenceAtOrAfter(absl::Time time) const override;
  ReadResult Read(
      uint64_t after_sequence, const ReadOptions& options,
      absl::FunctionRef<bool(const StoredEvent&)> match) const override;
  using EventReader::Read;  // every event, no filter
  std::optional<WaitToken> Wait(uint64_t after_sequence,
                                WaitCallback callback) override;
  bool CancelWait(WaitToken token) override;
  Info GetInfo() const override;
  const std::string& stream_epoch() const override { return identity_.epoch; }

  const StreamIdentity& identity() const { return identity_; }
  const Options& options() const { return options_; }

 private:
  // Evicts oldest events until one of `incoming_bytes` fits; moves them to
  // `evicted` so that their memory is freed after mu_ is released, and
  // unpins their ids in the dedup index. Requires mu_ held exclusively.
  void EvictLocked(size_t incoming_bytes, std::vector<StoredEventPtr>& evicted);
  // The index in events_ of the first event with a sequence greater than
  // `after` (events_.size() when none). Requires mu_.
  size_t FirstIndexAfter(uint64_t after) const;

  const Options options_;
  const Clock& clock_;
  const StreamIdentity identity_;

  // std::shared_mutex, not absl::Mutex: Debian's Abseil is not built with
  // ThreadSanitizer, which then cannot see absl::Mutex synchronize and
  // reports false races; pthread-based locks are intercepted by TSan.
  // Everything below up to notifier_ is guarded by mu_.
  mutable std::shared_mutex mu_;
  // Held events in increasing sequence order (contiguous unless the stream
  // has holes).
  std::deque<StoredEventPtr> events_;
  // Every sequence up to floor_ is gone (evicted, or before the start);
  // head_ is the newest applied (floor_ when nothing is held).
  uint64_t floor_ = 0;
  // Events evicted by this process (metrics).
  uint64_t evicted_total_ = 0;
  uint64_t head_ = 0;
  size_t bytes_ = 0;
  absl::Time last_log_time_ = absl::InfinitePast();
  // The only id index: remembers every applied id's sequence, with the ids
  // of held events (sequence > floor_) pinned, so it answers GetById and
  // SequenceOfEventId. DedupIndex is not thread-safe; mu_ guards it.
  mutable DedupIndex dedup_;

  AppendNotifier notifier_;
};

}  // namespace hookstream
