#include "server/distribution/event_stream_service.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/base/status_macros.h"
#include "server/distribution/event_filter.h"
#include "server/distribution/gap_status.h"
#include "server/distribution/subscribe_reactor.h"

namespace hookstream::distribution {
namespace {

grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                     const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// A client-given id in quotes, cut to 64 bytes (then with its length).
std::string QuotedId(absl::string_view id) {
  constexpr size_t kMaxQuoted = 64;
  if (id.size() <= kMaxQuoted) return absl::StrCat("'", id, "'");
  return absl::StrCat("'", id.substr(0, kMaxQuoted), "…' (", id.size(),
                      " bytes)");
}

// The event `event_id` names, as GetEvent answers it.
absl::Status AnswerById(const EventReader& reader, absl::string_view event_id,
                        const CallAuthorizer& authorizer,
                        v1::GetEventResponse* response) {
  const StoredEventPtr event = reader.GetById(event_id);
  if (event == nullptr) {
    // Quoting the whole id would let a long one push the status past
    // gRPC's metadata limit (RESOURCE_EXHAUSTED instead of NOT_FOUND).
    return absl::NotFoundError(
        absl::StrCat("event ", QuotedId(event_id), " is not held"));
  }
  RETURN_IF_ERROR(authorizer.AuthorizeEvent(event->type, event->account));
  *response->mutable_event() = event->ToEvent(/*include_raw_json=*/true);
  return absl::OkStatus();
}

}  // namespace

absl::Time DeadlineOf(const grpc::ServerContextBase& context) {
  const std::chrono::system_clock::time_point deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

std::string SanitizeSubscriberName(absl::string_view name) {
  std::string out;
  for (char c : name.substr(0, kMaxSubscriberNameBytes)) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                    c == '-' || c == '_' || c == '.' || c == '/' || c == ':';
    out += ok ? c : '_';
  }
  return out;
}

EventStreamService::EventStreamService(EventReader& reader, const Clock& clock,
                                       SubscriberRegistry& registry,
                                       StreamScheduler& scheduler,
                                       const auth::AccessControl* access,
                                       FilterLimits filter_limits,
                                       CatchUp* catch_up)
    : reader_(reader),
      clock_(clock),
      registry_(registry),
      scheduler_(scheduler),
      access_(access),
      filter_limits_(filter_limits),
      catch_up_(catch_up) {}

grpc::ServerWriteReactor<grpc::ByteBuffer>* EventStreamService::Subscribe(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  const CallAuthorizer authorizer(*context, access_, "Subscribe");
  SubscribeReactor::Caller caller{.name = authorizer.identity_name(),
                                  .peer = context->peer()};
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find(kSubscriberNameHeader);
      caller.name.empty() && it != metadata.end()) {
    caller.name = SanitizeSubscriberName(
        absl::string_view(it->second.data(), it->second.size()));
  }
  // Owned by gRPC until its OnDone deletes it.
  return new SubscribeReactor(reader_, clock_, registry_, scheduler_, *request,
                              authorizer, filter_limits_, std::move(caller),
                              catch_up_, DeadlineOf(*context));
}

grpc::ServerUnaryReactor* EventStreamService::GetEvent(
    grpc::CallbackServerContext* context, const v1::GetEventRequest* request,
    v1::GetEventResponse* response) {
  const CallAuthorizer authorizer(*context, access_, "GetEvent");
  StoredEventPtr event;
  switch (request->key_case()) {
    case v1::GetEventRequest::kSequence:
      event = reader_.Get(request->sequence());
      if (event == nullptr) {
        const EventReader::Info info = reader_.GetInfo();
        return FinishWith(
            context,
            absl::NotFoundError(absl::StrCat(
                "sequence ", request->sequence(), " is not held (oldest ",
                info.oldest_sequence, ", head ", info.head_sequence, ", epoch ",
                info.stream_epoch, ")")));
      }
      break;
    case v1::GetEventRequest::kEventId:
      if (reader_.GetById(request->event_id()) == nullptr &&
          catch_up_ != nullptr) {
        // A lagging replica may not have applied it yet: answer once it
        // has applied what the log had now (off this thread).
        grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
        if (catch_up_->Await(
                DeadlineOf(*context), [this, reactor, request, response,
                                       authorizer](bool /*caught_up*/) {
                  reactor->Finish(ToGrpcStatus(AnswerById(
                      reader_, request->event_id(), authorizer, response)));
                })) {
          return reactor;
        }
      }
      return FinishWith(context, AnswerById(reader_, request->event_id(),
                                            authorizer, response));
    case v1::GetEventRequest::KEY_NOT_SET:
      return FinishWith(
          context, absl::InvalidArgumentError("set `sequence` or `event_id`"));
  }
  if (absl::Status s = authorizer.AuthorizeEvent(event->type, event->account);
      !s.ok()) {
    return FinishWith(context, s);
  }
  *response->mutable_event() = event->ToEvent(/*include_raw_json=*/true);
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* EventStreamService::ListEvents(
    grpc::CallbackServerContext* context, const v1::ListEventsRequest* request,
    v1::ListEventsResponse* response) {
  if (absl::Status s = CheckFilterLimits(request->filter(), filter_limits_);
      !s.ok()) {
    return FinishWith(context, s);
  }
  const CallAuthorizer authorizer(*context, access_, "ListEvents");
  absl::StatusOr<v1::EventFilter> granted =
      authorizer.AuthorizeFilter(request->filter());
  if (!granted.ok()) return FinishWith(context, granted.status());
  absl::StatusOr<EventFilter> filter = EventFilter::Create(*granted);
  if (!filter.ok()) return FinishWith(context, filter.status());
  const uint32_t page_size =
      request->page_size() == 0
          ? kDefaultListPageSize
          : std::min(request->page_size(), kMaxListPageSize);

  uint64_t position = request->after_sequence();
  size_t bytes_left = kMaxListPageBytes;
  response->set_stream_epoch(reader_.stream_epoch());
  // Each Read is bounded by its scan limit: loop until the page is full or
  // the listing reaches the head.
  for (;;) {
    const EventReader::ReadOptions options{
        .max_events = page_size - static_cast<size_t>(response->events_size()),
        .max_bytes = bytes_left};
    const EventReader::ReadResult read = reader_.Read(
        position, options,
        [&filter](const StoredEvent& event) { return filter->Matches(event); });
    // A read returns at least one event however large; after the first,
    // one that does not fit what is left ends the page before it, so a
    // page stays under ~kMaxListPageBytes plus one event (which the ingress
    // bounds, --max_event_bytes): under gRPC's default 4 MiB.
    bool full = false;
    for (const StoredEventPtr& event : read.events) {
      if (response->events_size() > 0 && event->ByteSize() > bytes_left) {
        position = event->sequence - 1;
        full = true;
        break;
      }
      *response->add_events() = event->ToEvent(request->include_raw_json());
      bytes_left -= std::min(bytes_left, event->ByteSize());
    }
    if (!full) position = read.position;
    if (full || response->events_size() >= static_cast<int>(page_size) ||
        bytes_left == 0 || position >= read.head_sequence) {
      break;
    }
  }
  response->set_next_after_sequence(position);
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* EventStreamService::GetStreamInfo(
    grpc::CallbackServerContext* context,
    const v1::GetStreamInfoRequest* /*request*/,
    v1::GetStreamInfoResponse* response) {
  const CallAuthorizer authorizer(*context, access_, "GetStreamInfo");
  if (absl::Status s = authorizer.AuthorizeIdentity(); !s.ok()) {
    return FinishWith(context, s);
  }
  const EventReader::Info info = reader_.GetInfo();
  response->set_stream_epoch(info.stream_epoch);
  response->set_oldest_sequence(info.oldest_sequence);
  response->set_head_sequence(info.head_sequence);
  response->set_event_count(info.event_count);
  response->set_byte_count(info.byte_count);
  response->set_event_capacity(info.event_capacity);
  response->set_byte_capacity(info.byte_capacity);
  response->set_subscriber_count(registry_.count());
  *response->mutable_start_time() = ToProtoTimestamp(info.start_time);
  response->set_dedup_count(info.dedup_count);
  response->set_backend(info.backend);
  response->set_applied_sequence(info.head_sequence);
  response->set_stream_last_sequence(
      std::max(info.head_sequence, info.stream_last_sequence));
  return FinishWith(context, absl::OkStatus());
}

v1::Subscriber ToSubscriberProto(const SubscriberSnapshot& snapshot,
                                 const EventReader& reader, uint64_t head,
                                 absl::Time now) {
  v1::Subscriber out;
  out.set_name(snapshot.name);
  out.set_peer(snapshot.peer);
  *out.mutable_filter() = snapshot.filter;
  out.set_start(snapshot.start);
  *out.mutable_connected_time() = ToProtoTimestamp(snapshot.connected_at);
  out.set_position(snapshot.position);
  out.set_events_sent(snapshot.events_sent);
  if (snapshot.waiting) {
    // No position yet: head - 0 would claim the whole stream as its lag.
    out.set_waiting(true);
    return out;
  }
  out.set_lag_events(head > snapshot.position ? head - snapshot.position : 0);
  absl::Duration lag = absl::ZeroDuration();
  if (head > snapshot.position) {
    // The first event after the position (or the oldest, if that one was
    // evicted): how long it has been waiting.
    const EventReader::ReadResult next =
        reader.Read(snapshot.position, {.max_events = 1, .max_scan = 64});
    if (!next.events.empty()) {
      lag = std::max(absl::ZeroDuration(), now - next.events[0]->log_time);
    }
  }
  const int64_t nanos = absl::ToInt64Nanoseconds(lag);
  out.mutable_lag()->set_seconds(nanos / 1'000'000'000);
  out.mutable_lag()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  return out;
}

v1::ListSubscribersResponse ListSubscribersNow(
    const SubscriberRegistry& registry, const EventReader& reader,
    absl::Time now) {
  std::vector<SubscriberSnapshot> streams = registry.List();
  std::sort(streams.begin(), streams.end(),
            [](const SubscriberSnapshot& a, const SubscriberSnapshot& b) {
              return a.connected_at < b.connected_at;
            });
  const EventReader::Info info = reader.GetInfo();
  v1::ListSubscribersResponse response;
  response.set_stream_epoch(info.stream_epoch);
  response.set_head_sequence(info.head_sequence);
  for (const SubscriberSnapshot& s : streams) {
    *response.add_subscribers() =
        ToSubscriberProto(s, reader, info.head_sequence, now);
  }
  return response;
}

grpc::ServerUnaryReactor* EventStreamService::ListSubscribers(
    grpc::CallbackServerContext* context,
    const v1::ListSubscribersRequest* /*request*/,
    v1::ListSubscribersResponse* response) {
  const CallAuthorizer authorizer(*context, access_, "ListSubscribers");
  if (absl::Status s = authorizer.AuthorizeEverything(); !s.ok()) {
    return FinishWith(context, s);
  }
  *response = ListSubscribersNow(registry_, reader_, clock_.Now());
  return FinishWith(context, absl::OkStatus());
}

}  // namespace hookstream::distribution
