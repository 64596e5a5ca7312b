#include "common/ring/event_ring.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hookstream {
namespace {

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace

std::string NewStreamEpoch(absl::Time now) {
  absl::BitGen gen;
  return absl::StrCat(
      absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()), "-",
      absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16));
}

EventRing::EventRing(Options options, const Clock& clock,
                     std::string stream_epoch)
    : options_(std::move(options)),
      clock_(clock),
      stream_epoch_(stream_epoch.empty() ? NewStreamEpoch(clock.Now())
                                         : std::move(stream_epoch)),
      start_time_(clock.Now()),
      dedup_(options_.dedup, clock) {
  dedup_.KeepFrom(oldest_sequence_);
}

absl::StatusOr<EventRing::AppendResult> EventRing::Append(v1::Event event) {
  if (event.id().empty()) {
    return absl::InvalidArgumentError("event has an empty id");
  }
  // Everything that costs (copies, serialization) happens before the lock.
  auto stored = std::make_shared<StoredEvent>();
  stored->received_at = event.has_received_at()
                            ? FromTimestamp(event.received_at())
                            : clock_.Now();
  // Takes raw_json out of `event`; the id stays there for the messages below.
  const size_t size_without_sequence = stored->Encode(event, stream_epoch_);

  std::vector<StoredEventPtr> evicted;  // freed after the lock is released
  uint64_t sequence = 0;
  {
    std::unique_lock lock(mu_);
    sequence = oldest_sequence_ + events_.size();
    // A retry of an accepted event is a duplicate, whatever its size. Held
    // ids are pinned in the dedup index, so this covers them too.
    if (std::optional<uint64_t> first = dedup_.Find(event.id())) {
      return AppendResult{.sequence = *first, .duplicate = true};
    }
    const size_t size =
        size_without_sequence + StoredEvent::SequenceFieldSize(sequence);
    // Not encoded: too large for protobuf to parse, whatever the budget.
    if (size > options_.max_bytes || !stored->encoded()) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "event ", event.id(), " is ", size, " bytes, more than the ring's ",
          "byte budget of ",
          std::min(options_.max_bytes, StoredEvent::kMaxByteSize)));
    }
    // Only a few bytes, into room Encode reserved.
    stored->SetSequence(sequence);
    stored->append_time = std::max(stored->received_at, last_append_time_);
    last_append_time_ = stored->append_time;

    EvictLocked(size, evicted);
    dedup_.Insert(stored->id, sequence);
    bytes_ += size;
    events_.push_back(std::move(stored));
  }
  // Outside the lock: callbacks may read the ring.
  notifier_.Notify(sequence);
  return AppendResult{.sequence = sequence, .duplicate = false};
}

void EventRing::EvictLocked(size_t incoming_bytes,
                            std::vector<StoredEventPtr>& evicted) {
  while (!events_.empty() && (events_.size() >= options_.max_events ||
                              bytes_ + incoming_bytes > options_.max_bytes)) {
    StoredEventPtr& oldest = events_.front();
    bytes_ -= oldest->ByteSize();
    evicted.push_back(std::move(oldest));
    events_.pop_front();
    ++oldest_sequence_;
  }
  // The evicted ids are no longer pinned: the dedup window and count decide
  // how long they are remembered.
  dedup_.KeepFrom(oldest_sequence_);
}

StoredEventPtr EventRing::Get(uint64_t sequence) const {
  std::shared_lock lock(mu_);
  if (sequence < oldest_sequence_ ||
      sequence - oldest_sequence_ >= events_.size()) {
    return nullptr;
  }
  return events_[sequence - oldest_sequence_];
}

StoredEventPtr EventRing::GetById(absl::string_view event_id) const {
  std::shared_lock lock(mu_);
  // Held ids are pinned in the dedup index, so Peek (which forgets nothing
  // and is safe under a shared lock) finds every held event; an id it still
  // remembers of an evicted event fails the range check.
  const std::optional<uint64_t> sequence = dedup_.Peek(event_id);
  if (!sequence || *sequence < oldest_sequence_ ||
      *sequence - oldest_sequence_ >= events_.size()) {
    return nullptr;
  }
  return events_[*sequence - oldest_sequence_];
}

std::optional<uint64_t> EventRing::SequenceOfEventId(
    absl::string_view event_id) const {
  // Exclusive: DedupIndex::Find forgets expired ids (never held ones).
  std::unique_lock lock(mu_);
  return dedup_.Find(event_id);
}

uint64_t EventRing::FirstSequenceAtOrAfter(absl::Time time) const {
  std::shared_lock lock(mu_);
  // append_time never decreases along the ring, so it is sorted.
  const auto it = std::partition_point(
      events_.begin(), events_.end(),
      [time](const StoredEventPtr& e) { return e->append_time < time; });
  return oldest_sequence_ + static_cast<uint64_t>(it - events_.begin());
}

EventRing::ReadResult EventRing::Read(uint64_t after_sequence,
                                      const ReadOptions& options) const {
  return Read(after_sequence, options, [](const StoredEvent&) { return true; });
}

EventRing::ReadResult EventRing::Read(
    uint64_t after_sequence, const ReadOptions& options,
    absl::FunctionRef<bool(const StoredEvent&)> match) const {
  ReadResult result;
  std::shared_lock lock(mu_);
  const uint64_t oldest = oldest_sequence_;
  // oldest - 1 when empty (0 before the first append).
  const uint64_t head = oldest + events_.size() - 1;
  result.oldest_sequence = oldest;
  result.head_sequence = head;
  if (after_sequence >= head) {
    result.position = after_sequence;
    return result;
  }
  uint64_t next = after_sequence + 1;
  if (next < oldest) {
    result.missed = oldest - next;
    next = oldest;
  }
  // The missed events count as passed: the gap is reported once.
  result.position = next - 1;
  size_t bytes = 0;
  for (size_t scanned = 0; next <= head && scanned < options.max_scan;
       ++next, ++scanned) {
    const StoredEventPtr& event = events_[next - oldest];
    if (match(*event)) {
      if (result.events.size() >= options.max_events) break;
      if (!result.events.empty() &&
          bytes + event->ByteSize() > options.max_bytes) {
        break;
      }
      bytes += event->ByteSize();
      result.events.push_back(event);
    }
    result.position = next;
  }
  return result;
}

std::optional<AppendNotifier::Token> EventRing::Wait(
    uint64_t after_sequence, AppendNotifier::Callback callback) {
  return notifier_.Wait(after_sequence, std::move(callback));
}

bool EventRing::CancelWait(AppendNotifier::Token token) {
  return notifier_.Cancel(token);
}

EventRing::Info EventRing::GetInfo() const {
  Info info;
  info.stream_epoch = stream_epoch_;
  info.start_time = start_time_;
  info.event_capacity = options_.max_events;
  info.byte_capacity = options_.max_bytes;
  std::shared_lock lock(mu_);
  info.oldest_sequence = oldest_sequence_;
  info.head_sequence = oldest_sequence_ + events_.size() - 1;
  info.event_count = events_.size();
  info.byte_count = bytes_;
  info.dedup_count = dedup_.size();
  return info;
}

}  // namespace hookstream
