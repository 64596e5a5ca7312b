// bench_https_load: closed-loop HTTPS keep-alive POSTs of unique, signed
// GETTRX bodies to one loopback server (hookstream's ingress or nginx), then
// one JSON line on stdout: requests/s, p50/p99/p999 latency, non-2xx count.
//
//   bench_https_load --port=8443 --secret_file=var/dev/signing-secret \
//     --connections=32 --requests=200000 --duration=10s
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "bench/loadgen/https_load.h"
#include "bench/loadgen/latency_stats.h"
#include "bench/loadgen/signed_bodies.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "loopback address of the server");
ABSL_FLAG(int, port, 0, "server port");
ABSL_FLAG(std::string, path, "/v1/webhooks/gettrx", "request path");
ABSL_FLAG(std::string, body_file, "", "template GETTRX body");
ABSL_FLAG(std::string, secret_file, "",
          "signing secret (first line); bodies are signed with it");
ABSL_FLAG(std::string, ca_file, "", "verify the server with this PEM");
ABSL_FLAG(int, connections, 32, "keep-alive connections");
ABSL_FLAG(int, threads, 1, "client I/O threads");
ABSL_FLAG(uint64_t, requests, 200'000, "most requests to send");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "longest run");
ABSL_FLAG(uint64_t, pregenerate, 300'000,
          "requests made before the clock starts; later ones are made and "
          "signed while sending");
ABSL_FLAG(uint32_t, run_id, 0, "keeps ids of two runs apart (0: random)");
ABSL_FLAG(int, server_pid, 0, "server process whose CPU time to report");
ABSL_FLAG(std::string, label, "", "copied into the JSON line");

namespace hookstream::bench {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost";
}

int Main() {
  const std::string host = absl::GetFlag(FLAGS_host);
  if (!IsLoopback(host)) {
    std::cerr << "bench_https_load: only loopback targets are allowed\n";
    return 2;
  }
  auto body = ReadFileToString(absl::GetFlag(FLAGS_body_file));
  if (!body.ok()) {
    std::cerr << "bench_https_load: " << body.status() << "\n";
    return 2;
  }
  std::string secret;
  if (!absl::GetFlag(FLAGS_secret_file).empty()) {
    auto s = ReadFileToString(absl::GetFlag(FLAGS_secret_file));
    if (!s.ok()) {
      std::cerr << "bench_https_load: " << s.status() << "\n";
      return 2;
    }
    secret =
        std::string(absl::StripAsciiWhitespace(s->substr(0, s->find('\n'))));
  }
  const int port = absl::GetFlag(FLAGS_port);
  auto factory = SignedRequestFactory::Create(
      *body, secret, absl::StrCat(host, ":", port), absl::GetFlag(FLAGS_path));
  if (!factory.ok()) {
    std::cerr << "bench_https_load: " << factory.status() << "\n";
    return 2;
  }
  uint32_t run = absl::GetFlag(FLAGS_run_id);
  if (run == 0) run = std::random_device{}();

  const uint64_t max_requests = absl::GetFlag(FLAGS_requests);
  std::vector<std::string> pregenerated(
      std::min(max_requests, absl::GetFlag(FLAGS_pregenerate)));
  for (uint64_t k = 0; k < pregenerated.size(); ++k) {
    pregenerated[k] = factory->Request(UniqueEventId(run, k));
  }
  const size_t body_bytes = factory->body_size_for(UniqueEventId(run, 0));

  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  auto result =
      RunClosedLoop({.host = host,
                     .port = static_cast<uint16_t>(port),
                     .ca_file = absl::GetFlag(FLAGS_ca_file)},
                    {.connections = absl::GetFlag(FLAGS_connections),
                     .threads = absl::GetFlag(FLAGS_threads),
                     .max_requests = max_requests,
                     .max_duration = absl::GetFlag(FLAGS_duration)},
                    [&](uint64_t k) {
                      return k < pregenerated.size()
                                 ? pregenerated[k]
                                 : factory->Request(UniqueEventId(run, k));
                    });
  if (!result.ok()) {
    std::cerr << "bench_https_load: " << result.status() << "\n";
    return 1;
  }
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu =
      server_pid > 0 ? ProcessCpuSeconds(server_pid) - server_cpu0 : -1;
  const uint64_t answered = result->ok_2xx + result->non_2xx;
  const Percentiles p = ComputePercentiles(std::move(result->latencies_ns));
  std::string statuses;
  for (const auto& [status, n] : result->status_counts) {
    absl::StrAppend(&statuses, statuses.empty() ? "" : " ", status, ":", n);
  }
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("connections", absl::GetFlag(FLAGS_connections))
      .Add("body_bytes", static_cast<uint64_t>(body_bytes))
      .Add("sent", result->sent)
      .Add("ok_2xx", result->ok_2xx)
      .Add("non_2xx", result->non_2xx)
      .Add("errors", result->errors)
      .Add("seconds", result->seconds)
      .Add("rps", result->seconds > 0 ? answered / result->seconds : 0.0)
      .Add("ok_rps",
           result->seconds > 0 ? result->ok_2xx / result->seconds : 0.0)
      .AddPercentilesUs("latency", p)
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu)
      .Add("statuses", statuses)
      .Add("first_error", result->first_error)
      .Add("sample_body",
           absl::StripAsciiWhitespace(result->sample_body.substr(0, 200)));
  std::cout << out.str() << std::endl;
  return result->ok_2xx > 0 ? 0 : 1;
}

}  // namespace
}  // namespace hookstream::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return hookstream::bench::Main();
}
