#include "common/ring/dedup_index.h"

#include <utility>

namespace hookstream {

DedupIndex::DedupIndex(Options options, const Clock& clock)
    : options_(options), clock_(clock) {}

std::optional<uint64_t> DedupIndex::Find(absl::string_view id) {
  Expire();
  return Peek(id);
}

std::optional<uint64_t> DedupIndex::Peek(absl::string_view id) const {
  if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  return std::nullopt;
}

void DedupIndex::Insert(absl::string_view id, uint64_t sequence,
                        absl::Time time) {
  Expire();
  // Keep the first delivery's sequence; a second Insert breaks the contract
  // but must not leave a key viewing a string that is about to move.
  if (by_id_.contains(id)) return;
  entries_.push_back(Entry{std::string(id), sequence, time});
  by_id_.emplace(entries_.back().id, sequence);
  bytes_ += id.size() + kEntryOverheadBytes;
  while (OverBounds() && entries_.front().sequence < keep_from_) PopFront();
}

void DedupIndex::PopFront() {
  bytes_ -= entries_.front().id.size() + kEntryOverheadBytes;
  by_id_.erase(entries_.front().id);
  entries_.pop_front();
}

void DedupIndex::Expire() {
  const absl::Time now = clock_.Now();
  // Entries are in insertion order, which is time order for a log's events
  // (their log times never decrease); a time out of order only delays the
  // expiry of the entries after it.
  while (!entries_.empty() && entries_.front().sequence < keep_from_ &&
         (OverBounds() || now - entries_.front().time >= options_.window)) {
    PopFront();
  }
}

}  // namespace hookstream
