// -----------------------------------------------------------------------------
// File: proto_time.h
// -----------------------------------------------------------------------------
// absl::Time ↔ google.protobuf.Timestamp: the one conversion, used wherever
// an event's or a message's time crosses into or out of Protobuf.
//
// ToProtoTimestamp floors to whole seconds and keeps nanos in [0, 1e9), as
// timestamp.proto requires, also before 1970. FromProtoTimestamp does not
// validate (see timestamp.proto for the valid range).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace hookstream {

inline google::protobuf::Timestamp ToProtoTimestamp(absl::Time t) {
  const absl::Duration since_epoch = t - absl::UnixEpoch();
  const int64_t seconds =
      absl::ToInt64Seconds(absl::Floor(since_epoch, absl::Seconds(1)));
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
  return ts;
}

inline absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace hookstream
