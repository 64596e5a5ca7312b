#include "common/jetstream/stream_setup.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/jetstream/nats_handles.h"

namespace hookstream::jetstream {
namespace {

int64_t Nanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

absl::Duration MaxAgeOf(const JetStreamOptions& options) {
  return std::max(options.max_age, options.duplicate_window);
}

std::string FormatDuration(int64_t ns) {
  return ns == 0 ? "unlimited" : absl::FormatDuration(absl::Nanoseconds(ns));
}

StreamState StateOf(const jsStreamInfo& info, bool created) {
  StreamState state;
  state.identity = IdentityOfStream(info.Config->Name, info.Created);
  state.created = created;
  // An empty stream reports FirstSeq = LastSeq + 1 (or 0 when new).
  state.last_sequence = info.State.LastSeq;
  state.first_sequence = std::max<uint64_t>(info.State.FirstSeq, 1);
  if (info.State.Msgs > 0) {
    state.first_time = absl::FromUnixNanos(info.State.FirstTime);
  } else {
    state.first_sequence = info.State.LastSeq + 1;
  }
  return state;
}

}  // namespace

StreamIdentity IdentityOfStream(absl::string_view name, int64_t created_ns) {
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a 64
  auto mix = [&hash](absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash ^= c;
      hash *= 0x100000001b3ull;
    }
  };
  mix(name);
  mix(":");
  mix(absl::StrCat(created_ns));
  const absl::Time created = absl::FromUnixNanos(created_ns);
  return StreamIdentity{
      .epoch = absl::StrCat(
          absl::FormatTime("%Y%m%dT%H%M%SZ", created, absl::UTCTimeZone()), "-",
          absl::StrFormat("%016x", hash)),
      .start_time = created};
}

std::string ContradictionOf(const jsStreamConfig& config,
                            const JetStreamOptions& options) {
  const std::string where = absl::StrCat("stream ", options.stream, ": ");
  bool subjects = false;
  for (int i = 0; i < config.SubjectsLen; ++i) {
    if (absl::string_view(config.Subjects[i]) == kStreamSubjects) {
      subjects = true;
    }
  }
  if (!subjects) {
    return absl::StrCat(where, "subjects do not include ", kStreamSubjects,
                        " (setting: subjects)");
  }
  if (config.Retention != js_LimitsPolicy) {
    return absl::StrCat(where,
                        "retention is not limits: replicas could miss "
                        "messages (setting: retention)");
  }
  if (config.Duplicates < Nanos(options.duplicate_window)) {
    return absl::StrCat(where, "duplicate window ",
                        FormatDuration(config.Duplicates),
                        " is shorter than --nats_dedup_window ",
                        absl::FormatDuration(options.duplicate_window),
                        " (setting: duplicate_window)");
  }
  if (config.MaxAge != 0 && config.MaxAge < Nanos(options.duplicate_window)) {
    return absl::StrCat(where, "max age ", FormatDuration(config.MaxAge),
                        " is shorter than the duplicate window ",
                        absl::FormatDuration(options.duplicate_window),
                        " (setting: max_age)");
  }
  if (config.Replicas != std::max<int64_t>(options.replicas, 1)) {
    return absl::StrCat(where, "has ", config.Replicas,
                        " replicas, --nats_replicas wants ", options.replicas,
                        " (setting: num_replicas)");
  }
  return "";
}

absl::StatusOr<StreamState> EnsureStream(jsCtx* js,
                                         const JetStreamOptions& options) {
  jsErrCode code = static_cast<jsErrCode>(0);
  jsStreamInfo* raw = nullptr;
  natsStatus s =
      js_GetStreamInfo(&raw, js, options.stream.c_str(), nullptr, &code);
  StreamInfoPtr info(raw);
  if (s == NATS_OK) {
    if (std::string why = ContradictionOf(*info->Config, options);
        !why.empty()) {
      return absl::FailedPreconditionError(why);
    }
    return StateOf(*info, /*created=*/false);
  }
  if (s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) {
    return NatsError(absl::StrCat("jetstream: stream info of ", options.stream),
                     s, code);
  }

  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {kStreamSubjects};
  config.Name = options.stream.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Retention = js_LimitsPolicy;
  config.Storage = js_FileStorage;
  config.Replicas = std::max(options.replicas, 1);
  config.Duplicates = Nanos(options.duplicate_window);
  config.MaxAge = Nanos(MaxAgeOf(options));
  config.MaxMsgs = options.max_msgs > 0 ? options.max_msgs : -1;
  config.MaxBytes = options.max_bytes > 0 ? options.max_bytes : -1;
  config.Discard = js_DiscardOld;
  raw = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_AddStream(&raw, js, &config, nullptr, &code);
  info.reset(raw);
  if (s != NATS_OK && code != JSStreamNameExistErr) {
    return NatsError(
        absl::StrCat("jetstream: creating stream ", options.stream), s, code);
  }
  const bool created = s == NATS_OK;
  // The identity comes from the stream as stored, never from the create's
  // answer: replicas starting together may both create it, and the second
  // answer (in a cluster) carries its own request's time, not the stream's.
  raw = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_GetStreamInfo(&raw, js, options.stream.c_str(), nullptr, &code);
  info.reset(raw);
  if (s != NATS_OK) {
    return NatsError(absl::StrCat("jetstream: stream info of ", options.stream),
                     s, code);
  }
  if (std::string why = ContradictionOf(*info->Config, options); !why.empty()) {
    return absl::FailedPreconditionError(why);
  }
  return StateOf(*info, created);
}

}  // namespace hookstream::jetstream
