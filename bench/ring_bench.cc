// EventRing costs on the paths that matter: the ingress's append through the
// memory backend (serialize, dedup, sequence, apply: evict, notify) and a
// subscriber's Read of a batch.
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "common/backend/memory_backend.h"
#include "common/base/clock.h"
#include "common/ring/event_ring.h"
#include "common/store/stream_identity.h"

namespace hookstream {
namespace {

v1::Event MakeEvent(size_t raw_json_size) {
  v1::Event event;
  event.set_id("evt_0");
  event.set_type("customer.updated");
  event.set_account("acm_1");
  event.set_attempt_id("wha_1");
  event.set_source("gettrx");
  event.set_object_type("customer");
  event.mutable_received_at()->set_seconds(1'733'267'345);
  event.mutable_customer()->set_id("cus_1");
  event.mutable_customer()->set_email("someone@example.com");
  event.mutable_customer()->set_name("Someone");
  event.set_raw_json(std::string(raw_json_size, 'j'));
  return event;
}

absl::StatusOr<AppendResult> Append(MemoryBackend& backend, v1::Event event) {
  absl::StatusOr<AppendResult> out = absl::UnknownError("no completion");
  backend.Append(std::move(event), [&out](absl::StatusOr<AppendResult> r) {
    out = std::move(r);
  });
  return out;
}

// Steady state: the ring is full, so every append also evicts one event.
void BM_Append1KiB(benchmark::State& state) {
  EventRing ring({.max_events = 10'000, .dedup = {.max_ids = 100'000}},
                 RealClock(), NewStreamIdentity(absl::Now()));
  MemoryBackend backend(ring, RealClock());
  const v1::Event event = MakeEvent(800);  // ~1 KiB stored
  uint64_t i = 0;
  for (auto _ : state) {
    v1::Event copy = event;
    copy.set_id(absl::StrCat("evt_", ++i));
    auto result = Append(backend, std::move(copy));
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["stored_bytes"] =
      static_cast<double>(ring.Get(ring.GetInfo().head_sequence)->ByteSize());
}
BENCHMARK(BM_Append1KiB);

void BM_Read64(benchmark::State& state) {
  constexpr uint64_t kEvents = 10'000;
  EventRing ring({.max_events = kEvents}, RealClock(),
                 NewStreamIdentity(absl::Now()));
  MemoryBackend backend(ring, RealClock());
  v1::Event event = MakeEvent(800);
  for (uint64_t i = 1; i <= kEvents; ++i) {
    event.set_id(absl::StrCat("evt_", i));
    if (!Append(backend, event).ok()) state.SkipWithError("append failed");
  }
  uint64_t after = 0;
  for (auto _ : state) {
    EventRing::ReadResult result = ring.Read(after, {.max_events = 64});
    benchmark::DoNotOptimize(result);
    after = result.position < kEvents - 64 ? result.position : 0;
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_Read64);

}  // namespace
}  // namespace hookstream
