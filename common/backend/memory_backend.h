// -----------------------------------------------------------------------------
// File: memory_backend.h
// -----------------------------------------------------------------------------
// MemoryBackend is the default storage backend: events live only in this
// process's EventRing. Its EventAppender assigns sequences (head + 1, so the
// stream is contiguous from 1), decides duplicates against the ring's dedup
// index, and applies each event at once: "durable" means "in memory", and the
// completion runs inline, before Append returns. A restart starts a new
// stream epoch with nothing in it.
//
// Example:
//   EventRing ring(options, clock, NewStreamIdentity(clock.Now()));
//   MemoryBackend backend(ring, clock);
//   backend.Append(std::move(event), [](absl::StatusOr<AppendResult> r) {...});
//
// Thread-safety: Append is thread-safe; appends are serialized by one lock
// so that "check the id, assign the sequence, apply" is atomic.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/ring/event_ring.h"
#include "common/store/event_appender.h"
#include "common/store/stored_event.h"

namespace hookstream {

class MemoryBackend final : public EventAppender {
 public:
  // `ring` and `clock` must outlive the backend; nothing else may apply to
  // `ring`.
  MemoryBackend(EventRing& ring, const Clock& clock);

  void Append(v1::Event event, AppendCallback done) override;

 private:
  absl::StatusOr<AppendResult> Sequence(std::shared_ptr<StoredEvent> event,
                                        absl::Time received_at);

  EventRing& ring_;
  const Clock& clock_;
  // std::mutex rather than absl::Mutex: visible to ThreadSanitizer with
  // Debian's uninstrumented Abseil (docs/adr/0002-tsan-scope.md).
  std::mutex mu_;
  uint64_t next_sequence_;    // guarded by mu_
  absl::Time last_log_time_;  // guarded by mu_
};

}  // namespace hookstream
