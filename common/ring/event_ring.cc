#include "common/ring/event_ring.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hookstream {

EventRing::EventRing(Options options, const Clock& clock,
                     StreamIdentity identity, uint64_t first_sequence)
    : options_(std::move(options)),
      clock_(clock),
      identity_(std::move(identity)),
      floor_(first_sequence == 0 ? 0 : first_sequence - 1),
      head_(floor_),
      dedup_(options_.dedup, clock) {
  dedup_.KeepFrom(floor_ + 1);
  // Readers waiting after the start position are woken by the first apply.
  notifier_.Notify(head_);
}

absl::Status EventRing::Apply(std::shared_ptr<StoredEvent> event) {
  if (event == nullptr || !event->encoded()) {
    return absl::InvalidArgumentError("apply: event is not encoded");
  }
  if (event->id.empty()) {
    return absl::InvalidArgumentError("apply: event has an empty id");
  }
  const size_t size = event->ByteSize();
  if (!CanHold(size)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "event ", event->id, " is ", size,
        " bytes, more than the ring's byte budget of ", options_.max_bytes));
  }
  const uint64_t sequence = event->sequence;
  std::vector<StoredEventPtr> evicted;  // freed after the lock is released
  {
    std::unique_lock lock(mu_);
    if (sequence <= head_) {
      return absl::InvalidArgumentError(
          absl::StrCat("apply: sequence ", sequence,
                       " is not above the head sequence ", head_));
    }
    event->log_time = std::max(event->log_time, last_log_time_);
    last_log_time_ = event->log_time;
    EvictLocked(size, evicted);
    dedup_.Insert(event->id, sequence, event->log_time);
    bytes_ += size;
    head_ = sequence;
    events_.push_back(std::move(event));
  }
  // Outside the lock: callbacks may read the ring.
  notifier_.Notify(sequence);
  return absl::OkStatus();
}

void EventRing::RememberEvictedId(absl::string_view event_id, uint64_t sequence,
                                  absl::Time log_time) {
  std::unique_lock lock(mu_);
  if (sequence > floor_) return;  // breaks the contract; held ids come first
  dedup_.Insert(event_id, sequence, log_time);
}

void EventRing::EvictLocked(size_t incoming_bytes,
                            std::vector<StoredEventPtr>& evicted) {
  while (!events_.empty() && (events_.size() >= options_.max_events ||
                              bytes_ + incoming_bytes > options_.max_bytes)) {
    StoredEventPtr& oldest = events_.front();
    bytes_ -= oldest->ByteSize();
    floor_ = oldest->sequence;
    evicted.push_back(std::move(oldest));
    events_.pop_front();
    ++evicted_total_;
  }
  // The evicted ids are no longer pinned: the dedup window and count decide
  // how long they are remembered.
  dedup_.KeepFrom(floor_ + 1);
}

size_t EventRing::FirstIndexAfter(uint64_t after) const {
  if (events_.empty()) return 0;
  const uint64_t first = events_.front()->sequence;
  if (after < first) return 0;
  // Contiguous (the common case): the index is the offset.
  if (events_.back()->sequence - first == events_.size() - 1) {
    return static_cast<size_t>(
        std::min<uint64_t>(after - first + 1, events_.size()));
  }
  const auto it = std::partition_point(
      events_.begin(), events_.end(),
      [after](const StoredEventPtr& e) { return e->sequence <= after; });
  return static_cast<size_t>(it - events_.begin());
}

StoredEventPtr EventRing::Get(uint64_t sequence) const {
  std::shared_lock lock(mu_);
  if (sequence == 0) return nullptr;
  const size_t index = FirstIndexAfter(sequence - 1);
  if (index >= events_.size() || events_[index]->sequence != sequence) {
    return nullptr;
  }
  return events_[index];
}

StoredEventPtr EventRing::GetById(absl::string_view event_id) const {
  std::shared_lock lock(mu_);
  // Held ids are pinned in the dedup index, so Peek (which forgets nothing
  // and is safe under a shared lock) finds every held event; an id it still
  // remembers of an evicted event is not found among the held ones.
  const std::optional<uint64_t> sequence = dedup_.Peek(event_id);
  if (!sequence || *sequence <= floor_) return nullptr;
  const size_t index = FirstIndexAfter(*sequence - 1);
  if (index >= events_.size() || events_[index]->sequence != *sequence) {
    return nullptr;
  }
  return events_[index];
}

std::optional<uint64_t> EventRing::SequenceOfEventId(
    absl::string_view event_id) const {
  // Exclusive: DedupIndex::Find forgets expired ids (never held ones).
  std::unique_lock lock(mu_);
  return dedup_.Find(event_id);
}

uint64_t EventRing::FirstSequenceAtOrAfter(absl::Time time) const {
  std::shared_lock lock(mu_);
  // log_time never decreases along the ring, so it is sorted.
  const auto it = std::partition_point(
      events_.begin(), events_.end(),
      [time](const StoredEventPtr& e) { return e->log_time < time; });
  return it == events_.end() ? head_ + 1 : (*it)->sequence;
}

EventRing::ReadResult EventRing::Read(
    uint64_t after_sequence, const ReadOptions& options,
    absl::FunctionRef<bool(const StoredEvent&)> match) const {
  ReadResult result;
  std::shared_lock lock(mu_);
  result.oldest_sequence = floor_ + 1;
  result.head_sequence = head_;
  if (after_sequence >= head_) {
    result.position = after_sequence;
    return result;
  }
  uint64_t after = after_sequence;
  if (after < floor_) {
    // The missed sequences count as passed: the gap is reported once.
    result.missed = floor_ - after;
    after = floor_;
  }
  result.position = after;
  size_t bytes = 0;
  size_t scanned = 0;
  for (size_t i = FirstIndexAfter(after);
       i < events_.size() && scanned < options.max_scan; ++i, ++scanned) {
    const StoredEventPtr& event = events_[i];
    if (match(*event)) {
      if (result.events.size() >= options.max_events) break;
      if (!result.events.empty() &&
          bytes + event->ByteSize() > options.max_bytes) {
        break;
      }
      bytes += event->ByteSize();
      result.events.push_back(event);
    }
    result.position = event->sequence;
  }
  return result;
}

std::optional<EventRing::WaitToken> EventRing::Wait(uint64_t after_sequence,
                                                    WaitCallback callback) {
  return notifier_.Wait(after_sequence, std::move(callback));
}

bool EventRing::CancelWait(WaitToken token) { return notifier_.Cancel(token); }

EventRing::Info EventRing::GetInfo() const {
  Info info;
  info.stream_epoch = identity_.epoch;
  info.start_time = identity_.start_time;
  info.event_capacity = options_.max_events;
  info.byte_capacity = options_.max_bytes;
  std::shared_lock lock(mu_);
  info.oldest_sequence = floor_ + 1;
  info.head_sequence = head_;
  info.event_count = events_.size();
  info.byte_count = bytes_;
  info.dedup_count = dedup_.size();
  info.evicted_count = evicted_total_;
  info.oldest_log_time =
      events_.empty() ? absl::InfinitePast() : events_.front()->log_time;
  info.stream_last_sequence = head_;
  lock.unlock();
  info.backend = options_.backend;
  return info;
}

}  // namespace hookstream
