#include "client/start_position.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace hookstream {

void StartPosition::ApplyTo(v1::SubscribeRequest& request) const {
  request.clear_start();
  request.clear_stream_epoch();
  switch (kind) {
    case Kind::kLatest:
      request.set_origin(v1::ORIGIN_LATEST);
      break;
    case Kind::kOldest:
      request.set_origin(v1::ORIGIN_OLDEST);
      break;
    case Kind::kAfterSequence:
      request.set_after_sequence(sequence);
      request.set_stream_epoch(stream_epoch);
      break;
    case Kind::kAfterEventId:
      request.set_after_event_id(event_id);
      break;
    case Kind::kFromTime: {
      const int64_t seconds = absl::ToUnixSeconds(time);
      request.mutable_from_time()->set_seconds(seconds);
      request.mutable_from_time()->set_nanos(static_cast<int32_t>(
          absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
      break;
    }
  }
}

std::string StartPosition::ToString() const {
  switch (kind) {
    case Kind::kLatest:
      return "latest";
    case Kind::kOldest:
      return "oldest";
    case Kind::kAfterSequence:
      return stream_epoch.empty()
                 ? absl::StrCat("seq:", sequence)
                 : absl::StrCat("seq:", sequence, "@", stream_epoch);
    case Kind::kAfterEventId:
      return absl::StrCat("id:", event_id);
    case Kind::kFromTime:
      return absl::StrCat("time:", absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ",
                                                    time, absl::UTCTimeZone()));
  }
  return "latest";
}

absl::StatusOr<StartPosition> ParseStartPosition(absl::string_view text) {
  if (text == "oldest") return StartPosition::Oldest();
  if (text == "latest" || text.empty()) return StartPosition::Latest();
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "seq:")) {
    absl::string_view number = rest;
    std::string epoch;
    if (const size_t at = rest.find('@'); at != absl::string_view::npos) {
      number = rest.substr(0, at);
      epoch = std::string(rest.substr(at + 1));
      if (epoch.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("start '", text, "': empty epoch after '@'"));
      }
    }
    uint64_t sequence = 0;
    if (!absl::SimpleAtoi(number, &sequence)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "start '", text, "': '", number, "' is not a sequence number"));
    }
    return StartPosition::AfterSequence(sequence, std::move(epoch));
  }
  if (absl::ConsumePrefix(&rest, "id:")) {
    if (rest.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("start '", text, "': empty event id"));
    }
    return StartPosition::AfterEventId(std::string(rest));
  }
  if (absl::ConsumePrefix(&rest, "time:")) {
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, rest, &time, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("start '", text, "': not an RFC 3339 time (", error,
                       "), e.g. time:2026-11-28T13:22:01Z"));
    }
    return StartPosition::FromTime(time);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("start '", text,
                   "': expected oldest, latest, seq:N[@EPOCH], id:evt_… or "
                   "time:RFC3339"));
}

}  // namespace hookstream
