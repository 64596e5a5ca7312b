// A real EventRing filled by the real memory backend: how tests append events
// the way the server does (sequences, dedup, wake-ups), synchronously.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/backend/memory_backend.h"
#include "common/base/clock.h"
#include "common/ring/event_ring.h"
#include "common/store/event_appender.h"
#include "common/store/stream_identity.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event.pb.h"

namespace hookstream::testing {

class MemoryStore {
 public:
  // `epoch` empty: a new random one, as a server start makes.
  MemoryStore(EventRing::Options options, const Clock& clock,
              std::string epoch = "")
      : ring_(std::move(options), clock,
              epoch.empty() ? NewStreamIdentity(clock.Now())
                            : StreamIdentity{.epoch = std::move(epoch),
                                             .start_time = clock.Now()}),
        backend_(ring_, clock) {}

  // Appends through the backend; its completion runs before Append returns.
  absl::StatusOr<AppendResult> Append(v1::Event event) {
    std::optional<absl::StatusOr<AppendResult>> result;
    backend_.Append(
        std::move(event),
        [&result](absl::StatusOr<AppendResult> r) { result = std::move(r); });
    EXPECT_TRUE(result.has_value()) << "the memory backend completes inline";
    return result.has_value() ? *std::move(result)
                              : absl::InternalError("no completion");
  }

  EventRing& ring() { return ring_; }
  MemoryBackend& backend() { return backend_; }

 private:
  EventRing ring_;
  MemoryBackend backend_;
};

// Appends a new event and returns its sequence (failing the test on an error
// or a duplicate).
inline uint64_t AppendOrDie(MemoryStore& store, v1::Event event) {
  const std::string id = event.id();
  absl::StatusOr<AppendResult> result = store.Append(std::move(event));
  EXPECT_TRUE(result.ok()) << id << ": " << result.status();
  EXPECT_FALSE(result.ok() && result->duplicate) << id;
  return result.ok() ? result->sequence : 0;
}

}  // namespace hookstream::testing
