// HMAC-SHA256 verification of a customer.created body, as the ingress does
// it per request: the one-shot HMAC (OpenSSL looks the algorithm up and
// keys a new context per call) against a key prepared once.
//   build-bench/bench/signature_bench --benchmark_min_time=1
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "common/signature/crypto.h"
#include "common/signature/hmac_body_verifier.h"

namespace hookstream {
namespace {

std::string Body() {
  std::ifstream in(
      absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/customer.created.json"),
      std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr absl::string_view kSecret = "bench-signing-secret-0123456789";

void BM_HmacOneShot(benchmark::State& state) {
  const std::string body = Body();
  for (auto _ : state) benchmark::DoNotOptimize(HmacSha256(kSecret, body));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_HmacOneShot);

void BM_HmacPreparedKey(benchmark::State& state) {
  const std::string body = Body();
  const HmacSha256Key key(kSecret);
  for (auto _ : state) benchmark::DoNotOptimize(key.Mac(body));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_HmacPreparedKey);

// The whole check: header parsing, hex decoding, MAC, comparison.
void BM_VerifyHmacBody(benchmark::State& state) {
  const std::string body = Body();
  auto verifier =
      HmacBodyVerifier::Create({{"bench", std::string(kSecret)}}).value();
  const std::string header = EncodeHex(HmacSha256(kSecret, body));
  auto lookup =
      [&header](absl::string_view name) -> std::optional<absl::string_view> {
    if (name == "x-webhook-signature") return absl::string_view(header);
    return std::nullopt;
  };
  const absl::Time now = absl::Now();
  for (auto _ : state) {
    absl::StatusOr<std::string> label =
        verifier->Verify({.header = lookup, .body = body}, now);
    if (!label.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(label);
  }
}
BENCHMARK(BM_VerifyHmacBody);

}  // namespace
}  // namespace hookstream
