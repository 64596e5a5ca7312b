#include "client/subscriber.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/grpc_status.h"
#include "common/base/log.h"
#include "common/base/thread_name.h"
#include "google/protobuf/duration.pb.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/sync_stream.h"

namespace hookstream {
namespace {

// How long an attempt waits for its channel to connect before it goes ahead
// (and, on a channel that cannot connect, fails at once and backs off).
constexpr absl::Duration kConnectWait = absl::Seconds(2);

// gRPC's channel backs off on its own between connection attempts (from 1 s
// up to 120 s by default) and fails calls at once meanwhile, which would
// stretch the Subscriber's own backoff; a channel the Subscriber makes
// retries no slower than the Subscriber does. gRPC takes
// GRPC_ARG_MIN_RECONNECT_BACKOFF_MS as the minimum connect timeout (default
// 20 s): 100 ms cut TLS handshakes short; 2 s bounds an attempt that hangs
// (a peer that accepts and never answers) without cutting a slow handshake.
grpc::ChannelArguments ChannelArgs(const Backoff::Options& backoff) {
  grpc::ChannelArguments args;
  const int max_ms = static_cast<int>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(backoff.max_delay), 100, 120'000));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
  return args;
}

google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  google::protobuf::Duration out;
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
  return out;
}

}  // namespace

Subscriber::Subscriber(std::shared_ptr<grpc::Channel> channel,
                       SubscriberOptions options)
    : Subscriber(ChannelFactory([channel] { return channel; }),
                 std::move(options)) {}

Subscriber::Subscriber(SubscriberOptions options)
    : Subscriber(ChannelFactory(), std::move(options)) {}

Subscriber::Subscriber(ChannelFactory channel_factory,
                       SubscriberOptions options)
    : options_(std::move(options)),
      channel_factory_(std::move(channel_factory)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock()),
      backoff_(options_.backoff, clock_, options_.random),
      liveness_timeout_(options_.liveness_timeout > absl::ZeroDuration()
                            ? options_.liveness_timeout
                            : 3 * options_.heartbeat_interval +
                                  absl::Seconds(5)) {
  if (options_.start.kind == StartPosition::Kind::kAfterSequence) {
    // An explicit position is already a resume point; its epoch (if any) is
    // checked by the server on the first subscribe.
    have_position_ = true;
    epoch_ = options_.start.stream_epoch;
    cursor_ = options_.start.sequence;
    absl::MutexLock lock(&mu_);
    consumer_position_ = {epoch_, cursor_};
  }
  if (!channel_factory_) {
    absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> channels =
        CreateChannels(options_.connection, ChannelArgs(options_.backoff));
    if (channels.ok()) {
      // A failover list: each attempt goes to the next replica, so a
      // replica that went away is left at the first reconnect. Called from
      // the worker thread only.
      channel_factory_ = [channels = *std::move(channels),
                          next = size_t{0}]() mutable {
        std::shared_ptr<grpc::Channel> c = channels[next];
        next = (next + 1) % channels.size();
        return c;
      };
    } else {
      channel_error_ = channels.status();
    }
  }
  worker_ = std::thread([this] {
    NameCurrentThread("hs-subscriber");
    Work();
  });
  if (liveness_timeout_ != absl::InfiniteDuration()) {
    watchdog_ = std::thread([this] {
      NameCurrentThread("hs-sub-watchdog");
      Watch();
    });
  }
}

Subscriber::~Subscriber() { Stop(); }

void Subscriber::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (current_context_ != nullptr) current_context_->TryCancel();
  }
  for (std::thread* t : {&worker_, &watchdog_}) {
    if (t->joinable() && t->get_id() != std::this_thread::get_id()) t->join();
  }
}

void Subscriber::Watch() {
  // Checking a few times per timeout bounds how late a stall is noticed; at
  // least once a second, so an injected clock that jumps is noticed too.
  const absl::Duration period = std::clamp(
      liveness_timeout_ / 4, absl::Milliseconds(10), absl::Seconds(1));
  absl::MutexLock lock(&mu_);
  while (!stopping_ && !done_) {
    const auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || done_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&stop), period);
    if (stopping_ || done_) break;
    if (current_context_ != nullptr && !waiting_on_consumer_ && !stalled_ &&
        clock_.Now() - last_activity_ > liveness_timeout_) {
      stalled_ = true;
      current_context_->TryCancel();
    }
  }
}

StreamPosition Subscriber::position() const {
  absl::MutexLock lock(&mu_);
  return consumer_position_;
}

int Subscriber::reconnects() const {
  absl::MutexLock lock(&mu_);
  return reconnects_;
}

v1::SubscribeRequest Subscriber::BuildRequest() const {
  v1::SubscribeRequest request;
  if (have_position_) {
    StartPosition::AfterSequence(cursor_, epoch_).ApplyTo(request);
  } else {
    // Never connected far enough to learn a position: ask again for the
    // original start (for `latest` that means "from now").
    options_.start.ApplyTo(request);
  }
  *request.mutable_filter() = options_.filter;
  request.set_gap_policy(options_.gap_policy);
  *request.mutable_heartbeat_interval() =
      ToProtoDuration(options_.heartbeat_interval);
  request.set_include_raw_json(options_.include_raw_json);
  return request;
}

bool Subscriber::Retryable(const absl::Status& status) const {
  switch (status.code()) {
    case absl::StatusCode::kOk:  // the server ended the stream: resume
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    // Cancelled by the server or a proxy; our own Stop() is checked first.
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

void Subscriber::WaitUntilConnected(grpc::Channel& channel) {
  // The synchronous API moves a connection attempt on only while a thread
  // polls for it: a call that fails fast on a channel in TRANSIENT_FAILURE
  // hardly does, nor does the backoff sleep. A TLS handshake then stalls
  // until gRPC's connect timeout, again and again (tail over TLS never came
  // back after a restart; a second replica was never reached). Waiting for
  // the connection here polls it: until it is ready or one attempt has
  // failed (a refused connection ends the wait at once), in slices, so
  // Stop() is not held up.
  const absl::Time deadline = absl::Now() + kConnectWait;
  bool attempted = false;
  while (absl::Now() < deadline) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    const grpc_connectivity_state state = channel.GetState(true);
    if (state == GRPC_CHANNEL_READY || state == GRPC_CHANNEL_SHUTDOWN) return;
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE && attempted) return;
    if (state == GRPC_CHANNEL_CONNECTING) attempted = true;
    channel.WaitForStateChange(
        state, absl::ToChronoTime(
                   std::min(deadline, absl::Now() + absl::Milliseconds(200))));
  }
}

void Subscriber::Notify(const ConnectionEvent& event) const {
  if (options_.on_connection) options_.on_connection(event);
}

void Subscriber::Work() {
  if (!channel_error_.ok()) {
    Finish(channel_error_);
    return;
  }
  int failed_attempts = 0;
  bool resumed = false;
  std::string followed_epoch;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    std::shared_ptr<grpc::Channel> channel = channel_factory_();
    StreamOutcome outcome;
    outcome.status = absl::UnavailableError("no channel");
    if (channel != nullptr) {
      WaitUntilConnected(*channel);
      std::unique_ptr<v1::EventStream::Stub> stub =
          v1::EventStream::NewStub(channel);
      outcome = RunStream(*stub, resumed);
    }
    resumed = resumed || outcome.got_message;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    const absl::Status& status = outcome.status;
    if (std::optional<v1::Gap> gap = GapFromStatus(status)) {
      // The gap contract's terminal form (GAP_POLICY_FAIL): report, then end
      // — or, for an epoch change the caller follows, go on in the new
      // epoch from its oldest event (once per epoch: a server that refused
      // its own epoch would otherwise be asked in a loop).
      if (options_.follow_epoch_changes &&
          gap->reason() == v1::GAP_REASON_EPOCH_CHANGED &&
          gap->stream_epoch() != followed_epoch) {
        followed_epoch = gap->stream_epoch();
        HandleGap(*gap);
        continue;
      }
      Item item;
      item.delivery.kind = Delivery::Kind::kGap;
      item.delivery.gap = *gap;
      if (!Push(std::move(item))) break;
      Finish(status);
      return;
    }
    if (!Retryable(status)) {
      Finish(status);
      return;
    }
    // A heartbeat alone proves little: a server (or proxy) that fails every
    // stream right after it must not reset the backoff.
    const bool healthy =
        outcome.delivered_event ||
        (outcome.got_message &&
         clock_.Now() - outcome.first_message >= options_.healthy_after);
    if (healthy) {
      backoff_.Reset();
      failed_attempts = 0;
    }
    ++failed_attempts;
    if (options_.max_reconnect_attempts > 0 &&
        failed_attempts > options_.max_reconnect_attempts) {
      Finish(absl::Status(
          status.ok() ? absl::StatusCode::kUnavailable : status.code(),
          absl::StrCat("gave up after ", failed_attempts - 1,
                       " reconnect attempts: ", status.message())));
      return;
    }
    const absl::Duration delay = backoff_.NextDelay();
    ConnectionEvent lost;
    lost.kind = ConnectionEvent::Kind::kDisconnected;
    lost.status = status;
    lost.retry_in = delay;
    lost.failed_attempts = failed_attempts;
    Notify(lost);
    // A caller that reports connection events says so itself.
    LogRecord(options_.on_connection ? LogLevel::kDebug : LogLevel::kInfo,
              "subscriber reconnecting")
        .Add("status", status.ToString())
        .Add("after_sequence", cursor_)
        .Add("stream_epoch", epoch_)
        .Add("delay_ms", absl::ToInt64Milliseconds(delay));
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
    if (stopping_) break;
    ++reconnects_;
  }
  Finish(absl::CancelledError("subscriber stopped"));
}

Subscriber::StreamOutcome Subscriber::RunStream(v1::EventStream::Stub& stub,
                                                bool resumed) {
  StreamOutcome outcome;
  grpc::ClientContext context;
  AddCallCredentials(options_.connection, context);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      outcome.status = absl::CancelledError("subscriber stopped");
      return outcome;
    }
    current_context_ = &context;
    last_activity_ = clock_.Now();
    stalled_ = false;
  }
  const v1::SubscribeRequest request = BuildRequest();
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub.Subscribe(&context, request);
  v1::SubscribeResponse response;
  bool pushing = true;
  while (pushing && reader->Read(&response)) {
    if (!outcome.got_message) {
      outcome.got_message = true;
      outcome.first_message = clock_.Now();
      if (response.has_heartbeat()) {
        ConnectionEvent connected;
        connected.kind = ConnectionEvent::Kind::kConnected;
        connected.heartbeat = response.heartbeat();
        connected.resumed = resumed;
        Notify(connected);
      }
    }
    switch (response.message_case()) {
      case v1::SubscribeResponse::kHeartbeat:
        HandleHeartbeat(response.heartbeat());
        break;
      case v1::SubscribeResponse::kEvents:
        for (v1::Event& event : *response.mutable_events()->mutable_events()) {
          if (HandleEvent(std::move(event))) outcome.delivered_event = true;
        }
        break;
      case v1::SubscribeResponse::kGap:
        HandleGap(response.gap());
        outcome.delivered_event = true;
        break;
      case v1::SubscribeResponse::MESSAGE_NOT_SET:
        break;
    }
    absl::MutexLock lock(&mu_);
    pushing = !stopping_;
    last_activity_ = clock_.Now();
  }
  if (!pushing) context.TryCancel();
  const grpc::Status status = reader->Finish();
  absl::MutexLock lock(&mu_);
  current_context_ = nullptr;
  if (stalled_) {
    outcome.status = absl::UnavailableError(
        absl::StrCat("no message from the server for ",
                     absl::FormatDuration(liveness_timeout_)));
  } else {
    outcome.status = FromGrpcStatus(status);
  }
  return outcome;
}

void Subscriber::HandleHeartbeat(const v1::Heartbeat& heartbeat) {
  if (!have_position_ || epoch_.empty()) {
    have_position_ = true;
    epoch_ = heartbeat.stream_epoch();
    cursor_ = std::max(cursor_, heartbeat.position());
  } else if (heartbeat.stream_epoch() == epoch_) {
    cursor_ = std::max(cursor_, heartbeat.position());
  } else {
    // Another epoch: its position means nothing for ours. The server follows
    // with a Gap (or ends the stream with one); HandleEvent guards the rest.
    return;
  }
  Item item;
  item.is_position = true;
  item.position = {epoch_, cursor_};
  Push(std::move(item));
}

bool Subscriber::HandleEvent(v1::Event event) {
  if (have_position_ && !epoch_.empty() && event.stream_epoch() != epoch_) {
    // Only a server bug could send another epoch's event without a Gap
    // first; never let a silent epoch switch through.
    v1::Gap gap;
    gap.set_stream_epoch(event.stream_epoch());
    gap.set_requested_after_sequence(cursor_);
    gap.set_oldest_sequence(event.sequence());
    gap.set_reason(v1::GAP_REASON_EPOCH_CHANGED);
    HandleGap(gap);
  }
  if (have_position_ && event.sequence() <= cursor_) {
    // Only a server bug could cause this; the contract is "never twice".
    LogRecord(LogLevel::kWarning, "subscriber dropped a repeated event")
        .Add("sequence", event.sequence())
        .Add("position", cursor_);
    return false;
  }
  have_position_ = true;
  epoch_ = event.stream_epoch();
  cursor_ = event.sequence();
  Item item;
  item.delivery.kind = Delivery::Kind::kEvent;
  item.delivery.event = std::move(event);
  return Push(std::move(item));
}

void Subscriber::HandleGap(const v1::Gap& gap) {
  have_position_ = true;
  epoch_ = gap.stream_epoch();
  cursor_ = gap.oldest_sequence() > 0 ? gap.oldest_sequence() - 1 : 0;
  Item item;
  item.delivery.kind = Delivery::Kind::kGap;
  item.delivery.gap = gap;
  Push(std::move(item));
}

bool Subscriber::Push(Item item) {
  absl::MutexLock lock(&mu_);
  const auto room_or_stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || queue_.size() < options_.max_buffered;
  };
  if (!room_or_stopping()) {
    waiting_on_consumer_ = true;
    mu_.Await(absl::Condition(&room_or_stopping));
    waiting_on_consumer_ = false;
    last_activity_ = clock_.Now();
  }
  if (stopping_) return false;
  queue_.push_back(std::move(item));
  return true;
}

void Subscriber::Finish(absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (done_) return;
  done_ = true;
  final_status_ = stopping_ ? absl::CancelledError("subscriber stopped")
                            : std::move(status);
}

absl::StatusOr<Delivery> Subscriber::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || done_ || !queue_.empty();
  };
  for (;;) {
    if (!mu_.AwaitWithDeadline(absl::Condition(&ready), deadline)) {
      return absl::DeadlineExceededError("no delivery before the timeout");
    }
    if (stopping_) return absl::CancelledError("subscriber stopped");
    if (queue_.empty()) return final_status_;  // done_
    Item item = std::move(queue_.front());
    queue_.pop_front();
    if (item.is_position) {
      consumer_position_ = item.position;
      continue;
    }
    const Delivery& d = item.delivery;
    if (d.kind == Delivery::Kind::kEvent) {
      consumer_position_ = {d.event.stream_epoch(), d.event.sequence()};
    } else {
      consumer_position_ = {
          d.gap.stream_epoch(),
          d.gap.oldest_sequence() > 0 ? d.gap.oldest_sequence() - 1 : 0};
    }
    return std::move(item.delivery);
  }
}

absl::Status Subscriber::Run(const SubscriberCallbacks& callbacks) {
  for (;;) {
    absl::StatusOr<Delivery> d = Next(absl::InfiniteDuration());
    if (!d.ok()) {
      absl::MutexLock lock(&mu_);
      return stopping_ ? absl::OkStatus() : d.status();
    }
    if (d->kind == Delivery::Kind::kEvent) {
      if (callbacks.on_event) callbacks.on_event(d->event);
    } else if (d->epoch_changed() && callbacks.on_epoch_change) {
      callbacks.on_epoch_change(d->gap);
    } else if (callbacks.on_gap) {
      callbacks.on_gap(d->gap);
    } else {
      LogRecord(LogLevel::kWarning, "subscriber gap with no on_gap callback")
          .Add("reason", v1::GapReason_Name(d->gap.reason()))
          .Add("missed", d->gap.missed_count());
    }
  }
}

}  // namespace hookstream
