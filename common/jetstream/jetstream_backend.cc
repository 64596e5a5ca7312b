#include "common/jetstream/jetstream_backend.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/base/log.h"

namespace hookstream::jetstream {

// The ring as this replica's subscribers see it: positions up to the
// stream's last sequence are valid (waited for, not refused), and GetInfo
// carries the stream's last sequence.
class JetStreamBackend::Reader final : public EventReader {
 public:
  Reader(JetStreamBackend& backend, EventRing& ring)
      : backend_(backend), ring_(ring) {}

  StoredEventPtr Get(uint64_t sequence) const override {
    return ring_.Get(sequence);
  }
  StoredEventPtr GetById(absl::string_view event_id) const override {
    return ring_.GetById(event_id);
  }
  std::optional<uint64_t> SequenceOfEventId(
      absl::string_view event_id) const override {
    return ring_.SequenceOfEventId(event_id);
  }
  uint64_t FirstSequenceAtOrAfter(absl::Time time) const override {
    return ring_.FirstSequenceAtOrAfter(time);
  }
  ReadResult Read(
      uint64_t after_sequence, const ReadOptions& options,
      absl::FunctionRef<bool(const StoredEvent&)> match) const override {
    return ring_.Read(after_sequence, options, match);
  }
  std::optional<WaitToken> Wait(uint64_t after_sequence,
                                WaitCallback callback) override {
    return ring_.Wait(after_sequence, std::move(callback));
  }
  bool CancelWait(WaitToken token) override { return ring_.CancelWait(token); }
  Info GetInfo() const override {
    Info info = ring_.GetInfo();
    info.stream_last_sequence =
        std::max(info.head_sequence, backend_.known_stream_last_sequence());
    return info;
  }
  bool IsWithinStream(uint64_t sequence) const override {
    if (sequence <= std::max(ring_.GetInfo().head_sequence,
                             backend_.known_stream_last_sequence())) {
      return true;
    }
    // Rare (a subscriber arriving from a replica ahead of this one, within
    // moments of the publish): ask the stream rather than refuse.
    return sequence <= backend_.RefreshStreamLastSequence();
  }
  uint64_t LogLastSequence() const override {
    return std::max(ring_.GetInfo().head_sequence,
                    backend_.RefreshStreamLastSequence());
  }
  const std::string& stream_epoch() const override {
    return ring_.stream_epoch();
  }

 private:
  JetStreamBackend& backend_;
  EventRing& ring_;
};

absl::StatusOr<std::unique_ptr<JetStreamBackend>> JetStreamBackend::Open(
    JetStreamOptions options, const Clock& clock) {
  if (options.urls.empty()) {
    return absl::InvalidArgumentError("--backend=jetstream needs --nats_url");
  }
  auto backend = absl::WrapUnique(new JetStreamBackend());
  backend->options_ = options;
  const std::string urls = absl::StrJoin(options.urls, ",");

  natsOptions* raw_opts = nullptr;
  natsStatus s = natsOptions_Create(&raw_opts);
  OptionsPtr opts(raw_opts);
  if (s != NATS_OK) return NatsError("nats options", s);
  std::vector<const char*> servers;
  for (const std::string& url : options.urls) servers.push_back(url.c_str());
  s = natsOptions_SetServers(opts.get(), servers.data(),
                             static_cast<int>(servers.size()));
  if (s != NATS_OK) return NatsError(absl::StrCat("--nats_url ", urls), s);
  natsOptions_SetName(opts.get(), "hookstream");
  natsOptions_SetTimeout(opts.get(),
                         absl::ToInt64Milliseconds(options.connect_timeout));
  // Reconnect for ever: a replica outlives any one NATS node.
  natsOptions_SetMaxReconnect(opts.get(), -1);
  natsOptions_SetReconnectWait(opts.get(), 250);
  // Publishes during a reconnect are buffered (and retried by id anyway).
  natsOptions_SetReconnectBufSize(opts.get(), 64 << 20);
  // Each publish (and each flow-control reply of the follower) is written
  // to the socket at once instead of by nats.c's flusher thread, which
  // waits about a millisecond before it writes: every webhook's 200 and
  // every live delivery waited for it (docs/benchmarks.md, "send at once").
  natsOptions_SetSendAsap(opts.get(), true);
  if (!options.creds_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(
        opts.get(), options.creds_file.c_str(), nullptr);
    if (s != NATS_OK) {
      return absl::FailedPreconditionError(
          NatsError(absl::StrCat("--nats_creds ", options.creds_file), s)
              .message());
    }
  }
  if (!options.tls_ca_file.empty()) {
    s = natsOptions_SetSecure(opts.get(), true);
    if (s == NATS_OK) {
      s = natsOptions_LoadCATrustedCertificates(opts.get(),
                                                options.tls_ca_file.c_str());
    }
    if (s != NATS_OK) {
      return absl::FailedPreconditionError(
          NatsError(absl::StrCat("--nats_tls_ca ", options.tls_ca_file), s)
              .message());
    }
  }
  natsConnection* raw_conn = nullptr;
  s = natsConnection_Connect(&raw_conn, opts.get());
  backend->connection_.reset(raw_conn);
  if (s != NATS_OK) {
    return absl::UnavailableError(
        NatsError(absl::StrCat("nats: cannot connect to ", urls), s).message());
  }

  // A larger event would be refused by the server at publish time, for
  // every retry: refuse the configuration instead, once, at start.
  const int64_t max_payload =
      natsConnection_GetMaxPayload(backend->connection_.get());
  if (options.max_event_bytes > 0 &&
      static_cast<int64_t>(options.max_event_bytes + kHeaderAllowance) >
          max_payload) {
    return absl::FailedPreconditionError(absl::StrCat(
        "nats: the server's max_payload ", max_payload,
        " is smaller than --max_event_bytes ", options.max_event_bytes,
        " plus ", kHeaderAllowance,
        " bytes of headers: raise max_payload in the nats-server config "
        "(docs/scale-out.md) or lower --max_event_bytes (setting: "
        "max_payload)"));
  }

  // The ring's identity is the stream's: the stream comes first.
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = absl::ToInt64Milliseconds(options.attempt_timeout);
  jo.PublishAsync.AckHandler = &Publisher::OnAck;
  jsCtx* raw_js = nullptr;
  // A plain context for the stream: the publishing one needs the publisher
  // (its ack closure), which needs the stream's epoch.
  absl::StatusOr<StreamState> state;
  {
    jsOptions probe;
    jsOptions_Init(&probe);
    probe.Wait = jo.Wait;
    jsCtx* raw_probe = nullptr;
    s = natsConnection_JetStream(&raw_probe, backend->connection_.get(),
                                 &probe);
    JsPtr probe_js(raw_probe);
    if (s != NATS_OK) return NatsError("jetstream context", s);
    const absl::Time deadline = absl::Now() + options.start_timeout;
    state = EnsureStream(probe_js.get(), options, clock.Now());
    while (absl::IsUnavailable(state.status()) && absl::Now() < deadline) {
      LogRecord(LogLevel::kInfo, "jetstream not ready, retrying")
          .Add("error", state.status().message());
      absl::SleepFor(options.retry_pause);
      state = EnsureStream(probe_js.get(), options, clock.Now());
    }
  }
  if (!state.ok()) return state.status();
  backend->state_ = *state;

  backend->ring_ = std::make_unique<EventRing>(
      options.ring, clock, state->identity, state->first_sequence);
  backend->publisher_ =
      std::make_unique<Publisher>(options, clock, state->identity.epoch);
  jo.PublishAsync.AckHandlerClosure = backend->publisher_.get();
  s = natsConnection_JetStream(&raw_js, backend->connection_.get(), &jo);
  backend->js_.reset(raw_js);
  if (s != NATS_OK) return NatsError("jetstream context", s);
  backend->publisher_->set_js(backend->js_.get());
  backend->publisher_->set_ring(backend->ring_.get());
  backend->refreshed_last_ = state->last_sequence;

  backend->follower_ = std::make_unique<Follower>(options, *backend->ring_);
  const absl::Time deadline = absl::Now() + options.start_timeout;
  absl::Status started = backend->follower_->Start(backend->js_.get());
  while (absl::IsUnavailable(started) && absl::Now() < deadline) {
    LogRecord(LogLevel::kInfo, "jetstream consumer not ready, retrying")
        .Add("error", started.message());
    absl::SleepFor(options.retry_pause);
    started = backend->follower_->Start(backend->js_.get());
  }
  if (!started.ok()) return started;
  backend->reader_ = std::make_unique<Reader>(*backend, *backend->ring_);
  backend->monitor_ = std::make_unique<StreamMonitor>(
      backend->js_.get(), options.stream, state->identity.epoch,
      options.stream_info_interval, clock);
  backend->monitor_->Start();

  // After a full cluster restart JetStream rebuilds its duplicate map only
  // from the messages it still stores: a stream keeping less than the
  // window can take a late retry as new.
  const bool short_history =
      state->first_sequence > 1 && state->first_time != absl::InfinitePast() &&
      clock.Now() - state->first_time < options.duplicate_window;
  LogRecord(short_history ? LogLevel::kWarning : LogLevel::kInfo,
            "jetstream stream")
      .Add("stream", options.stream)
      .Add("created", state->created)
      .Add("identity_adopted", state->adopted)
      .Add("epoch", state->identity.epoch)
      .Add("first_sequence", state->first_sequence)
      .Add("last_sequence", state->last_sequence)
      .Add("replicas", options.replicas)
      .Add("oldest_younger_than_dedup_window", short_history);
  return backend;
}

JetStreamBackend::~JetStreamBackend() { Close(); }

uint64_t JetStreamBackend::known_stream_last_sequence() const {
  uint64_t last = refreshed_last_.load();
  if (publisher_ != nullptr) {
    last = std::max(last, publisher_->stats().last_acked_sequence.load());
  }
  if (follower_ != nullptr) {
    last = std::max(last, follower_->stats().stream_last_sequence.load());
  }
  if (monitor_ != nullptr) last = std::max(last, monitor_->last_sequence());
  return last;
}

uint64_t JetStreamBackend::RefreshStreamLastSequence() {
  if (js_ != nullptr && !closed_) {
    jsStreamInfo* raw = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_GetStreamInfo(&raw, js_.get(), options_.stream.c_str(), nullptr,
                         &code) == NATS_OK) {
      StreamInfoPtr info(raw);
      uint64_t last = refreshed_last_.load();
      while (
          info->State.LastSeq > last &&
          !refreshed_last_.compare_exchange_weak(last, info->State.LastSeq)) {
      }
    }
  }
  return known_stream_last_sequence();
}

void JetStreamBackend::Close() {
  if (closed_) return;
  closed_ = true;
  if (publisher_ != nullptr) publisher_->Close();
  if (monitor_ != nullptr) monitor_->Stop();
  if (follower_ != nullptr) follower_->Stop();
  if (connection_ != nullptr) natsConnection_Close(connection_.get());
}

}  // namespace hookstream::jetstream
