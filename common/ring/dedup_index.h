// -----------------------------------------------------------------------------
// File: dedup_index.h
// -----------------------------------------------------------------------------
// DedupIndex remembers which provider event ids were appended, and at which
// sequence, for longer than the ring may hold the events: GETTRX retries a
// delivery for days, and a retry of an evicted event must still be answered
// "duplicate" with the first delivery's sequence, not appended again. It is
// also the ring's only id index: the ring pins the ids of the events it
// holds (KeepFrom), so that every held event can be found by its id.
//
// Bounds: an id is forgotten `window` after its event's log time (default
// 72 h: each id carries its own time, so an index rebuilt from a log keeps
// the original windows),
// or earlier when more than `max_ids` ids are remembered, or when the ids
// remembered take more than `max_bytes` (each id counts its length plus
// kEntryOverheadBytes, so a flood of long ids cannot grow memory by the
// count bound times the id length), oldest first,
// unless it is pinned: an id inserted with a sequence at or above the
// KeepFrom floor is never forgotten, so `max_ids` and `max_bytes` are floors
// that pinned ids may exceed (the ring's own byte budget bounds those: every
// held event carries its id). Forgetting
// goes oldest first and stops at the first pinned id, which is exact when
// sequences are inserted in increasing order (as the ring does).
// Memory per id: a 56-byte entry, a heap copy of ids longer than 15 bytes
// (32 bytes for a 28-byte GETTRX id) and 29-57 bytes of hash slots (the
// table's load is 7/16 to 7/8): ~140 bytes at a million ids.
//
// Example:
//   DedupIndex dedup({.window = absl::Hours(72), .max_ids = 1'000'000}, clock);
//   if (auto seq = dedup.Find("evt_1")) return Duplicate(*seq);
//   dedup.Insert("evt_1", 42, event_log_time);
//
// Thread-safety: not thread-safe, except that const methods (Peek, size) may
// run concurrently with each other. EventRing guards its DedupIndex with the
// ring's own lock, so that "check, then append" is atomic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/clock.h"

namespace hookstream {

class DedupIndex {
 public:
  struct Options {
    absl::Duration window = absl::Hours(72);
    size_t max_ids = 1'000'000;
    // Bytes of remembered ids (length + kEntryOverheadBytes each).
    size_t max_bytes = size_t{256} << 20;
  };

  // What one remembered id costs besides its characters (the entry, its
  // hash slots): charged against max_bytes.
  static constexpr size_t kEntryOverheadBytes = 128;

  DedupIndex(Options options, const Clock& clock);

  DedupIndex(const DedupIndex&) = delete;
  DedupIndex& operator=(const DedupIndex&) = delete;

  // Returns the sequence `id` was inserted with, if it is still remembered.
  // Forgets expired ids first.
  std::optional<uint64_t> Find(absl::string_view id);

  // Like Find, but forgets nothing: it may also answer an id that is expired
  // but not yet forgotten. Exact for pinned ids (never expired); const, so
  // callers sharing a lock may call it concurrently.
  std::optional<uint64_t> Peek(absl::string_view id) const;

  // Remembers `id` → `sequence` until `time` + window. `id` must not be
  // remembered already (a second Insert keeps the first). Insert in sequence
  // order with non-decreasing times (forgetting goes oldest first).
  void Insert(absl::string_view id, uint64_t sequence, absl::Time time);

  // Pins the ids inserted with a sequence >= `sequence`: neither the window
  // nor `max_ids` forgets them; ids below it may be forgotten again (at the
  // next Find or Insert). Default: nothing is pinned.
  void KeepFrom(uint64_t sequence) { keep_from_ = sequence; }

  // How many ids are remembered (expired ones may still be counted until the
  // next Find or Insert).
  size_t size() const { return by_id_.size(); }

  // The bytes charged against max_bytes for the ids remembered now.
  size_t bytes() const { return bytes_; }

  const Options& options() const { return options_; }

 private:
  struct Entry {
    std::string id;
    uint64_t sequence;
    absl::Time time;
  };

  // Forgets expired ids and those beyond `max_ids` or `max_bytes`, oldest
  // first, up to the first pinned one.
  void Expire();
  bool OverBounds() const {
    return entries_.size() > options_.max_ids || bytes_ > options_.max_bytes;
  }
  void PopFront();

  const Options options_;
  const Clock& clock_;
  // Insertion order, oldest first. A deque never moves its elements on
  // push_back/pop_front, so `by_id_` can key on views of `Entry::id`.
  std::deque<Entry> entries_;
  absl::flat_hash_map<absl::string_view, uint64_t> by_id_;
  uint64_t keep_from_ = std::numeric_limits<uint64_t>::max();
  size_t bytes_ = 0;
};

}  // namespace hookstream
