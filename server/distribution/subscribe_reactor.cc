#include "server/distribution/subscribe_reactor.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base/log.h"
#include "common/base/proto_time.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/distribution/gap_status.h"
#include "server/distribution/grpc_codes.h"
#include "server/distribution/response_encoder.h"
#include "server/distribution/start_position.h"

namespace hookstream::distribution {
namespace {

// A heartbeat this close to due is sent rather than re-armed for a few
// microseconds.
constexpr absl::Duration kHeartbeatSlack = absl::Milliseconds(5);

bool ParseRequest(const grpc::ByteBuffer& buffer, v1::SubscribeRequest* out) {
  grpc::ByteBuffer copy(buffer);  // ProtoBufferReader needs a mutable buffer.
  grpc::ProtoBufferReader reader(&copy);
  return reader.status().ok() && out->ParseFromZeroCopyStream(&reader);
}

// How the request asked to start, for operators (log, ListSubscribers).
std::string DescribeStart(const v1::SubscribeRequest& request) {
  switch (request.start_case()) {
    case v1::SubscribeRequest::kAfterSequence:
      return absl::StrCat("after_sequence=", request.after_sequence());
    case v1::SubscribeRequest::kAfterEventId:
      return absl::StrCat("after_event_id=", request.after_event_id());
    case v1::SubscribeRequest::kOrigin:
      return request.origin() == v1::ORIGIN_OLDEST ? "origin=oldest"
                                                   : "origin=latest";
    case v1::SubscribeRequest::kFromTime:
      return absl::StrCat(
          "from_time=",
          absl::FormatTime(FromProtoTimestamp(request.from_time()),
                           absl::UTCTimeZone()));
    case v1::SubscribeRequest::START_NOT_SET:
      break;
  }
  return "origin=latest";
}

std::string DescribeFilter(const v1::EventFilter& filter) {
  if (filter.types().empty() && filter.accounts().empty()) return "all";
  std::string out;
  if (!filter.types().empty()) {
    absl::StrAppend(&out, "types=", absl::StrJoin(filter.types(), ","));
  }
  if (!filter.accounts().empty()) {
    absl::StrAppend(&out, out.empty() ? "" : " ",
                    "accounts=", absl::StrJoin(filter.accounts(), ","));
  }
  return out;
}

}  // namespace

SubscribeReactor::SubscribeReactor(EventReader& reader, const Clock& clock,
                                   SubscriberRegistry& registry,
                                   StreamScheduler& scheduler,
                                   const grpc::ByteBuffer& request,
                                   const CallAuthorizer& authorizer,
                                   const FilterLimits& limits, Caller caller,
                                   CatchUp* catch_up, absl::Time deadline)
    : reader_(reader),
      clock_(clock),
      registry_(registry),
      scheduler_(scheduler),
      catch_up_(catch_up),
      deadline_(deadline),
      caller_(std::move(caller)),
      connected_at_(clock.Now()) {
  // Outside `mu_`: the registry's Shutdown locks it, then ours.
  const absl::Status registered = registry_.Add(this);
  Step step;
  {
    absl::MutexLock lock(&mu_);
    grpc::Status status = registered.ok() ? Start(request, authorizer, limits)
                                          : ToGrpcStatus(registered);
    if (!status.ok()) {
      EndWith(std::move(status));
    } else if (deferred_ == nullptr) {
      ScheduleHeartbeatCheck(clock_.Now() + heartbeat_interval_);
    }
    step = Decide();
  }
  Perform(std::move(step));
}

void SubscribeReactor::OnCaughtUp() {
  absl::MutexLock lock(&mu_);
  if (finish_claimed_ || deferred_ == nullptr) return;
  grpc::Status status =
      ResolveStart(std::move(*std::exchange(deferred_, nullptr)),
                   /*may_wait=*/false);
  if (!status.ok()) {
    EndWith(std::move(status));
  } else {
    ScheduleHeartbeatCheck(clock_.Now() + heartbeat_interval_);
  }
  // Decide on a scheduler thread: this one serves every waiting call.
  scheduler_.Post(this);
}

grpc::Status SubscribeReactor::Start(const grpc::ByteBuffer& request_bytes,
                                     const CallAuthorizer& authorizer,
                                     const FilterLimits& limits) {
  v1::SubscribeRequest request;
  if (!ParseRequest(request_bytes, &request)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "SubscribeRequest does not parse");
  }
  // Limits first: an oversized filter costs nothing more to refuse.
  if (absl::Status s = CheckFilterLimits(request.filter(), limits); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<v1::EventFilter> granted =
      authorizer.AuthorizeFilter(request.filter());
  if (!granted.ok()) return ToGrpcStatus(granted.status());
  absl::StatusOr<EventFilter> filter = EventFilter::Create(*granted);
  if (!filter.ok()) return ToGrpcStatus(filter.status());
  absl::StatusOr<absl::Duration> interval = HeartbeatInterval(request);
  if (!interval.ok()) return ToGrpcStatus(interval.status());
  filter_ = *std::move(filter);
  heartbeat_interval_ = *interval;
  include_raw_json_ = request.include_raw_json();
  gap_policy_ = request.gap_policy();
  // The effective filter (after the grant): what is really delivered.
  filter_proto_ = *std::move(granted);
  return ResolveStart(std::move(request), /*may_wait=*/true);
}

grpc::Status SubscribeReactor::ResolveStart(v1::SubscribeRequest request,
                                            bool may_wait) {
  absl::StatusOr<StartPosition> start = ResolveStartPosition(request, reader_);
  if (may_wait && catch_up_ != nullptr && absl::IsNotFound(start.status()) &&
      request.start_case() == v1::SubscribeRequest::kAfterEventId) {
    // A lagging replica may not have applied the id yet.
    catch_up_token_ =
        catch_up_->Await(deadline_, [this](bool) { OnCaughtUp(); });
    if (catch_up_token_.has_value()) {
      // Listed with the start it asked for, as waiting (Snapshot).
      start_ = DescribeStart(request);
      deferred_ = std::make_unique<v1::SubscribeRequest>(std::move(request));
      return grpc::Status::OK;
    }
  }
  if (!start.ok()) return ToGrpcStatus(start.status());
  cursor_ = start->after_sequence;
  if (start->gap) {
    pending_gap_ = std::make_unique<v1::Gap>(*std::move(start->gap));
  }
  start_ = DescribeStart(request);
  started_ = true;
  registry_.stats().streams_started.fetch_add(1, std::memory_order_relaxed);
  LogRecord(LogLevel::kInfo, "subscriber connected")
      .Add("subscriber", caller_.name)
      .Add("peer", caller_.peer)
      .Add("filter", DescribeFilter(filter_proto_))
      .Add("start", start_)
      .Add("position", cursor_);
  return grpc::Status::OK;
}

SubscribeReactor::Step SubscribeReactor::Decide() {
  if (finish_claimed_ || write_in_flight_) return {};
  if (end_status_) {
    finish_claimed_ = true;
    Step step{.kind = Step::Kind::kFinish};
    step.cancel_wait = std::exchange(wait_token_, std::nullopt);
    step.cancel_catch_up = std::exchange(catch_up_token_, std::nullopt);
    step.status = *end_status_;
    return step;
  }
  if (deferred_ != nullptr) {  // waiting for the replica to catch up
    if (!shutdown_requested_) return {};
    EndWith(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                         "server is shutting down; resume on another replica"));
    return Decide();
  }
  if (shutdown_requested_) {
    EndWith(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                         "server is shutting down; resume after the last "
                         "heartbeat's position"));
    return WriteHeartbeat();
  }
  // The first message of every stream is a heartbeat.
  if (!first_message_sent_) return WriteHeartbeat();
  if (pending_gap_) {
    v1::SubscribeResponse response;
    *response.mutable_gap() = std::move(*std::exchange(pending_gap_, nullptr));
    return WriteMessage(EncodeResponse(response));
  }
  // Read before a due heartbeat: events make it unnecessary, and events the
  // filter skipped move the position it reports.
  if (wait_token_) {  // caught up: the ring wakes us
    if (heartbeat_due_) return WriteHeartbeat();
    return {};
  }

  const EventReader::ReadOptions options{.max_events = kMaxBatchEvents,
                                         .max_bytes = kMaxBatchBytes};
  for (;;) {
    const EventReader::ReadResult read =
        filter_.MatchesAll()
            ? reader_.Read(cursor_, options)
            : reader_.Read(cursor_, options, [this](const StoredEvent& event) {
                return filter_.Matches(event);
              });
    if (read.missed > 0) {
      const std::optional<v1::Gap> gap =
          EvictionGap(cursor_,
                      {.oldest_sequence = read.oldest_sequence,
                       .head_sequence = read.head_sequence},
                      reader_.stream_epoch());
      if (gap) {
        const absl::Status status = ApplyGapPolicy(gap_policy_, *gap);
        if (!status.ok()) {
          registry_.stats().gaps_ended.fetch_add(1, std::memory_order_relaxed);
          EndWith(ToGrpcStatus(status));
          return Decide();
        }
        // Delivery goes on from the oldest; the events this read returned
        // are read again after the Gap message.
        cursor_ = gap->oldest_sequence() - 1;
        registry_.stats().gaps_sent.fetch_add(1, std::memory_order_relaxed);
        v1::SubscribeResponse response;
        *response.mutable_gap() = *gap;
        return WriteMessage(EncodeResponse(response));
      }
    }
    cursor_ = read.position;
    if (!read.events.empty()) {
      heartbeat_due_ = false;  // this message keeps the stream alive
      CountSent(read.events);
      return WriteMessage(EncodeEventBatch(read.events, include_raw_json_));
    }
    if (cursor_ < read.head_sequence) continue;  // the filter skipped a scan
    std::optional<EventReader::WaitToken> token =
        reader_.Wait(cursor_, [this] { OnEventsAppended(); });
    if (token) {
      wait_token_ = token;
      if (heartbeat_due_) return WriteHeartbeat();
      return {};
    }
    // Appended meanwhile: read again.
  }
}

void SubscribeReactor::CountSent(const std::vector<StoredEventPtr>& events) {
  events_sent_ += events.size();
  SubscriberStats& stats = registry_.stats();
  stats.events_sent.fetch_add(events.size(), std::memory_order_relaxed);
  const absl::Time now = clock_.Now();
  for (const StoredEventPtr& e : events) {
    stats.delivery_latency.Observe(absl::ToDoubleSeconds(
        std::max(absl::ZeroDuration(), now - e->log_time)));
  }
}

SubscriberSnapshot SubscribeReactor::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return {.name = caller_.name,
          .peer = caller_.peer,
          .filter = filter_proto_,
          .start = start_,
          .connected_at = connected_at_,
          .position = cursor_,
          .events_sent = events_sent_,
          .waiting = deferred_ != nullptr};
}

SubscribeReactor::Step SubscribeReactor::WriteHeartbeat() {
  heartbeat_due_ = false;
  first_message_sent_ = true;
  const EventReader::Info info = reader_.GetInfo();
  v1::SubscribeResponse response;
  v1::Heartbeat& heartbeat = *response.mutable_heartbeat();
  heartbeat.set_stream_epoch(info.stream_epoch);
  heartbeat.set_position(cursor_);
  heartbeat.set_head_sequence(info.head_sequence);
  heartbeat.set_oldest_sequence(info.oldest_sequence);
  *heartbeat.mutable_server_time() = ToProtoTimestamp(clock_.Now());
  return WriteMessage(EncodeResponse(response));
}

SubscribeReactor::Step SubscribeReactor::WriteMessage(grpc::ByteBuffer buffer) {
  write_in_flight_ = true;
  write_buffer_ = std::move(buffer);
  last_write_ = clock_.Now();
  return {.kind = Step::Kind::kWrite};
}

void SubscribeReactor::EndWith(grpc::Status status) {
  if (!end_status_) {
    end_status_ = std::make_unique<grpc::Status>(std::move(status));
  }
}

void SubscribeReactor::CheckHeartbeat(absl::Time now) {
  if (now - last_write_ + kHeartbeatSlack >= heartbeat_interval_) {
    heartbeat_due_ = true;
    ScheduleHeartbeatCheck(now + heartbeat_interval_);
  } else {
    ScheduleHeartbeatCheck(last_write_ + heartbeat_interval_);
  }
}

void SubscribeReactor::ScheduleHeartbeatCheck(absl::Time at) {
  heartbeat_check_ = at;
  scheduler_.RunAt(this, at);  // never runs this inline
}

void SubscribeReactor::Perform(Step step) {
  switch (step.kind) {
    case Step::Kind::kNone:
      return;
    case Step::Kind::kWrite:
      // `write_buffer_` is not touched again until OnWriteDone.
      StartWrite(&write_buffer_);
      return;
    case Step::Kind::kFinish:
      if (step.cancel_wait) reader_.CancelWait(*step.cancel_wait);
      if (step.cancel_catch_up) catch_up_->Cancel(*step.cancel_catch_up);
      // Waits for a RunScheduled in progress on another thread; from inside
      // RunScheduled itself it does not wait.
      scheduler_.Forget(this);
      // Nothing else refers to this reactor now; OnDone may follow at once.
      Finish(std::move(step.status));
      return;
  }
}

void SubscribeReactor::OnEventsAppended() {
  absl::MutexLock lock(&mu_);
  wait_token_.reset();  // one-shot: it is running now
  // Reading, encoding and StartWrite (which may write to the socket inline)
  // would run on the ingress thread, once per waiting subscriber and per
  // append. Hand them to the scheduler instead (a queue push); appends that
  // land before it runs join its batch.
  if (finish_claimed_) return;
  scheduler_.Post(this);
}

void SubscribeReactor::RunScheduled() {
  Step step;
  {
    absl::MutexLock lock(&mu_);
    // Finishing: the finish forgets this task (after this run returns).
    if (finish_claimed_) return;
    if (!end_status_ && !shutdown_requested_) {
      const absl::Time now = clock_.Now();
      if (now >= heartbeat_check_) {
        if (write_in_flight_) {
          // Decided when the write completes (OnWriteDone): a stream held
          // by flow control gets no heartbeat on top, one whose last write
          // just finished late gets it at once.
          heartbeat_check_ = absl::InfiniteFuture();
          check_after_write_ = true;
        } else {
          CheckHeartbeat(now);
        }
      }
    }
    // Posted by the ring's wake-up (Decide reads the new events) or by a
    // shutdown request (Decide sees `shutdown_requested_`).
    step = Decide();
  }
  Perform(std::move(step));
}

void SubscribeReactor::OnWriteDone(bool ok) {
  Step step;
  {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    // Drop the sent message's bytes now rather than at the next write: an
    // idle stream would hold them for as long as it stays idle.
    write_buffer_.Clear();
    if (check_after_write_ && ok && !end_status_ && !shutdown_requested_) {
      check_after_write_ = false;
      CheckHeartbeat(clock_.Now());
    }
    if (!ok) {
      EndWith(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
    }
    step = Decide();
  }
  Perform(std::move(step));
}

void SubscribeReactor::OnCancel() {
  Step step;
  {
    absl::MutexLock lock(&mu_);
    EndWith(grpc::Status::CANCELLED);
    step = Decide();
  }
  Perform(std::move(step));
}

void SubscribeReactor::RequestShutdown() {
  absl::MutexLock lock(&mu_);
  if (end_status_ || shutdown_requested_) return;
  shutdown_requested_ = true;
  // Decide runs on a scheduler thread (this runs under the registry's lock
  // and must not call gRPC).
  scheduler_.Post(this);
}

void SubscribeReactor::OnDone() {
  registry_.Remove(this);
  {
    absl::MutexLock lock(&mu_);
    const grpc::Status end = end_status_ ? *end_status_ : grpc::Status::OK;
    const size_t code = static_cast<size_t>(end.error_code());
    SubscriberStats& stats = registry_.stats();
    if (code < stats.ended_by_code.size()) {
      stats.ended_by_code[code].fetch_add(1, std::memory_order_relaxed);
    }
    // Streams refused at the start (bad request, gap) say why in their
    // status; only the ones that ran get a "left" line to match "connected".
    LogRecord(started_ ? LogLevel::kInfo : LogLevel::kDebug,
              started_ ? "subscriber left" : "subscribe refused")
        .Add("subscriber", caller_.name)
        .Add("peer", caller_.peer)
        .Add("filter", DescribeFilter(filter_proto_))
        .Add("start", start_)
        .Add("position", cursor_)
        .Add("events_sent", events_sent_)
        .Add("duration_s", absl::ToDoubleSeconds(clock_.Now() - connected_at_))
        .Add("end_code", GrpcCodeName(end.error_code()))
        .Add("end_reason", end.error_message());
  }
  // The reactor owns itself (gRPC callback API); nothing refers to it now.
  delete this;
}

}  // namespace hookstream::distribution
