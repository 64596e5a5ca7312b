// -----------------------------------------------------------------------------
// File: start_position.h
// -----------------------------------------------------------------------------
// The start of the gap contract as pure functions of a SubscribeRequest and
// the ring's current state: where a new stream starts reading, and whether it
// starts with a Gap or fails.
//
// ResolveStartPosition returns the `after_sequence` to read after:
//   after_sequence = N      → N (0: from the first event ever)
//   after_event_id = "evt…" → the sequence that id was appended at
//                             (EventReader::SequenceOfEventId); never seen:
//                             NOT_FOUND
//   origin OLDEST          → oldest − 1
//   origin LATEST/unset, or no start at all → head (new events only)
//   from_time = T          → EventReader::FirstSequenceAtOrAfter(T) − 1
//                             (resolved among the events still held)
// then applies the gap contract:
//   - `stream_epoch` set, different from the ring's, and the start is a
//     position (after_sequence or after_event_id): FAILED_PRECONDITION with
//     a Gap{reason EPOCH_CHANGED} in the status payload; under
//     GAP_POLICY_RESUME_FROM_OLDEST instead that Gap is returned to be sent
//     first, and reading starts at the oldest. (Origins and from_time do not
//     belong to an epoch, so their `stream_epoch` is not checked.)
//   - after_sequence beyond the head: OUT_OF_RANGE (no Gap: nothing missed).
//   - the position's next event already evicted: OUT_OF_RANGE with a
//     Gap{reason EVICTED} payload, or, under RESUME_FROM_OLDEST, the Gap to
//     send and reading from the oldest.
// Statuses carry the Gap as a payload (see gap_status.h); ToGrpcStatus turns
// it into rich details.
//
// HeartbeatInterval: unset or zero → 15 s; within [1 s, 1 h] → as given;
// anything else (below 1 s, above 1 h, negative, malformed) →
// INVALID_ARGUMENT. We reject rather than clamp so a client that asked for
// 100 ms learns it at once instead of wondering why heartbeats are late.
//
// Thread-safety: pure; the ring is only read (its methods are thread-safe).
// The ring may change between these reads and the reactor's first Read; the
// reactor's Read reports any eviction in between as `missed`, so nothing is
// lost silently.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/store/event_reader.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream::distribution {

inline constexpr absl::Duration kDefaultHeartbeatInterval = absl::Seconds(15);
inline constexpr absl::Duration kMinHeartbeatInterval = absl::Seconds(1);
inline constexpr absl::Duration kMaxHeartbeatInterval = absl::Hours(1);

struct StartPosition {
  // Read events with sequences greater than this.
  uint64_t after_sequence = 0;
  // Send this first (only under GAP_POLICY_RESUME_FROM_OLDEST).
  std::optional<v1::Gap> gap = std::nullopt;
};

// The ring's state a start is resolved against.
struct RingBounds {
  uint64_t oldest_sequence = 1;
  uint64_t head_sequence = 0;
};

absl::StatusOr<StartPosition> ResolveStartPosition(
    const v1::SubscribeRequest& request, const EventReader& reader);

// The gap contract for a position (a start, or a subscriber's cursor) against
// the ring's bounds: nullopt when its next event is held (or not yet
// appended), otherwise the Gap{EVICTED} describing what was missed.
std::optional<v1::Gap> EvictionGap(uint64_t after_sequence,
                                   const RingBounds& bounds,
                                   const std::string& stream_epoch);

// What a stream does about `gap` under `policy`: an error status (FAIL) or
// OK (RESUME_FROM_OLDEST: send the gap, go on from the oldest).
absl::Status ApplyGapPolicy(v1::GapPolicy policy, const v1::Gap& gap);

absl::StatusOr<absl::Duration> HeartbeatInterval(
    const v1::SubscribeRequest& request);

}  // namespace hookstream::distribution
