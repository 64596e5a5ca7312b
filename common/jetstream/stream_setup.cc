#include "common/jetstream/stream_setup.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/jetstream/nats_handles.h"
#include "common/jetstream/stored_identity.h"

namespace hookstream::jetstream {
namespace {

int64_t Nanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

absl::Duration MaxAgeOf(const JetStreamOptions& options) {
  return std::max(options.max_age, options.duplicate_window);
}

std::string FormatDuration(int64_t ns) {
  return ns == 0 ? "unlimited" : absl::FormatDuration(absl::Nanoseconds(ns));
}

// The sequences and first message time of `info`; not its identity.
StreamState StateOf(const jsStreamInfo& info) {
  StreamState state;
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

absl::StatusOr<StreamInfoPtr> ReadStream(jsCtx* js, const std::string& name) {
  jsErrCode code = static_cast<jsErrCode>(0);
  jsStreamInfo* raw = nullptr;
  const natsStatus s = js_GetStreamInfo(&raw, js, name.c_str(), nullptr, &code);
  StreamInfoPtr info(raw);
  if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) {
    return absl::NotFoundError(absl::StrCat("stream ", name, " not found"));
  }
  if (s != NATS_OK || info == nullptr || info->Config == nullptr) {
    return NatsError(absl::StrCat("jetstream: stream info of ", name), s, code);
  }
  return info;
}

// Writes `identity` into the Description of `info`'s stream, the rest of
// its config as it is.
absl::Status WriteIdentity(jsCtx* js, const jsStreamInfo& info,
                           const StreamIdentity& identity) {
  const std::string description = FormatStoredIdentity(identity);
  jsStreamConfig config = *info.Config;
  config.Description = description.c_str();
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_UpdateStream(&raw, js, &config, nullptr, &code);
  StreamInfoPtr updated(raw);
  if (s != NATS_OK) {
    return NatsError(
        absl::StrCat("jetstream: writing the identity of ", config.Name), s,
        code);
  }
  return absl::OkStatus();
}

}  // namespace

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
                                         const JetStreamOptions& options,
                                         absl::Time now) {
  absl::StatusOr<StreamInfoPtr> info = ReadStream(js, options.stream);
  bool created = false;
  if (absl::IsNotFound(info.status())) {
    const StreamIdentity proposed = NewStreamIdentity(now);
    const std::string description = FormatStoredIdentity(proposed);
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subjects[] = {kStreamSubjects};
    config.Name = options.stream.c_str();
    config.Description = description.c_str();
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
    jsStreamInfo* raw = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s = js_AddStream(&raw, js, &config, nullptr, &code);
    StreamInfoPtr answer(raw);
    // "Already in use": another replica created it first, with its own
    // identity in the Description (so the configs differ).
    if (s != NATS_OK && code != JSStreamNameExistErr) {
      return NatsError(
          absl::StrCat("jetstream: creating stream ", options.stream), s, code);
    }
    created = s == NATS_OK;
    // The identity comes from the stream as stored, never from what this
    // replica proposed or from the create's answer.
    info = ReadStream(js, options.stream);
    if (absl::IsNotFound(info.status())) {
      // Created (or being created) but not readable yet: the caller retries.
      return absl::UnavailableError(info.status().message());
    }
  }
  if (!info.ok()) return info.status();
  if (std::string why = ContradictionOf(*(*info)->Config, options);
      !why.empty()) {
    return absl::FailedPreconditionError(why);
  }
  const char* stored = (*info)->Config->Description;
  absl::StatusOr<StreamIdentity> identity =
      ParseStoredIdentity(stored == nullptr ? "" : stored);
  bool adopted = false;
  if (absl::IsNotFound(identity.status())) {
    // An older hookstream's stream: keep its epoch (subscribers' positions
    // stay valid) and store it, so that from now on it is read, not
    // derived. Its creation time settled long ago, so replicas adopting it
    // together write the same text.
    const StreamIdentity derived =
        IdentityOfStream((*info)->Config->Name, (*info)->Created);
    if (absl::Status written = WriteIdentity(js, **info, derived);
        !written.ok()) {
      return written;
    }
    adopted = true;
    info = ReadStream(js, options.stream);
    if (!info.ok()) return info.status();
    stored = (*info)->Config->Description;
    identity = ParseStoredIdentity(stored == nullptr ? "" : stored);
  }
  if (!identity.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stream ", options.stream, ": ", identity.status().message(),
        "; hookstream keeps its epoch there: clear it or use "
        "another --nats_stream (setting: description)"));
  }
  StreamState state = StateOf(**info);
  state.identity = *std::move(identity);
  state.created = created;
  state.adopted = adopted;
  return state;
}

}  // namespace hookstream::jetstream
