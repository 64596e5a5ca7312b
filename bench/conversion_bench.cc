// Benchmarks for common/conversion: how fast a GETTRX body becomes a typed
// v1::Event. Run a Release/RelWithDebInfo build:
//   build/bench/conversion_bench --benchmark_min_time=2
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/conversion/gettrx_converter.h"
#include "common/conversion/json_value.h"

namespace hookstream {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/", name),
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void RunConvert(benchmark::State& state, const std::string& body) {
  if (body.empty() || !ConvertGettrxEvent(body, absl::Now()).ok()) {
    state.SkipWithError("test body missing or not convertible");
    return;
  }
  const absl::Time received_at = absl::Now();
  for (auto _ : state) {
    absl::StatusOr<v1::Event> event = ConvertGettrxEvent(body, received_at);
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}

// The full conversion of the documented customer.created delivery (1.3 KB).
void BM_ConvertCustomerCreated(benchmark::State& state) {
  RunConvert(state, ReadTestdata("customer.created.json"));
}
BENCHMARK(BM_ConvertCustomerCreated);

// A refund: the path through exact money.
void BM_ConvertRefundPending(benchmark::State& state) {
  RunConvert(state, ReadTestdata("refund.pending.json"));
}
BENCHMARK(BM_ConvertRefundPending);

// An unmodeled type: data.object becomes a google.protobuf.Struct.
void BM_ConvertUnknownTypeToStruct(benchmark::State& state) {
  std::string body = ReadTestdata("customer.created.json");
  const std::string from = "\"type\": \"customer.created\"";
  body.replace(body.find(from), from.size(), "\"type\": \"dispute.created\"");
  const std::string object = "\"object\": \"customer\"";
  body.replace(body.find(object), object.size(), "\"object\": \"dispute\"");
  RunConvert(state, body);
}
BENCHMARK(BM_ConvertUnknownTypeToStruct);

// A body dominated by one long string: UTF-8 check and lexer throughput.
void BM_ConvertLongDescription(benchmark::State& state) {
  std::string body = ReadTestdata("customer.created.json");
  const std::string from = "\"description\": \"patriot\"";
  body.replace(body.find(from), from.size(),
               absl::StrCat("\"description\": \"",
                            std::string(state.range(0), 'x'), "\""));
  RunConvert(state, body);
}
BENCHMARK(BM_ConvertLongDescription)->Arg(64 << 10)->Arg(512 << 10);

// Parsing alone (UTF-8 check + simdjson On-Demand into the tree), to split
// the cost.
void BM_ParseCustomerCreatedOnly(benchmark::State& state) {
  const std::string body = ReadTestdata("customer.created.json");
  for (auto _ : state) {
    absl::StatusOr<JsonDocument> document = ParseJsonObject(body);
    benchmark::DoNotOptimize(document);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ParseCustomerCreatedOnly);

}  // namespace
}  // namespace hookstream
