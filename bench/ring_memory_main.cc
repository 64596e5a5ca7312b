// bench_ring_memory: what an EventRing full of webhook events costs in memory
// beyond the serialized bytes it holds (the memory workload's question,
// without the server, the network or a second process).
//
// Appends --events events made like the ingress makes them: the template
// GETTRX body with a unique 28-character id, converted by ConvertGettrxEvent
// (raw_json = the body), into a ring sized to hold them all, with the dedup
// index remembering every id. Links jemalloc like hookstream-server when it is
// found, so that the allocator's size classes are the server's.
// Output: one JSON line: events, byte_count (serialized bytes held),
// rss_before/rss_after (bytes), ratio = rss_after / byte_count (the workload's
// figure, here without the server's fixed costs) and overhead_per_event =
// (rss_after - rss_before - byte_count) / events.
//
//   build-bench/bench/bench_ring_memory --events=1000000
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "bench/loadgen/latency_stats.h"
#include "bench/loadgen/signed_bodies.h"
#include "common/backend/memory_backend.h"
#include "common/base/clock.h"
#include "common/conversion/gettrx_converter.h"
#include "common/ring/event_ring.h"
#include "common/store/stream_identity.h"

ABSL_FLAG(uint64_t, events, 1'000'000, "events to append (all held)");
ABSL_FLAG(std::string, body_file,
          HOOKSTREAM_TESTDATA_DIR "/gettrx/customer.created.json",
          "template GETTRX body");
ABSL_FLAG(std::string, label, "", "copied into the JSON line");

namespace hookstream::bench {
namespace {

int Run() {
  const uint64_t events = absl::GetFlag(FLAGS_events);
  absl::StatusOr<std::string> body =
      ReadFileToString(absl::GetFlag(FLAGS_body_file));
  if (!body.ok()) {
    std::fprintf(stderr, "%s\n", body.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<SignedRequestFactory> factory = SignedRequestFactory::Create(
      *std::move(body), "secret", "127.0.0.1", "/v1/webhooks/gettrx");
  if (!factory.ok()) {
    std::fprintf(stderr, "%s\n", factory.status().ToString().c_str());
    return 1;
  }

  const Clock& clock = RealClock();
  // As the memory workload configures the server: nothing is evicted and
  // every id stays in the dedup index.
  EventRing ring({.max_events = events,
                  .max_bytes = size_t{16} << 30,
                  .dedup = {.max_ids = events * 2}},
                 clock, NewStreamIdentity(clock.Now()));
  MemoryBackend backend(ring, clock);
  const int64_t rss_before = ProcessRssBytes(getpid());
  const absl::Time start = absl::Now();
  for (uint64_t n = 1; n <= events; ++n) {
    absl::StatusOr<v1::Event> event =
        ConvertGettrxEvent(factory->Body(UniqueEventId(0, n)), clock.Now());
    if (!event.ok()) {
      std::fprintf(stderr, "%s\n", event.status().ToString().c_str());
      return 1;
    }
    absl::StatusOr<AppendResult> appended = absl::UnknownError("pending");
    backend.Append(*std::move(event), [&](absl::StatusOr<AppendResult> r) {
      appended = std::move(r);
    });
    if (!appended.ok() || appended->duplicate) {
      std::fprintf(stderr, "append %llu failed\n",
                   static_cast<unsigned long long>(n));
      return 1;
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const int64_t rss_after = ProcessRssBytes(getpid());
  const EventRing::Info info = ring.GetInfo();

  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label));
  out.Add("events", static_cast<uint64_t>(info.event_count));
  out.Add("byte_count", static_cast<uint64_t>(info.byte_count));
  out.Add("dedup_count", static_cast<uint64_t>(info.dedup_count));
  out.Add("rss_before", rss_before);
  out.Add("rss_after", rss_after);
  out.Add("ratio", static_cast<double>(rss_after) /
                       static_cast<double>(info.byte_count));
  out.Add("overhead_per_event", (static_cast<double>(rss_after - rss_before) -
                                 static_cast<double>(info.byte_count)) /
                                    static_cast<double>(info.event_count));
  out.Add("fill_seconds", seconds);
  std::puts(out.str().c_str());
  return 0;
}

}  // namespace
}  // namespace hookstream::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return hookstream::bench::Run();
}
