#include "server/distribution/start_position.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/base/status_macros.h"
#include "server/distribution/gap_status.h"

namespace hookstream::distribution {
namespace {

// The ranges google/protobuf/timestamp.proto and duration.proto define.
bool IsValidTimestamp(const google::protobuf::Timestamp& t) {
  return t.seconds() >= -62'135'596'800 && t.seconds() <= 253'402'300'799 &&
         t.nanos() >= 0 && t.nanos() <= 999'999'999;
}

bool IsValidDuration(const google::protobuf::Duration& d) {
  return d.seconds() >= -315'576'000'000 && d.seconds() <= 315'576'000'000 &&
         d.nanos() >= -999'999'999 && d.nanos() <= 999'999'999 &&
         !(d.seconds() > 0 && d.nanos() < 0) &&
         !(d.seconds() < 0 && d.nanos() > 0);
}

}  // namespace

std::optional<v1::Gap> EvictionGap(uint64_t after_sequence,
                                   const RingBounds& bounds,
                                   const std::string& stream_epoch) {
  if (after_sequence + 1 >= bounds.oldest_sequence) return std::nullopt;
  v1::Gap gap;
  gap.set_stream_epoch(stream_epoch);
  gap.set_requested_after_sequence(after_sequence);
  gap.set_oldest_sequence(bounds.oldest_sequence);
  gap.set_missed_count(bounds.oldest_sequence - after_sequence - 1);
  gap.set_reason(v1::GAP_REASON_EVICTED);
  return gap;
}

absl::Status ApplyGapPolicy(v1::GapPolicy policy, const v1::Gap& gap) {
  if (policy == v1::GAP_POLICY_RESUME_FROM_OLDEST) return absl::OkStatus();
  return GapError(gap);
}

absl::StatusOr<StartPosition> ResolveStartPosition(
    const v1::SubscribeRequest& request, const EventReader& reader) {
  if (!v1::GapPolicy_IsValid(request.gap_policy())) {
    return absl::InvalidArgumentError(
        absl::StrCat("gap_policy: unknown value ", request.gap_policy()));
  }
  const EventReader::Info info = reader.GetInfo();
  const RingBounds bounds{.oldest_sequence = info.oldest_sequence,
                          .head_sequence = info.head_sequence};
  const v1::GapPolicy policy = request.gap_policy();

  // Only positions belong to an epoch.
  const bool positional =
      request.start_case() == v1::SubscribeRequest::kAfterSequence ||
      request.start_case() == v1::SubscribeRequest::kAfterEventId;
  if (positional && !request.stream_epoch().empty() &&
      request.stream_epoch() != info.stream_epoch) {
    v1::Gap gap;
    gap.set_stream_epoch(info.stream_epoch);
    gap.set_requested_after_sequence(request.after_sequence());
    gap.set_oldest_sequence(bounds.oldest_sequence);
    gap.set_missed_count(0);  // unknowable across epochs
    gap.set_reason(v1::GAP_REASON_EPOCH_CHANGED);
    RETURN_IF_ERROR(ApplyGapPolicy(policy, gap));
    return StartPosition{.after_sequence = bounds.oldest_sequence - 1,
                         .gap = gap};
  }

  uint64_t after = bounds.head_sequence;
  switch (request.start_case()) {
    case v1::SubscribeRequest::kAfterSequence:
      after = request.after_sequence();
      // A follower's position it has not applied yet is waited for.
      if (after > bounds.head_sequence && !reader.IsWithinStream(after)) {
        return absl::OutOfRangeError(absl::StrCat(
            "after_sequence ", after, " is beyond the head sequence ",
            std::max(bounds.head_sequence, info.stream_last_sequence),
            " of stream epoch ", info.stream_epoch));
      }
      break;
    case v1::SubscribeRequest::kAfterEventId: {
      if (request.after_event_id().empty()) {
        return absl::InvalidArgumentError("after_event_id: empty");
      }
      const std::optional<uint64_t> sequence =
          reader.SequenceOfEventId(request.after_event_id());
      if (!sequence) {
        return absl::NotFoundError(absl::StrCat(
            "after_event_id '", request.after_event_id(),
            "' was never seen by this stream (epoch ", info.stream_epoch, ")"));
      }
      after = *sequence;
      break;
    }
    case v1::SubscribeRequest::kOrigin:
      switch (request.origin()) {
        case v1::ORIGIN_OLDEST:
          after = bounds.oldest_sequence - 1;
          break;
        case v1::ORIGIN_UNSPECIFIED:
        case v1::ORIGIN_LATEST:
          after = bounds.head_sequence;
          break;
        default:
          return absl::InvalidArgumentError(
              absl::StrCat("origin: unknown value ", request.origin()));
      }
      break;
    case v1::SubscribeRequest::kFromTime:
      if (!IsValidTimestamp(request.from_time())) {
        return absl::InvalidArgumentError("from_time: not a valid timestamp");
      }
      after = reader.FirstSequenceAtOrAfter(
                  FromProtoTimestamp(request.from_time())) -
              1;
      break;
    case v1::SubscribeRequest::START_NOT_SET:
      break;
  }

  StartPosition start{.after_sequence = after};
  if (std::optional<v1::Gap> gap =
          EvictionGap(after, bounds, info.stream_epoch)) {
    RETURN_IF_ERROR(ApplyGapPolicy(policy, *gap));
    start.after_sequence = bounds.oldest_sequence - 1;
    start.gap = std::move(gap);
  }
  return start;
}

absl::StatusOr<absl::Duration> HeartbeatInterval(
    const v1::SubscribeRequest& request) {
  if (!request.has_heartbeat_interval()) return kDefaultHeartbeatInterval;
  const google::protobuf::Duration& d = request.heartbeat_interval();
  if (!IsValidDuration(d)) {
    return absl::InvalidArgumentError("heartbeat_interval: malformed Duration");
  }
  const absl::Duration interval =
      absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
  if (interval == absl::ZeroDuration()) return kDefaultHeartbeatInterval;
  if (interval < kMinHeartbeatInterval || interval > kMaxHeartbeatInterval) {
    return absl::InvalidArgumentError(absl::StrCat(
        "heartbeat_interval ", absl::FormatDuration(interval), " is outside [",
        absl::FormatDuration(kMinHeartbeatInterval), ", ",
        absl::FormatDuration(kMaxHeartbeatInterval), "] (0 or unset: ",
        absl::FormatDuration(kDefaultHeartbeatInterval), ")"));
  }
  return interval;
}

}  // namespace hookstream::distribution
