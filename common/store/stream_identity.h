// -----------------------------------------------------------------------------
// File: stream_identity.h
// -----------------------------------------------------------------------------
// A stream's identity: its epoch and when that epoch began. Sequences are
// comparable only within one epoch; a subscriber that resumes with another
// epoch's position is told so (GAP_REASON_EPOCH_CHANGED).
//
// The identity belongs to the storage backend, not to a ring object: the
// memory backend starts a new epoch with every process, the journal keeps
// its epoch across restarts (a new one only when its tail may be lost), and
// JetStream derives it from the stream itself.
//
// Example:
//   StreamIdentity identity = NewStreamIdentity(clock.Now());
//   // identity.epoch == "20261128T132201Z-9f3a1c2b4d5e6f70"
//
// Thread-safety: a value type.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace hookstream {

struct StreamIdentity {
  // `YYYYMMDDTHHMMSSZ-<16 hex>`: the start time (UTC) and 64 random bits.
  std::string epoch;
  absl::Time start_time = absl::UnixEpoch();
};

// A new, practically unique identity starting at `now`.
StreamIdentity NewStreamIdentity(absl::Time now);

}  // namespace hookstream
