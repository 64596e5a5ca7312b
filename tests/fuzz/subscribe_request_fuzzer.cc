// Subscribe request validation and start resolution (server/distribution),
// in the order SubscribeReactor::Start runs them: the request bytes as
// protobuf, EventFilter::Create, HeartbeatInterval, ResolveStartPosition
// against a ring holding sequences 5..12 (1..4 evicted), then the status
// conversion the reactor answers with. Never crashes; a resolved start is
// within [oldest - 1, head]; a refused one carries a code, never OK.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/backend/memory_backend.h"
#include "common/base/clock.h"
#include "common/ring/event_ring.h"
#include "common/store/stream_identity.h"
#include "hookstream/v1/event_stream.pb.h"
#include "server/distribution/event_filter.h"
#include "server/distribution/gap_status.h"
#include "server/distribution/start_position.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using hookstream::v1::SubscribeRequest;

class FixedClock final : public hookstream::Clock {
 public:
  absl::Time Now() const override { return absl::FromUnixSeconds(1733267345); }
};

constexpr char kEpoch[] = "20261202T000000Z-fuzz";

struct Store {
  Store()
      : ring({.max_events = 8, .max_bytes = 1 << 20}, clock,
             {.epoch = kEpoch, .start_time = clock.Now()}),
        backend(ring, clock) {
    for (int i = 1; i <= 12; ++i) {
      hookstream::v1::Event e;
      e.set_id(absl::StrCat("evt_", i));
      e.set_type(i % 2 ? "customer.created" : "refund.pending");
      e.set_account("acm_1");
      e.mutable_received_at()->set_seconds(1733267000 + i);
      backend.Append(std::move(e), [](auto) {});
    }
  }
  FixedClock clock;
  hookstream::EventRing ring;
  hookstream::MemoryBackend backend;
};

std::vector<std::string> Seeds() {
  std::vector<SubscribeRequest> requests(8);
  requests[0].set_after_sequence(3);
  requests[0].set_stream_epoch(kEpoch);
  requests[1].set_after_event_id("evt_7");
  requests[2].set_origin(hookstream::v1::ORIGIN_OLDEST);
  requests[2].mutable_filter()->add_types("customer.*");
  requests[2].mutable_filter()->add_accounts("acm_1");
  requests[3].mutable_from_time()->set_seconds(1733267008);
  requests[4].set_after_sequence(99);
  requests[5].set_after_sequence(2);
  requests[5].set_gap_policy(hookstream::v1::GAP_POLICY_RESUME_FROM_OLDEST);
  requests[6].set_after_sequence(6);
  requests[6].set_stream_epoch("other");
  requests[6].mutable_heartbeat_interval()->set_seconds(1);
  requests[7].mutable_heartbeat_interval()->set_nanos(-5);
  std::vector<std::string> seeds;
  for (const SubscribeRequest& r : requests)
    seeds.push_back(r.SerializeAsString());
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hookstream::fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Store* store = new Store();
  namespace d = hookstream::distribution;
  SubscribeRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<d::EventFilter> filter =
      d::EventFilter::Create(request.filter());
  if (!filter.ok()) {
    HOOKSTREAM_FUZZ_CHECK(absl::IsInvalidArgument(filter.status()));
    return 0;
  }
  (void)filter->MatchesType("customer.created");
  (void)filter->MatchesAccount("acm_1");
  absl::StatusOr<absl::Duration> interval = d::HeartbeatInterval(request);
  if (!interval.ok()) {
    HOOKSTREAM_FUZZ_CHECK(absl::IsInvalidArgument(interval.status()));
    return 0;
  }
  HOOKSTREAM_FUZZ_CHECK(*interval >= d::kMinHeartbeatInterval &&
                        *interval <= d::kMaxHeartbeatInterval);
  absl::StatusOr<d::StartPosition> start =
      d::ResolveStartPosition(request, store->ring);
  if (!start.ok()) {
    const grpc::Status status = d::ToGrpcStatus(start.status());
    HOOKSTREAM_FUZZ_CHECK(!status.ok());
    return 0;
  }
  HOOKSTREAM_FUZZ_CHECK(start->after_sequence + 1 >= 5);
  HOOKSTREAM_FUZZ_CHECK(start->after_sequence <= 12);
  return 0;
}
