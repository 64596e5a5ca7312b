// -----------------------------------------------------------------------------
// File: event_stream_service.h
// -----------------------------------------------------------------------------
// EventStreamService implements hookstream.v1.EventStream on gRPC's callback
// API. Subscribe is registered raw (ByteBuffer responses), so each stream
// writes the ring's stored event bytes without re-serializing them; every
// other method is typed. Unary methods finish on the DefaultReactor.
//
//   Subscribe     → a SubscribeReactor per stream (subscribe_reactor.h)
//   GetEvent      → by `sequence` or `event_id`, always with raw JSON;
//                   NOT_FOUND when not held (evicted or never appended; the
//                   message quotes at most 64 bytes of the id asked for)
//   ListEvents    → held events after `after_sequence` matching `filter`;
//                   `page_size` 0 → 100, above 1,000 → 1,000 (clamped, as
//                   Google APIs do), and at most ~3 MiB; an `after_sequence`
//                   below the oldest lists from the oldest (listings have no
//                   gap contract); `next_after_sequence` = the position the
//                   listing reached (the head when it reached the end)
//   GetStreamInfo → the ring's state plus the live subscriber count
//   ListSubscribers → every live stream: name, peer, filter, start,
//                   position, events sent, lag in events and in time
//
// Example:
//   SubscriberRegistry registry;
//   StreamScheduler scheduler(/*threads=*/2);
//   EventStreamService service(ring, clock, registry, scheduler);
//   builder.RegisterService(&service);
//
// Thread-safety: methods run concurrently on gRPC threads; the service holds
// no mutable state of its own (the ring, the registry and the scheduler are
// thread-safe). `ring`, `clock`, `registry` and `scheduler` must outlive the
// server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "common/base/clock.h"
#include "common/store/event_reader.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "server/auth/access_control.h"
#include "server/distribution/catch_up.h"
#include "server/distribution/event_filter.h"
#include "server/distribution/stream_scheduler.h"
#include "server/distribution/subscriber_registry.h"

namespace hookstream::distribution {

inline constexpr uint32_t kDefaultListPageSize = 100;
inline constexpr uint32_t kMaxListPageSize = 1000;
// A page also stops after about this many stored bytes (at least one event),
// so it stays under gRPC's default 4 MiB message limit.
inline constexpr size_t kMaxListPageBytes = size_t{3} << 20;

// A subscriber may name itself with this request header; the name shows in
// the log, in ListSubscribers and (bounded) in the metrics.
inline constexpr char kSubscriberNameHeader[] = "x-subscriber-name";
inline constexpr size_t kMaxSubscriberNameBytes = 64;

// One stream's snapshot with its lag against `reader` now.
v1::Subscriber ToSubscriberProto(const SubscriberSnapshot& snapshot,
                                 const EventReader& reader, uint64_t head,
                                 absl::Time now);
// What ListSubscribers answers (the live streams, oldest first, with their
// lag now); also the admin dashboard's /api/subscribers.
v1::ListSubscribersResponse ListSubscribersNow(
    const SubscriberRegistry& registry, const EventReader& reader,
    absl::Time now);
// At most kMaxSubscriberNameBytes of [A-Za-z0-9._/:-]; others become '_'.
std::string SanitizeSubscriberName(absl::string_view name);
// A call's deadline (InfiniteFuture when it has none).
absl::Time DeadlineOf(const grpc::ServerContextBase& context);

class EventStreamService final
    : public v1::EventStream::WithRawCallbackMethod_Subscribe<
          v1::EventStream::CallbackService> {
 public:
  // `access` null: no authentication (every call is the anonymous identity
  // with every type and account); otherwise every method applies the
  // caller's grant (call_auth.h). `catch_up` (may be null): an event id
  // this replica does not hold (GetEvent, Subscribe after_event_id) is
  // answered once it has applied the log up to its last sequence as of the
  // call, within the call's deadline and kMaxCatchUpWait.
  EventStreamService(EventReader& reader, const Clock& clock,
                     SubscriberRegistry& registry, StreamScheduler& scheduler,
                     const auth::AccessControl* access = nullptr,
                     FilterLimits filter_limits = {},
                     CatchUp* catch_up = nullptr);

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;

  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const v1::GetEventRequest* request,
                                     v1::GetEventResponse* response) override;

  grpc::ServerUnaryReactor* ListEvents(
      grpc::CallbackServerContext* context,
      const v1::ListEventsRequest* request,
      v1::ListEventsResponse* response) override;

  grpc::ServerUnaryReactor* GetStreamInfo(
      grpc::CallbackServerContext* context,
      const v1::GetStreamInfoRequest* request,
      v1::GetStreamInfoResponse* response) override;

  grpc::ServerUnaryReactor* ListSubscribers(
      grpc::CallbackServerContext* context,
      const v1::ListSubscribersRequest* request,
      v1::ListSubscribersResponse* response) override;

 private:
  EventReader& reader_;
  const Clock& clock_;
  SubscriberRegistry& registry_;
  StreamScheduler& scheduler_;
  const auth::AccessControl* const access_;
  const FilterLimits filter_limits_;
  // Null: an unknown id is NOT_FOUND at once (no log to catch up with).
  CatchUp* const catch_up_;
};

}  // namespace hookstream::distribution
