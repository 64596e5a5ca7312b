// -----------------------------------------------------------------------------
// File: stream_setup.h
// -----------------------------------------------------------------------------
// The JetStream stream behind hookstream: created at start when missing,
// checked when present. What hookstream relies on must hold, or the start
// stops with one line naming the setting:
//   subjects    include hookstream.events.>
//   retention   limits (a work-queue or interest stream deletes what
//               replicas still have to read)
//   duplicates  at least --nats_dedup_window
//   max_age     unlimited or at least the duplicate window
//   replicas    as --nats_replicas
// MaxMsgs/MaxBytes of an existing stream are left as they are (an operator's
// to tune).
//
// The stream's identity gives hookstream's epoch: the same on every replica
// and across restarts, new only when the stream is recreated.
//
// Thread-safety: functions, no state.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/jetstream/jetstream_options.h"
#include "common/store/stream_identity.h"
#include "nats/nats.h"

namespace hookstream::jetstream {

struct StreamState {
  StreamIdentity identity;
  bool created = false;
  uint64_t first_sequence = 1;
  uint64_t last_sequence = 0;
  // 0 when the stream is empty.
  absl::Time first_time = absl::InfinitePast();
};

// Creates or checks the stream. FAILED_PRECONDITION naming the setting when
// an existing stream contradicts `options`; UNAVAILABLE when JetStream does
// not answer.
absl::StatusOr<StreamState> EnsureStream(jsCtx* js,
                                         const JetStreamOptions& options);

// `YYYYMMDDTHHMMSSZ-<16 hex>`: the creation time and a stable hash (FNV-1a)
// of the name and the creation time in nanoseconds.
StreamIdentity IdentityOfStream(absl::string_view name, int64_t created_ns);

// The first contradiction between an existing stream's config and
// `options` as one line, or empty when there is none.
std::string ContradictionOf(const jsStreamConfig& config,
                            const JetStreamOptions& options);

}  // namespace hookstream::jetstream
