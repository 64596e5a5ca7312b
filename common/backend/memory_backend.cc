#include "common/backend/memory_backend.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hookstream {

MemoryBackend::MemoryBackend(EventRing& ring, const Clock& clock)
    : ring_(ring),
      clock_(clock),
      next_sequence_(ring.GetInfo().head_sequence + 1),
      last_log_time_(absl::InfinitePast()) {}

void MemoryBackend::Append(v1::Event event, AppendCallback done) {
  absl::StatusOr<EncodedEvent> encoded =
      EncodeForAppend(event, ring_.stream_epoch(), clock_.Now());
  if (!encoded.ok()) {
    std::move(done)(encoded.status());
    return;
  }
  std::move(done)(Sequence(std::move(encoded->event), encoded->received_at));
}

absl::StatusOr<AppendResult> MemoryBackend::Sequence(
    std::shared_ptr<StoredEvent> event, absl::Time received_at) {
  std::lock_guard lock(mu_);
  // A retry of an accepted event is a duplicate, whatever its size.
  if (std::optional<uint64_t> first = ring_.SequenceOfEventId(event->id)) {
    return AppendResult{.sequence = *first, .duplicate = true};
  }
  const uint64_t sequence = next_sequence_;
  const size_t size =
      event->ByteSize() + StoredEvent::SequenceFieldSize(sequence);
  if (!event->encoded() || !ring_.CanHold(size)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "event ", event->id, " is ", size,
        " bytes, more than the ring's byte budget of ",
        std::min(ring_.options().max_bytes, StoredEvent::kMaxByteSize)));
  }
  event->SetSequence(sequence);
  event->log_time = std::max(received_at, last_log_time_);
  last_log_time_ = event->log_time;
  if (absl::Status applied = ring_.Apply(std::move(event)); !applied.ok()) {
    return absl::InternalError(
        absl::StrCat("memory backend: ", applied.message()));
  }
  ++next_sequence_;
  return AppendResult{.sequence = sequence, .duplicate = false};
}

}  // namespace hookstream
