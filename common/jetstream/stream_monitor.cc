#include "common/jetstream/stream_monitor.h"

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/base/log.h"
#include "common/base/thread_name.h"
#include "common/jetstream/nats_handles.h"
#include "common/jetstream/stored_identity.h"

namespace hookstream::jetstream {

bool HistoryShorterThanDedupWindow(const StreamSnapshot& s, absl::Time now) {
  return s.valid && s.first_sequence > 1 &&
         s.first_time != absl::InfinitePast() &&
         now - s.first_time < s.duplicate_window;
}

StreamMonitor::StreamMonitor(jsCtx* js, std::string stream, std::string epoch,
                             absl::Duration interval, const Clock& clock)
    : js_(js),
      stream_(std::move(stream)),
      epoch_(std::move(epoch)),
      interval_(interval),
      clock_(clock) {}

StreamMonitor::~StreamMonitor() { Stop(); }

void StreamMonitor::Start() {
  started_at_ = clock_.Now();
  thread_ = std::thread([this] {
    NameCurrentThread("hs-js-monitor");
    Run();
  });
}

void StreamMonitor::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

StreamSnapshot StreamMonitor::Latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

void StreamMonitor::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    ReadOnce();
    lock.lock();
    cv_.wait_for(lock, absl::ToChronoNanoseconds(interval_),
                 [this] { return stopping_; });
  }
}

void StreamMonitor::ReadOnce() {
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_GetStreamInfo(&raw, js_, stream_.c_str(), nullptr, &code);
  StreamInfoPtr info(raw);
  if (s != NATS_OK || info == nullptr) {
    // Logged at debug only: an election or a lost node makes every read
    // fail for seconds, and the failure counter and the snapshot's age say
    // it on /metrics.
    ++read_failures_;
    LogRecord(LogLevel::kDebug, "jetstream stream info not read")
        .Add("stream", stream_)
        .Add("error", NatsError("stream info", s, code).message());
    return;
  }
  ++reads_;
  StreamSnapshot next;
  next.valid = true;
  next.first_sequence = info->State.FirstSeq;
  next.last_sequence = info->State.LastSeq;
  next.messages = info->State.Msgs;
  next.bytes = info->State.Bytes;
  if (info->State.Msgs > 0) {
    next.first_time = absl::FromUnixNanos(info->State.FirstTime);
  }
  std::string stored_epoch;
  if (info->Config != nullptr) {
    next.duplicate_window = absl::Nanoseconds(info->Config->Duplicates);
    const char* description = info->Config->Description;
    absl::StatusOr<StreamIdentity> stored =
        ParseStoredIdentity(description == nullptr ? "" : description);
    if (stored.ok()) stored_epoch = stored->epoch;
    next.identity_differs = stored_epoch != epoch_;
  }
  if (next.identity_differs != warned_identity_) {
    warned_identity_ = next.identity_differs;
    LogRecord(next.identity_differs ? LogLevel::kError : LogLevel::kInfo,
              next.identity_differs
                  ? "jetstream stream stores another identity than this "
                    "replica serves: restart the replicas (they read the "
                    "stored one; docs/scale-out.md)"
                  : "jetstream stream stores this replica's identity again")
        .Add("stream", stream_)
        .Add("epoch", epoch_)
        .Add("stored_epoch", stored_epoch);
  }
  next.read_at = clock_.Now();
  const bool short_history = HistoryShorterThanDedupWindow(next, next.read_at);
  if (short_history != warned_short_history_) {
    warned_short_history_ = short_history;
    LogRecord(short_history ? LogLevel::kWarning : LogLevel::kInfo,
              short_history
                  ? "jetstream stream keeps less than its duplicate window: "
                    "after a full cluster restart a late retry of a dropped "
                    "event would be stored again (raise --nats_max_msgs/"
                    "--nats_max_bytes, docs/operations.md)"
                  : "jetstream stream keeps its duplicate window again")
        .Add("stream", stream_)
        .Add("first_sequence", next.first_sequence)
        .Add("oldest_age", absl::FormatDuration(next.read_at - next.first_time))
        .Add("duplicate_window", absl::FormatDuration(next.duplicate_window));
  }
  last_sequence_.store(next.last_sequence);
  std::lock_guard lock(mu_);
  latest_ = next;
}

}  // namespace hookstream::jetstream
