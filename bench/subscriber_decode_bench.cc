// What a subscriber pays to decode what hookstream streams: one
// SubscribeResponse batch of 64 customer.created events, with and without
// raw_json. This bounds the replay workload on a small machine: the
// subscribers' own decoding, not the server, runs out of CPU first.
//   build-bench/bench/subscriber_decode_bench --benchmark_min_time=1
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/conversion/gettrx_converter.h"
#include "google/protobuf/arena.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream {
namespace {

std::string SerializedBatch(bool raw_json, int events) {
  std::ifstream in(
      absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/customer.created.json"),
      std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<v1::Event> event = ConvertGettrxEvent(ss.str(), absl::Now());
  if (!event.ok()) return "";
  event->set_stream_epoch("20261128T141204Z-f5e44797b15aaa59");
  if (!raw_json) event->clear_raw_json();
  v1::SubscribeResponse response;
  for (int i = 0; i < events; ++i) {
    v1::Event* e = response.mutable_events()->add_events();
    *e = *event;
    e->set_sequence(1000 + i);
    e->set_id(absl::StrCat("evt_", 100000000000000000 + i));
  }
  return response.SerializeAsString();
}

void BM_DecodeBatch(benchmark::State& state) {
  const int events = static_cast<int>(state.range(1));
  const std::string wire = SerializedBatch(state.range(0) != 0, events);
  if (wire.empty()) {
    state.SkipWithError("customer.created.json missing or not convertible");
    return;
  }
  v1::SubscribeResponse response;  // reused, as the subscriber tool does
  for (auto _ : state) {
    if (!response.ParseFromString(wire)) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations() * events);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(wire.size()));
  state.counters["bytes_per_event"] = static_cast<double>(wire.size()) / events;
}
// Args: {raw_json, events per batch}.
BENCHMARK(BM_DecodeBatch)->Args({1, 64})->Args({0, 64})->Args({1, 1});

// The same decode into a protobuf Arena, a fresh one per batch: the fastest
// way protobuf offers to decode many messages, for the lower bound of what
// a subscriber pays per event.
void BM_DecodeBatchArena(benchmark::State& state) {
  const int events = static_cast<int>(state.range(1));
  const std::string wire = SerializedBatch(state.range(0) != 0, events);
  if (wire.empty()) {
    state.SkipWithError("customer.created.json missing or not convertible");
    return;
  }
  google::protobuf::ArenaOptions options;
  options.start_block_size = 2 * wire.size();
  for (auto _ : state) {
    google::protobuf::Arena arena(options);
    auto* response =
        google::protobuf::Arena::CreateMessage<v1::SubscribeResponse>(&arena);
    if (!response->ParseFromString(wire)) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(response);
  }
  state.SetItemsProcessed(state.iterations() * events);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(wire.size()));
}
BENCHMARK(BM_DecodeBatchArena)->Args({1, 64})->Args({0, 64});

}  // namespace
}  // namespace hookstream
