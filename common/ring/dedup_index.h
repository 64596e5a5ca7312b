// -----------------------------------------------------------------------------
// File: dedup_index.h
// -----------------------------------------------------------------------------
// DedupIndex remembers which provider event ids were appended, and at which
// sequence, for longer than the ring may hold the events: GETTRX retries a
// delivery for days, and a retry of an evicted event must still be answered
// "duplicate" with the first delivery's sequence, not appended again.
//
// Bounds: an id is forgotten `window` after it was inserted (default 72 h),
// or earlier when more than `max_ids` ids are remembered (oldest first).
// Memory: about 100 bytes per id plus the id's length.
//
// Example:
//   DedupIndex dedup({.window = absl::Hours(72), .max_ids = 1'000'000}, clock);
//   if (auto seq = dedup.Find("evt_1")) return Duplicate(*seq);
//   dedup.Insert("evt_1", 42);
//
// Thread-safety: not thread-safe. EventRing guards its DedupIndex with the
// ring's own lock, so that "check, then append" is atomic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
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
  };

  DedupIndex(Options options, const Clock& clock);

  DedupIndex(const DedupIndex&) = delete;
  DedupIndex& operator=(const DedupIndex&) = delete;

  // Returns the sequence `id` was inserted with, if it is still remembered.
  // Forgets expired ids first.
  std::optional<uint64_t> Find(absl::string_view id);

  // Remembers `id` → `sequence`. `id` must not be remembered already.
  void Insert(absl::string_view id, uint64_t sequence);

  // How many ids are remembered (expired ones may still be counted until the
  // next Find or Insert).
  size_t size() const { return by_id_.size(); }

  const Options& options() const { return options_; }

 private:
  struct Entry {
    std::string id;
    uint64_t sequence;
    absl::Time inserted_at;
  };

  void Expire();

  const Options options_;
  const Clock& clock_;
  // Insertion order, oldest first. A deque never moves its elements on
  // push_back/pop_front, so `by_id_` can key on views of `Entry::id`.
  std::deque<Entry> entries_;
  absl::flat_hash_map<absl::string_view, uint64_t> by_id_;
};

}  // namespace hookstream
