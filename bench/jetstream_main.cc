// bench_jetstream: the NATS JetStream peer of the replay and live-latency
// workloads, with Debian's libnats (C client), against a loopback
// nats-server started by bench/run.sh.
//
// The payloads are what hookstream streams: the customer.created body
// converted by ConvertGettrxEvent and serialized as a v1::Event with its
// raw_json (~1.9 KB), each with a unique id. Consumers decode every message
// with v1::Event::ParseFromArray, as hookstream's subscribers decode theirs.
//
//   --mode=replay  a memory-storage stream of --messages messages, then
//                  --consumers ordered consumers (one connection each)
//                  replaying from the first: aggregate deliveries/s.
//   --mode=live    --consumers ordered consumers at the head (one
//                  connection each, or all over --connections connections
//                  delivered by a pool of --delivery_threads threads, as the
//                  fan-out workload's shapes ask); a publisher
//                  (js_PublishAsync: acks are collected, as a receiver
//                  serving many requests at once would) at --rate stamps
//                  its send time in the event id: latency publish → delivery.
// --consumers=0 publishes with nobody attached: nats-server's publish share
// of the same load. --include_raw_json=false sends the event without its
// raw JSON (~500 bytes), what a hookstream subscriber gets by default.
// Output: one JSON line on stdout.
#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/loadgen/latency_stats.h"
#include "bench/loadgen/signed_bodies.h"
#include "bench/nats_support.h"
#include "common/conversion/gettrx_converter.h"
#include "hookstream/v1/event.pb.h"

ABSL_FLAG(std::string, mode, "replay", "replay or live");
ABSL_FLAG(std::string, url, "", "nats://127.0.0.1:PORT");
ABSL_FLAG(std::string, body_file, "", "template GETTRX body");
ABSL_FLAG(uint64_t, messages, 200'000, "replay: messages in the stream");
ABSL_FLAG(int, consumers, 10, "ordered consumers, one connection each");
ABSL_FLAG(int, connections, 0,
          "live: connections the consumers share (0: one each)");
ABSL_FLAG(int, delivery_threads, 2,
          "live with --connections: threads delivering all consumers' "
          "messages (libnats' global delivery pool)");
ABSL_FLAG(bool, include_raw_json, true,
          "the payload carries Event.raw_json (the ~1.2 KB body)");
ABSL_FLAG(double, rate, 2000, "live: messages per second");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "live: publish time");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(120),
          "longest wait for consumers to finish");
ABSL_FLAG(int, server_pid, 0, "nats-server's pid, to report its CPU time");
ABSL_FLAG(std::string, label, "", "copied into the JSON line");

namespace hookstream::bench {
namespace {

constexpr char kSubject[] = "bench.events";

// One ordered consumer's state; its callbacks run on its own thread.
struct Consumer {
  // Its own connection (empty when it shares one); the subscription is
  // ended first (Unsubscribe).
  NatsClient client;
  jetstream::SubscriptionPtr sub;
  uint64_t stop_after = 0;
  bool record_latency = false;
  std::atomic<uint64_t> count{0};
  uint64_t bytes = 0;
  std::atomic<int64_t> finished_ns{0};
  absl::Mutex mu;
  std::vector<int64_t> latencies_ns ABSL_GUARDED_BY(mu);
  v1::Event event;  // reused: decoding reuses its allocations
  uint64_t parse_failures = 0;
};

void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg,
               void* closure) {
  const jetstream::MsgPtr owned(msg);
  auto* c = static_cast<Consumer*>(closure);
  const int64_t now = MonotonicNowNs();
  if (!c->event.ParseFromArray(natsMsg_GetData(msg),
                               natsMsg_GetDataLength(msg))) {
    ++c->parse_failures;
  }
  c->bytes += c->event.id().size() + c->event.raw_json().size();
  if (c->record_latency) {
    const int64_t sent = SendTimeFromEventId(c->event.id());
    if (sent > 0) {
      absl::MutexLock lock(&c->mu);
      c->latencies_ns.push_back(now - sent);
    }
  }
  const uint64_t n = c->count.fetch_add(1) + 1;
  if (c->stop_after != 0 && n == c->stop_after) c->finished_ns.store(now);
}

// The context every tool connection gets: acks collected asynchronously.
absl::StatusOr<NatsClient> Connect(const std::string& url,
                                   bool pooled = false) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 4096;
  jo.Wait = 30'000;
  return ConnectJetStream(url, jo, pooled);
}

absl::Status AddMemoryStream(jsCtx* js) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "BENCH";
  const char* subjects[] = {kSubject};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_MemoryStorage;
  return AddStream(js, cfg);
}

// An ordered consumer on `js` (a connection the consumer does not own).
int SubscribeOn(Consumer& c, jsCtx* js, jsDeliverPolicy policy) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Ordered = true;
  so.Config.DeliverPolicy = policy;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsSubscription* raw = nullptr;
  const natsStatus subscribed =
      js_Subscribe(&raw, js, kSubject, OnMessage, &c, nullptr, &so, &jerr);
  c.sub.reset(raw);
  NATS_CHECK(subscribed);
  // No client-side drop: flow control bounds what is in flight.
  NATS_CHECK(natsSubscription_SetPendingLimits(c.sub.get(), -1, -1));
  return 0;
}

// An ordered consumer on a connection of its own.
int Subscribe(Consumer& c, const std::string& url, jsDeliverPolicy policy) {
  absl::StatusOr<NatsClient> client = Connect(url);
  if (!client.ok()) return Fail(client.status());
  c.client = *std::move(client);
  return SubscribeOn(c, c.client.js.get(), policy);
}

// Ends the subscription, then its connection if it has one of its own.
void Unsubscribe(Consumer& c) {
  if (c.sub != nullptr) {
    natsSubscription_Unsubscribe(c.sub.get());
    c.sub.reset();
  }
  c.client.Reset();
}

// The payload: the converted customer.created event, serialized with its
// raw JSON, as hookstream holds and streams it.
absl::StatusOr<v1::Event> PayloadEvent() {
  auto body = ReadFileToString(absl::GetFlag(FLAGS_body_file));
  if (!body.ok()) return body.status();
  auto event = ConvertGettrxEvent(*body, absl::Now());
  if (!event.ok()) return event.status();
  event->set_stream_epoch("bench-epoch-0000000000");
  if (!absl::GetFlag(FLAGS_include_raw_json)) event->clear_raw_json();
  return event;
}

int Replay(const std::string& url, v1::Event event) {
  const uint64_t n = absl::GetFlag(FLAGS_messages);
  const int k = absl::GetFlag(FLAGS_consumers);
  absl::StatusOr<NatsClient> client = Connect(url);
  if (!client.ok()) return Fail(client.status());
  jsCtx* js = client->js.get();
  if (absl::Status added = AddMemoryStream(js); !added.ok()) {
    return Fail(added);
  }

  const uint32_t run = static_cast<uint32_t>(MonotonicNowNs());
  uint64_t payload_bytes = 0;
  const int64_t publish_start = MonotonicNowNs();
  for (uint64_t i = 0; i < n; ++i) {
    event.set_sequence(i + 1);
    event.set_id(UniqueEventId(run, i));
    const std::string payload = event.SerializeAsString();
    payload_bytes += payload.size();
    NATS_CHECK(js_PublishAsync(js, kSubject, payload.data(),
                               static_cast<int>(payload.size()), nullptr));
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 120'000;
  NATS_CHECK(js_PublishAsyncComplete(js, &po));
  const double publish_seconds = (MonotonicNowNs() - publish_start) / 1e9;

  std::vector<std::unique_ptr<Consumer>> consumers;
  for (int i = 0; i < k; ++i) {
    consumers.push_back(std::make_unique<Consumer>());
    consumers.back()->stop_after = n;
  }
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  const int64_t start_ns = MonotonicNowNs();
  for (auto& c : consumers) {
    if (int rc = Subscribe(*c, url, js_DeliverAll)) return rc;
  }
  const absl::Time deadline = absl::Now() + absl::GetFlag(FLAGS_timeout);
  auto all_done = [&] {
    for (auto& c : consumers) {
      if (c->count.load() < n) return false;
    }
    return true;
  };
  while (!all_done() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu =
      server_pid > 0 ? ProcessCpuSeconds(server_pid) - server_cpu0 : -1;
  uint64_t events = 0, complete = 0, bytes = 0, parse_failures = 0;
  int64_t last_ns = start_ns;
  for (auto& c : consumers) {
    Unsubscribe(*c);
    events += c->count.load();
    bytes += c->bytes;
    parse_failures += c->parse_failures;
    if (c->count.load() >= n) {
      ++complete;
      last_ns = std::max(last_ns, c->finished_ns.load());
    }
  }
  client->Reset();
  const double seconds = (last_ns - start_ns) / 1e9;
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("consumers", k)
      .Add("messages", n)
      .Add("payload_bytes", payload_bytes / std::max<uint64_t>(n, 1))
      .Add("publish_per_s", publish_seconds > 0 ? n / publish_seconds : 0.0)
      .Add("complete", complete)
      .Add("events", events)
      .Add("seconds", seconds)
      .Add("deliveries_per_s",
           complete == static_cast<uint64_t>(k) && seconds > 0
               ? events / seconds
               : 0.0)
      .Add("parse_failures", parse_failures)
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu);
  std::cout << out.str() << std::endl;
  return complete == static_cast<uint64_t>(k) ? 0 : 1;
}

int Live(const std::string& url, v1::Event event) {
  const int k = absl::GetFlag(FLAGS_consumers);
  absl::StatusOr<NatsClient> client = Connect(url);
  if (!client.ok()) return Fail(client.status());
  jsCtx* js = client->js.get();
  if (absl::Status added = AddMemoryStream(js); !added.ok()) {
    return Fail(added);
  }
  // Shared connections (--connections), consumer i on connection i % C.
  const int shared = std::min(k, std::max(0, absl::GetFlag(FLAGS_connections)));
  if (shared > 0) {
    NATS_CHECK(nats_SetMessageDeliveryPoolSize(
        std::max(1, absl::GetFlag(FLAGS_delivery_threads))));
  }
  std::vector<NatsClient> connections;
  for (int i = 0; i < shared; ++i) {
    absl::StatusOr<NatsClient> connected = Connect(url, /*pooled=*/true);
    if (!connected.ok()) return Fail(connected.status());
    connections.push_back(*std::move(connected));
  }
  std::vector<std::unique_ptr<Consumer>> consumers;
  const int64_t subscribe_start = MonotonicNowNs();
  for (int i = 0; i < k; ++i) {
    consumers.push_back(std::make_unique<Consumer>());
    consumers.back()->record_latency = true;
    const int rc =
        shared > 0
            ? SubscribeOn(*consumers.back(), connections[i % shared].js.get(),
                          js_DeliverNew)
            : Subscribe(*consumers.back(), url, js_DeliverNew);
    if (rc) return rc;
  }
  const double subscribe_seconds = (MonotonicNowNs() - subscribe_start) / 1e9;

  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  const int64_t switches0 =
      server_pid > 0 ? ProcessContextSwitches(server_pid) : 0;
  const double rate = absl::GetFlag(FLAGS_rate);
  const uint64_t total = static_cast<uint64_t>(
      absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration)) * rate);
  const auto interval_ns = static_cast<int64_t>(1e9 / std::max(rate, 1.0));
  uint64_t published = 0, late = 0, failed = 0;
  const int64_t start_ns = MonotonicNowNs();
  for (uint64_t i = 0; i < total; ++i) {
    const int64_t due = start_ns + static_cast<int64_t>(i) * interval_ns;
    if (MonotonicNowNs() < due) {
      std::this_thread::sleep_until(
          std::chrono::steady_clock::time_point(std::chrono::nanoseconds(due)));
    } else if (i > 0) {
      ++late;
    }
    const int64_t sent_ns = MonotonicNowNs();
    event.set_sequence(i + 1);
    event.set_id(TimestampedEventId(sent_ns));
    const std::string payload = event.SerializeAsString();
    // Asynchronous publish: a receiver in front of JetStream serves many
    // requests at once, so one slow PubAck must not hold the schedule back.
    if (js_PublishAsync(js, kSubject, payload.data(),
                        static_cast<int>(payload.size()), nullptr) == NATS_OK) {
      ++published;
    } else {
      ++failed;
    }
  }
  {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 30'000;
    if (js_PublishAsyncComplete(js, &po) != NATS_OK) ++failed;
  }
  const double publish_seconds = (MonotonicNowNs() - start_ns) / 1e9;
  const absl::Time drain_until = absl::Now() + absl::Seconds(5);
  while (absl::Now() < drain_until) {
    bool all = true;
    for (auto& c : consumers) all = all && c->count.load() >= published;
    if (all) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu =
      server_pid > 0 ? ProcessCpuSeconds(server_pid) - server_cpu0 : -1;
  const int64_t switches =
      server_pid > 0 ? ProcessContextSwitches(server_pid) - switches0 : 0;
  std::vector<int64_t> samples;
  for (auto& c : consumers) {
    Unsubscribe(*c);
    absl::MutexLock lock(&c->mu);
    samples.insert(samples.end(), c->latencies_ns.begin(),
                   c->latencies_ns.end());
  }
  for (NatsClient& shared_client : connections) shared_client.Reset();
  client->Reset();
  const uint64_t received = samples.size();
  const uint64_t expected = published * k;
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("consumers", k)
      .Add("connections", shared > 0 ? shared : k)
      .Add("include_raw_json", absl::GetFlag(FLAGS_include_raw_json) ? 1 : 0)
      .Add("payload_bytes", static_cast<uint64_t>(event.ByteSizeLong()))
      .Add("subscribe_seconds", subscribe_seconds)
      .Add("rate", rate)
      .Add("published", published)
      .Add("publish_failures", failed)
      .Add("late_sends", late)
      .Add("received", received)
      .Add("expected", expected)
      .Add("missed", expected > received ? expected - received : uint64_t{0})
      .AddPercentilesUs("latency", ComputePercentiles(std::move(samples)))
      .Add("achieved_rate",
           publish_seconds > 0 ? published / publish_seconds : 0.0)
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu)
      .Add("server_us_per_delivery",
           received && server_cpu >= 0 ? server_cpu * 1e6 / received : 0.0)
      .Add("server_switches", switches)
      .Add("server_switches_per_delivery",
           received ? static_cast<double>(switches) / received : 0.0);
  std::cout << out.str() << std::endl;
  return received == expected ? 0 : 1;
}

int Main() {
  const std::string url = absl::GetFlag(FLAGS_url);
  if (url.rfind("nats://127.0.0.1:", 0) != 0) {
    std::cerr << "bench_jetstream: --url must be nats://127.0.0.1:PORT\n";
    return 2;
  }
  auto event = PayloadEvent();
  if (!event.ok()) {
    std::cerr << "bench_jetstream: " << event.status() << "\n";
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  int rc = 2;
  if (mode == "replay") {
    rc = Replay(url, *std::move(event));
  } else if (mode == "live") {
    rc = Live(url, *std::move(event));
  } else {
    std::cerr << "bench_jetstream: unknown --mode " << mode << "\n";
  }
  nats_Close();
  return rc;
}

}  // namespace
}  // namespace hookstream::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return hookstream::bench::Main();
}
