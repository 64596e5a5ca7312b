// bench_grpc_subscribers: hookstream.v1.EventStream subscribers for the
// fan-out, latency and many-subscriber workloads, and a stream-info probe.
// Every subscriber has its own channel (a distinct channel argument keeps
// gRPC from sharing one connection), except in --mode=many, where
// --subscriptions streams share --channels channels. Events arrive decoded
// (every SubscribeResponse is parsed into v1::Event messages).
//
//   --mode=replay  K subscribers from ORIGIN_OLDEST until each has --expect
//                  events: aggregate deliveries/s.
//   --mode=live    K subscribers at the head, then this process posts signed
//                  webhooks at --rate through the ingress, each carrying its
//                  send time in its event id: latency p50/p99 of
//                  POST sent → event received.
//   --mode=many    --subscriptions streams over --channels channels, read
//                  with the async API by --client_threads threads
//                  (bench/loadgen/many_streams.h); server RSS before/after
//                  (memory per idle subscription); then --events single
//                  posts, each timed until all received it.
//   --mode=fanout  --subscriptions streams over --channels channels (as in
//                  --mode=many), at the head; then this process posts at
//                  --rate for --duration through the ingress (as --mode=live):
//                  deliveries, missed deliveries, latency POST sent → event
//                  received, server CPU. --subscriptions=0 posts with nobody
//                  attached: the server's ingest share of the same load.
//   --mode=tail    K subscribers at the head for --duration (load for the
//                  ingest workload); writes --ready_file once all are ready.
//   --mode=info    GetStreamInfo (and the server's RSS) as one JSON line.
// Output: one JSON line on stdout.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/loadgen/https_load.h"
#include "bench/loadgen/latency_stats.h"
#include "bench/loadgen/many_streams.h"
#include "bench/loadgen/signed_bodies.h"
#include "grpcpp/grpcpp.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

ABSL_FLAG(std::string, mode, "replay",
          "replay, live, many, fanout, tail or info");
ABSL_FLAG(std::string, target, "", "gRPC address, 127.0.0.1:PORT");
ABSL_FLAG(int, subscribers, 10, "replay/live: subscribers, one channel each");
ABSL_FLAG(uint64_t, expect, 200'000, "replay: events each subscriber reads");
ABSL_FLAG(bool, include_raw_json, true,
          "ask for Event.raw_json, so each event carries the ~1.2 KB body");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(120),
          "longest wait for subscribers to finish");
ABSL_FLAG(int, ingress_port, 0, "live/many: the ingress port to post to");
ABSL_FLAG(std::string, body_file, "", "live/many: template GETTRX body");
ABSL_FLAG(std::string, secret_file, "", "live/many: signing secret");
ABSL_FLAG(double, rate, 2000, "live: posts per second");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "live: posting time");
ABSL_FLAG(int, post_connections, 8, "live: ingress connections");
ABSL_FLAG(int, subscriptions, 10'000, "many/fanout: subscriptions");
ABSL_FLAG(int, channels, 100, "many/fanout: channels they share");
ABSL_FLAG(int, client_threads, 2,
          "many: client threads, each with its own completion queue");
ABSL_FLAG(int, events, 50, "many: events posted one at a time");
ABSL_FLAG(int, server_pid, 0,
          "the server's pid: RSS (many/info) and CPU time (replay/live)");
ABSL_FLAG(std::string, ready_file, "", "tail: written once all are ready");
ABSL_FLAG(std::string, label, "", "copied into the JSON line");

namespace hookstream::bench {
namespace {

namespace v1 = ::hookstream::v1;

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           int index) {
  grpc::ChannelArguments args;
  // Channels with equal arguments may share a subchannel (one connection);
  // a distinct argument per channel gives each its own connection.
  args.SetInt("hookstream.bench.channel_index", index);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

// What all subscriptions of a run report to.
class Hub {
 public:
  void Ready() {
    absl::MutexLock lock(&mu_);
    ++ready_;
  }
  void Done() {
    absl::MutexLock lock(&mu_);
    ++done_;
  }
  bool AwaitReady(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto cond = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return ready_ + done_ >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
    return ready_ >= n;
  }
  bool AwaitDone(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto cond = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return done_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }

 private:
  absl::Mutex mu_;
  int ready_ ABSL_GUARDED_BY(mu_) = 0;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
};

// One Subscribe stream. gRPC runs its callbacks one at a time, so the
// counters need no lock; they are read after OnDone.
class Subscription : public grpc::ClientReadReactor<v1::SubscribeResponse> {
 public:
  struct Options {
    v1::SubscribeRequest request;
    // Stop after this many events (0: never; cancel from outside).
    uint64_t stop_after = 0;
    bool record_latency = false;
  };

  Subscription(Hub& hub, Options options)
      : hub_(hub), options_(std::move(options)) {}

  void Start(v1::EventStream::Stub& stub) {
    stub.async()->Subscribe(&context_, &options_.request, this);
    StartRead(&response_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows with the status.
    const int64_t now = MonotonicNowNs();
    if (response_.has_heartbeat()) {
      if (!ready_) {
        ready_ = true;
        hub_.Ready();
      }
    } else if (response_.has_events()) {
      ++batches_;
      for (const v1::Event& event : response_.events().events()) {
        // Touch the decoded fields a real consumer would read.
        bytes_ += event.id().size() + event.raw_json().size();
        if (last_sequence_ != 0 && event.sequence() != last_sequence_ + 1) {
          ++out_of_order_;
        }
        last_sequence_ = event.sequence();
        ++events_;
        received_.fetch_add(1, std::memory_order_relaxed);
        if (options_.record_latency) {
          const int64_t sent = SendTimeFromEventId(event.id());
          if (sent > 0) latencies_ns_.push_back(now - sent);
        }
      }
      if (options_.stop_after != 0 && events_ >= options_.stop_after) {
        finished_ns_ = now;
        context_.TryCancel();
        return;
      }
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    status_ = status;
    hub_.Done();
  }

  uint64_t events() const { return events_; }
  // Safe to read while the stream runs.
  uint64_t received() const { return received_.load(); }
  uint64_t batches() const { return batches_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t out_of_order() const { return out_of_order_; }
  int64_t finished_ns() const { return finished_ns_; }
  const grpc::Status& status() const { return status_; }
  std::vector<int64_t>& latencies_ns() { return latencies_ns_; }

 private:
  Hub& hub_;
  const Options options_;
  grpc::ClientContext context_;
  v1::SubscribeResponse response_;
  bool ready_ = false;
  uint64_t events_ = 0;
  std::atomic<uint64_t> received_{0};
  uint64_t batches_ = 0;
  uint64_t bytes_ = 0;
  uint64_t out_of_order_ = 0;
  uint64_t last_sequence_ = 0;
  int64_t finished_ns_ = 0;
  std::vector<int64_t> latencies_ns_;
  grpc::Status status_;
};

v1::SubscribeRequest MakeRequest(v1::Origin origin) {
  v1::SubscribeRequest request;
  request.set_origin(origin);
  request.set_include_raw_json(absl::GetFlag(FLAGS_include_raw_json));
  request.set_gap_policy(v1::GAP_POLICY_FAIL);
  return request;
}

// Cancels every subscription and waits for their OnDone, so none outlives
// this scope.
void CancelAll(Hub& hub, std::vector<std::unique_ptr<Subscription>>& subs) {
  for (auto& s : subs) s->Cancel();
  if (!hub.AwaitDone(static_cast<int>(subs.size()), absl::Seconds(30))) {
    std::cerr << "bench_grpc_subscribers: subscriptions did not end\n";
    std::_Exit(1);
  }
}

absl::StatusOr<SignedRequestFactory> MakeFactory() {
  auto body = ReadFileToString(absl::GetFlag(FLAGS_body_file));
  if (!body.ok()) return body.status();
  auto secret = ReadFileToString(absl::GetFlag(FLAGS_secret_file));
  if (!secret.ok()) return secret.status();
  return SignedRequestFactory::Create(
      *body,
      std::string(
          absl::StripAsciiWhitespace(secret->substr(0, secret->find('\n')))),
      absl::StrCat("127.0.0.1:", absl::GetFlag(FLAGS_ingress_port)),
      "/v1/webhooks/gettrx");
}

std::string StatusSummary(std::vector<std::unique_ptr<Subscription>>& subs) {
  std::map<std::string, int> codes;
  for (auto& s : subs) {
    ++codes[s->status().ok() ? std::string("OK")
                             : absl::StrCat(s->status().error_code(), " ",
                                            s->status().error_message())];
  }
  std::string out;
  for (const auto& [code, n] : codes) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", code, " x", n);
  }
  return out;
}

int Replay(const std::string& target) {
  const int k = absl::GetFlag(FLAGS_subscribers);
  const uint64_t expect = absl::GetFlag(FLAGS_expect);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::EventStream::Stub>> stubs;
  for (int i = 0; i < k; ++i) {
    channels.push_back(MakeChannel(target, i));
    // Connect before the clock starts: the workload is the replay.
    if (!channels.back()->WaitForConnected(
            absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
      std::cerr << "bench_grpc_subscribers: cannot connect to " << target
                << "\n";
      return 1;
    }
    stubs.push_back(v1::EventStream::NewStub(channels.back()));
  }
  Hub hub;
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int i = 0; i < k; ++i) {
    subs.push_back(std::make_unique<Subscription>(
        hub, Subscription::Options{.request = MakeRequest(v1::ORIGIN_OLDEST),
                                   .stop_after = expect}));
  }
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  const int64_t start_ns = MonotonicNowNs();
  for (int i = 0; i < k; ++i) subs[i]->Start(*stubs[i]);
  const bool all_done = hub.AwaitDone(k, absl::GetFlag(FLAGS_timeout));
  if (!all_done) CancelAll(hub, subs);
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu =
      server_pid > 0 ? ProcessCpuSeconds(server_pid) - server_cpu0 : -1;

  uint64_t events = 0, batches = 0, bytes = 0, out_of_order = 0, complete = 0;
  int64_t last_ns = start_ns;
  std::vector<int64_t> per_sub_ns;
  for (auto& s : subs) {
    events += s->events();
    batches += s->batches();
    bytes += s->bytes();
    out_of_order += s->out_of_order();
    if (s->events() >= expect) {
      ++complete;
      last_ns = std::max(last_ns, s->finished_ns());
      per_sub_ns.push_back(s->finished_ns() - start_ns);
    }
  }
  const double seconds = static_cast<double>(last_ns - start_ns) / 1e9;
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("subscribers", k)
      .Add("expect_each", expect)
      .Add("complete", complete)
      .Add("events", events)
      .Add("seconds", seconds)
      .Add("deliveries_per_s",
           complete == static_cast<uint64_t>(k) && seconds > 0
               ? events / seconds
               : 0.0)
      .Add("events_per_batch", batches ? double(events) / batches : 0.0)
      .Add("bytes_per_event", events ? double(bytes) / events : 0.0)
      .Add("out_of_order", out_of_order)
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu)
      .Add("statuses", StatusSummary(subs));
  std::cout << out.str() << std::endl;
  return complete == static_cast<uint64_t>(k) && out_of_order == 0 ? 0 : 1;
}

int Live(const std::string& target) {
  const int k = absl::GetFlag(FLAGS_subscribers);
  auto factory = MakeFactory();
  if (!factory.ok()) {
    std::cerr << "bench_grpc_subscribers: " << factory.status() << "\n";
    return 2;
  }
  std::vector<std::unique_ptr<v1::EventStream::Stub>> stubs;
  for (int i = 0; i < k; ++i) {
    stubs.push_back(v1::EventStream::NewStub(MakeChannel(target, i)));
  }
  Hub hub;
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int i = 0; i < k; ++i) {
    subs.push_back(std::make_unique<Subscription>(
        hub, Subscription::Options{.request = MakeRequest(v1::ORIGIN_LATEST),
                                   .record_latency = true}));
    subs.back()->Start(*stubs[i]);
  }
  if (!hub.AwaitReady(k, absl::Seconds(30))) {
    std::cerr << "bench_grpc_subscribers: subscribers not ready: "
              << StatusSummary(subs) << "\n";
    CancelAll(hub, subs);
    return 1;
  }
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  auto posted = RunPaced(
      {.port = static_cast<uint16_t>(absl::GetFlag(FLAGS_ingress_port))},
      {.connections = absl::GetFlag(FLAGS_post_connections),
       .rate_per_second = absl::GetFlag(FLAGS_rate),
       .duration = absl::GetFlag(FLAGS_duration)},
      [&](int64_t send_ns) {
        return factory->Request(TimestampedEventId(send_ns));
      });
  if (!posted.ok()) {
    std::cerr << "bench_grpc_subscribers: " << posted.status() << "\n";
    CancelAll(hub, subs);
    return 1;
  }
  // Give the last events time to arrive, then stop: every subscriber should
  // have every accepted event.
  const absl::Time drain_until = absl::Now() + absl::Seconds(5);
  while (absl::Now() < drain_until) {
    bool all = true;
    for (auto& s : subs) all = all && s->received() >= posted->ok_2xx;
    if (all) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  CancelAll(hub, subs);
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu =
      server_pid > 0 ? ProcessCpuSeconds(server_pid) - server_cpu0 : -1;
  std::vector<int64_t> samples;
  for (auto& s : subs) {
    samples.insert(samples.end(), s->latencies_ns().begin(),
                   s->latencies_ns().end());
  }
  const uint64_t received = samples.size();
  const Percentiles p = ComputePercentiles(std::move(samples));
  const Percentiles post = ComputePercentiles(std::move(posted->latencies_ns));
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("subscribers", k)
      .Add("rate", absl::GetFlag(FLAGS_rate))
      .Add("posted_ok", posted->ok_2xx)
      .Add("posted_non_2xx", posted->non_2xx)
      .Add("post_errors", posted->errors)
      .Add("late_sends", posted->late)
      .Add("received", received)
      .Add("expected", posted->ok_2xx * k)
      .AddPercentilesUs("latency", p)
      .Add("achieved_rate",
           posted->seconds > 0 ? posted->sent / posted->seconds : 0.0)
      .AddPercentilesUs("post_rtt", post)
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu);
  std::cout << out.str() << std::endl;
  return received == posted->ok_2xx * k ? 0 : 1;
}

// Deliveries of the many-subscribers workload: counted lock-free; the
// delivery that completes the awaited total records its time.
class DeliveryCounter {
 public:
  void Add(uint64_t n, int64_t now_ns) {
    last_ns_.store(now_ns, std::memory_order_relaxed);
    const uint64_t total = delivered_.fetch_add(n) + n;
    if (total < target_.load()) return;
    absl::MutexLock lock(&mu_);
    if (completed_ns_ == 0 && total >= target_.load()) completed_ns_ = now_ns;
  }
  // Waits until `n` deliveries in all; returns when the last arrived, or -1.
  int64_t Await(uint64_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    completed_ns_ = 0;
    target_.store(n);
    // Already complete before the wait began.
    if (delivered_.load() >= n) completed_ns_ = last_ns_.load();
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return completed_ns_ != 0;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) return -1;
    return completed_ns_;
  }
  uint64_t delivered() const { return delivered_.load(); }

 private:
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> target_{~uint64_t{0}};
  std::atomic<int64_t> last_ns_{0};
  absl::Mutex mu_;
  int64_t completed_ns_ ABSL_GUARDED_BY(mu_) = 0;
};

int Many(const std::string& target) {
  const int n = absl::GetFlag(FLAGS_subscriptions);
  const int c = std::max(1, absl::GetFlag(FLAGS_channels));
  const int pid = absl::GetFlag(FLAGS_server_pid);
  auto factory = MakeFactory();
  if (!factory.ok()) {
    std::cerr << "bench_grpc_subscribers: " << factory.status() << "\n";
    return 2;
  }
  const int64_t rss_before = ProcessRssBytes(pid);
  // Per stream, touched only by the client thread that reads the stream.
  std::vector<uint8_t> ready(n, 0);
  std::vector<uint64_t> last_sequence(n, 0);
  std::atomic<int> ready_count{0};
  std::atomic<uint64_t> out_of_order{0}, bytes{0};
  DeliveryCounter deliveries;
  ManyStreams streams(
      {.target = target,
       .streams = n,
       .channels = c,
       .threads = absl::GetFlag(FLAGS_client_threads),
       .request = MakeRequest(v1::ORIGIN_LATEST)},
      [&](int i, const v1::SubscribeResponse& response, int64_t now) {
        if (response.has_heartbeat()) {
          if (!ready[i]) {
            ready[i] = 1;
            ready_count.fetch_add(1);
          }
          return;
        }
        uint64_t events = 0, touched = 0;
        for (const v1::Event& event : response.events().events()) {
          // Touch the decoded fields a real consumer would read.
          touched += event.id().size() + event.raw_json().size();
          if (last_sequence[i] != 0 &&
              event.sequence() != last_sequence[i] + 1) {
            out_of_order.fetch_add(1);
          }
          last_sequence[i] = event.sequence();
          ++events;
        }
        if (events == 0) return;
        bytes.fetch_add(touched, std::memory_order_relaxed);
        deliveries.Add(events, now);
      });
  const int64_t subscribe_start = MonotonicNowNs();
  streams.Start();
  const absl::Time ready_by = absl::Now() + absl::Seconds(120);
  while (ready_count.load() < n && streams.ended() == 0 &&
         absl::Now() < ready_by) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (ready_count.load() < n) {
    streams.CancelAndJoin();
    std::cerr << "bench_grpc_subscribers: subscriptions not ready: "
              << ready_count.load() << " of " << n << "; "
              << streams.StatusSummary() << "\n";
    return 1;
  }
  const double subscribe_seconds = (MonotonicNowNs() - subscribe_start) / 1e9;
  absl::SleepFor(absl::Seconds(2));  // let the server settle before sampling
  const int64_t rss_idle = ProcessRssBytes(pid);

  std::vector<int64_t> reach_all_ns;
  uint64_t post_failures = 0;
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = pid > 0 ? ProcessCpuSeconds(pid) : 0;
  for (int e = 0; e < absl::GetFlag(FLAGS_events); ++e) {
    int64_t sent_ns = 0;
    auto posted = RunClosedLoop(
        {.port = static_cast<uint16_t>(absl::GetFlag(FLAGS_ingress_port))},
        {.connections = 1,
         .max_requests = 1,
         .max_duration = absl::Seconds(10)},
        [&](uint64_t) {
          sent_ns = MonotonicNowNs();
          return factory->Request(TimestampedEventId(sent_ns));
        });
    if (!posted.ok() || posted->ok_2xx != 1) {
      ++post_failures;
      continue;
    }
    const uint64_t want = static_cast<uint64_t>(n) * (e + 1 - post_failures);
    const int64_t last = deliveries.Await(want, absl::Seconds(10));
    if (last < 0) break;
    reach_all_ns.push_back(last - sent_ns);
  }
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu = pid > 0 ? ProcessCpuSeconds(pid) - server_cpu0 : -1;
  streams.CancelAndJoin();
  const uint64_t delivered = deliveries.delivered();
  const Percentiles p = ComputePercentiles(reach_all_ns);
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("subscriptions", n)
      .Add("channels", c)
      .Add("client_threads", absl::GetFlag(FLAGS_client_threads))
      .Add("subscribe_seconds", subscribe_seconds)
      .Add("rss_before_bytes", rss_before)
      .Add("rss_idle_bytes", rss_idle)
      .Add("bytes_per_idle_subscription",
           rss_before > 0 && rss_idle > 0 ? double(rss_idle - rss_before) / n
                                          : -1.0)
      .Add("events_timed", static_cast<uint64_t>(reach_all_ns.size()))
      .Add("post_failures", post_failures)
      .Add("delivered", delivered)
      .Add("out_of_order", out_of_order.load())
      .AddPercentilesUs("reach_all", p)
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu)
      .Add("client_us_per_delivery",
           delivered ? client_cpu * 1e6 / delivered : 0.0)
      .Add("server_us_per_delivery",
           delivered && server_cpu >= 0 ? server_cpu * 1e6 / delivered : 0.0);
  std::cout << out.str() << std::endl;
  return reach_all_ns.size() ==
                     static_cast<size_t>(absl::GetFlag(FLAGS_events)) &&
                 out_of_order.load() == 0
             ? 0
             : 1;
}

int Fanout(const std::string& target) {
  const int n = std::max(0, absl::GetFlag(FLAGS_subscriptions));
  const int c = std::max(1, absl::GetFlag(FLAGS_channels));
  const int pid = absl::GetFlag(FLAGS_server_pid);
  auto factory = MakeFactory();
  if (!factory.ok()) {
    std::cerr << "bench_grpc_subscribers: " << factory.status() << "\n";
    return 2;
  }
  // Per stream, touched only by the client thread that reads the stream.
  std::vector<uint8_t> ready(n, 0);
  std::vector<uint64_t> last_sequence(n, 0);
  std::vector<std::vector<int64_t>> latencies(n);
  std::atomic<int> ready_count{0};
  std::atomic<uint64_t> out_of_order{0}, delivered{0}, messages{0};
  std::unique_ptr<ManyStreams> streams;
  if (n > 0) {
    streams = std::make_unique<ManyStreams>(
        ManyStreams::Options{.target = target,
                             .streams = n,
                             .channels = c,
                             .threads = absl::GetFlag(FLAGS_client_threads),
                             .request = MakeRequest(v1::ORIGIN_LATEST)},
        [&](int i, const v1::SubscribeResponse& response, int64_t now) {
          if (response.has_heartbeat()) {
            if (!ready[i]) {
              ready[i] = 1;
              ready_count.fetch_add(1);
            }
            return;
          }
          uint64_t events = 0;
          for (const v1::Event& event : response.events().events()) {
            if (last_sequence[i] != 0 &&
                event.sequence() != last_sequence[i] + 1) {
              out_of_order.fetch_add(1);
            }
            last_sequence[i] = event.sequence();
            const int64_t sent = SendTimeFromEventId(event.id());
            if (sent > 0) latencies[i].push_back(now - sent);
            ++events;
          }
          delivered.fetch_add(events, std::memory_order_relaxed);
          messages.fetch_add(1, std::memory_order_relaxed);
        });
    streams->Start();
    const absl::Time ready_by = absl::Now() + absl::Seconds(120);
    while (ready_count.load() < n && streams->ended() == 0 &&
           absl::Now() < ready_by) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    if (ready_count.load() < n) {
      streams->CancelAndJoin();
      std::cerr << "bench_grpc_subscribers: subscriptions not ready: "
                << ready_count.load() << " of " << n << "; "
                << streams->StatusSummary() << "\n";
      return 1;
    }
  }
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = pid > 0 ? ProcessCpuSeconds(pid) : 0;
  const int64_t switches0 = pid > 0 ? ProcessContextSwitches(pid) : 0;
  auto posted = RunPaced(
      {.port = static_cast<uint16_t>(absl::GetFlag(FLAGS_ingress_port))},
      {.connections = absl::GetFlag(FLAGS_post_connections),
       .rate_per_second = absl::GetFlag(FLAGS_rate),
       .duration = absl::GetFlag(FLAGS_duration)},
      [&](int64_t send_ns) {
        return factory->Request(TimestampedEventId(send_ns));
      });
  if (!posted.ok()) {
    std::cerr << "bench_grpc_subscribers: " << posted.status() << "\n";
    if (streams) streams->CancelAndJoin();
    return 1;
  }
  const uint64_t expected = posted->ok_2xx * static_cast<uint64_t>(n);
  // Give the last events time to arrive (as --mode=live).
  const absl::Time drain_until = absl::Now() + absl::Seconds(5);
  while (delivered.load() < expected && absl::Now() < drain_until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu = pid > 0 ? ProcessCpuSeconds(pid) - server_cpu0 : -1;
  const int64_t switches =
      pid > 0 ? ProcessContextSwitches(pid) - switches0 : 0;
  if (streams) streams->CancelAndJoin();
  std::vector<int64_t> samples;
  for (auto& l : latencies) samples.insert(samples.end(), l.begin(), l.end());
  const uint64_t got = delivered.load();
  const Percentiles post = ComputePercentiles(std::move(posted->latencies_ns));
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("subscriptions", n)
      .Add("channels", c)
      .Add("client_threads", absl::GetFlag(FLAGS_client_threads))
      .Add("rate", absl::GetFlag(FLAGS_rate))
      .Add("posted_ok", posted->ok_2xx)
      .Add("posted_non_2xx", posted->non_2xx)
      .Add("post_errors", posted->errors)
      .Add("late_sends", posted->late)
      .Add("achieved_rate",
           posted->seconds > 0 ? posted->sent / posted->seconds : 0.0)
      .Add("expected", expected)
      .Add("delivered", got)
      .Add("missed", expected > got ? expected - got : uint64_t{0})
      .Add("events_per_message",
           messages.load() ? double(got) / messages.load() : 0.0)
      .Add("out_of_order", out_of_order.load())
      .AddPercentilesUs("latency", ComputePercentiles(std::move(samples)))
      .AddPercentilesUs("post_rtt", post)
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu)
      .Add("server_us_per_post", posted->ok_2xx && server_cpu >= 0
                                     ? server_cpu * 1e6 / posted->ok_2xx
                                     : 0.0)
      .Add("server_us_per_delivery",
           got && server_cpu >= 0 ? server_cpu * 1e6 / got : 0.0)
      .Add("server_switches", switches)
      .Add("server_switches_per_delivery",
           got ? static_cast<double>(switches) / got : 0.0);
  std::cout << out.str() << std::endl;
  return got == expected && out_of_order.load() == 0 && posted->non_2xx == 0
             ? 0
             : 1;
}

int Tail(const std::string& target) {
  const int k = absl::GetFlag(FLAGS_subscribers);
  std::vector<std::unique_ptr<v1::EventStream::Stub>> stubs;
  for (int i = 0; i < k; ++i) {
    stubs.push_back(v1::EventStream::NewStub(MakeChannel(target, i)));
  }
  Hub hub;
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int i = 0; i < k; ++i) {
    subs.push_back(std::make_unique<Subscription>(
        hub, Subscription::Options{.request = MakeRequest(v1::ORIGIN_LATEST)}));
    subs.back()->Start(*stubs[i]);
  }
  if (!hub.AwaitReady(k, absl::Seconds(30))) {
    std::cerr << "bench_grpc_subscribers: subscribers not ready: "
              << StatusSummary(subs) << "\n";
    CancelAll(hub, subs);
    return 1;
  }
  if (const std::string path = absl::GetFlag(FLAGS_ready_file); !path.empty()) {
    std::ofstream(path) << "ready\n";
  }
  hub.AwaitDone(k, absl::GetFlag(FLAGS_duration));
  CancelAll(hub, subs);
  uint64_t events = 0, out_of_order = 0, batches = 0;
  for (auto& s : subs) {
    events += s->events();
    batches += s->batches();
    out_of_order += s->out_of_order();
  }
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("subscribers", k)
      .Add("events", events)
      .Add("events_per_subscriber", double(events) / k)
      .Add("events_per_batch", batches ? double(events) / batches : 0.0)
      .Add("out_of_order", out_of_order)
      .Add("statuses", StatusSummary(subs));
  std::cout << out.str() << std::endl;
  return out_of_order == 0 ? 0 : 1;
}

int Info(const std::string& target) {
  auto stub = v1::EventStream::NewStub(MakeChannel(target, 0));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::GetStreamInfoResponse info;
  const grpc::Status status =
      stub->GetStreamInfo(&context, v1::GetStreamInfoRequest(), &info);
  if (!status.ok()) {
    std::cerr << "bench_grpc_subscribers: GetStreamInfo: "
              << status.error_message() << "\n";
    return 1;
  }
  const int pid = absl::GetFlag(FLAGS_server_pid);
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("event_count", static_cast<uint64_t>(info.event_count()))
      .Add("byte_count", static_cast<uint64_t>(info.byte_count()))
      .Add("head_sequence", static_cast<uint64_t>(info.head_sequence()))
      .Add("subscriber_count", static_cast<uint64_t>(info.subscriber_count()))
      .Add("dedup_count", static_cast<uint64_t>(info.dedup_count()))
      .Add("rss_bytes", pid > 0 ? ProcessRssBytes(pid) : int64_t{-1});
  std::cout << out.str() << std::endl;
  return 0;
}

int Main() {
  const std::string target = absl::GetFlag(FLAGS_target);
  if (target.rfind("127.0.0.1:", 0) != 0) {
    std::cerr << "bench_grpc_subscribers: --target must be 127.0.0.1:PORT\n";
    return 2;
  }
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "replay") return Replay(target);
  if (mode == "live") return Live(target);
  if (mode == "many") return Many(target);
  if (mode == "fanout") return Fanout(target);
  if (mode == "tail") return Tail(target);
  if (mode == "info") return Info(target);
  std::cerr << "bench_grpc_subscribers: unknown --mode " << mode << "\n";
  return 2;
}

}  // namespace
}  // namespace hookstream::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil checks every Mutex for lock cycles by default; a load
  // tool has no use for it (the server turns it off as well).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return hookstream::bench::Main();
}
