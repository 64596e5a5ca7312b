// -----------------------------------------------------------------------------
// File: start_position.h
// -----------------------------------------------------------------------------
// StartPosition says where a subscription begins, as one value the CLI can
// parse and a Subscriber can put into a SubscribeRequest.
//
// Example:
//   ASSIGN_OR_RETURN(StartPosition start, ParseStartPosition("seq:42"));
//   StartPosition::AfterSequence(42, "20261128T132201Z-9f3a…");  // resume
//
// Text forms (ParseStartPosition): `oldest`, `latest`, `seq:N`,
// `seq:N@EPOCH`, `id:evt_…`, `time:RFC3339` (e.g. time:2026-11-28T13:22:01Z).
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream {

struct StartPosition {
  enum class Kind {
    kLatest,
    kOldest,
    kAfterSequence,
    kAfterEventId,
    kFromTime
  };

  static StartPosition Latest() { return StartPosition(); }
  static StartPosition Oldest() {
    StartPosition p;
    p.kind = Kind::kOldest;
    return p;
  }
  // `stream_epoch` empty: the sequence is taken to be in the server's epoch.
  static StartPosition AfterSequence(uint64_t sequence,
                                     std::string stream_epoch = "") {
    StartPosition p;
    p.kind = Kind::kAfterSequence;
    p.sequence = sequence;
    p.stream_epoch = std::move(stream_epoch);
    return p;
  }
  static StartPosition AfterEventId(std::string event_id) {
    StartPosition p;
    p.kind = Kind::kAfterEventId;
    p.event_id = std::move(event_id);
    return p;
  }
  static StartPosition FromTime(absl::Time time) {
    StartPosition p;
    p.kind = Kind::kFromTime;
    p.time = time;
    return p;
  }

  // Sets the `start` oneof and `stream_epoch` of `request`.
  void ApplyTo(v1::SubscribeRequest& request) const;

  // The text form ParseStartPosition accepts.
  std::string ToString() const;

  Kind kind = Kind::kLatest;
  uint64_t sequence = 0;
  std::string stream_epoch;
  std::string event_id;
  absl::Time time;
};

// Parses the text forms listed above. INVALID_ARGUMENT names what was wrong.
absl::StatusOr<StartPosition> ParseStartPosition(absl::string_view text);

}  // namespace hookstream
