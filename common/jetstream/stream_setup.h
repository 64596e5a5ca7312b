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
// and across restarts, new only when the stream is recreated. It is stored
// in the stream's config (Description, stored_identity.h), written once by
// the replica that creates the stream; every other replica reads it:
//   - two replicas creating the stream together: the second create fails
//     ("stream name already in use", its Description differs) and it reads
//     the stream; either way the identity is the one read back, never the
//     one a replica proposed.
//   - a stream an older hookstream created (empty Description): its epoch
//     stays the one derived from its name and `Created`, and is written into
//     the Description once (replicas doing that together write the same
//     text: they read the same settled creation time).
//   - a Description someone else wrote: the start stops (setting:
//     description); hookstream does not overwrite it.
//
// Thread-safety: functions, no state.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/jetstream/jetstream_options.h"
#include "common/store/stream_identity.h"
#include "nats/nats.h"

namespace hookstream::jetstream {

struct StreamState {
  StreamIdentity identity;
  // This replica's create made the stream.
  bool created = false;
  // This replica wrote the identity of an older hookstream's stream.
  bool adopted = false;
  uint64_t first_sequence = 1;
  uint64_t last_sequence = 0;
  // 0 when the stream is empty.
  absl::Time first_time = absl::InfinitePast();
};

// Creates or checks the stream; a stream this call creates gets a new
// identity starting at `now`. FAILED_PRECONDITION naming the setting when
// an existing stream contradicts `options` or its Description is not
// hookstream's; UNAVAILABLE when JetStream does not answer.
absl::StatusOr<StreamState> EnsureStream(jsCtx* js,
                                         const JetStreamOptions& options,
                                         absl::Time now);

// The first contradiction between an existing stream's config and
// `options` as one line, or empty when there is none.
std::string ContradictionOf(const jsStreamConfig& config,
                            const JetStreamOptions& options);

}  // namespace hookstream::jetstream
