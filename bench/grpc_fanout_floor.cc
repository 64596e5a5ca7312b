// bench_grpc_fanout_floor: the floor of the many-subscribers workload on this
// machine and this gRPC build, without hookstream's server in the way.
//
// The process forks into a trivial callback server and a minimal client (two
// processes, as in the real workload). The client opens --streams Subscribe
// streams over --channels channels (bench/loadgen/many_streams.h: async API,
// one completion queue per client thread, every message decoded); each
// server stream first writes a small "ready" message. Then, --events times,
// the client asks for one event (a unary GetStreamInfo call), and the server
// writes one pre-serialized SubscribeResponse (one ~500-byte event, the
// customer.created body converted without raw_json) to every stream; the
// event id carries the server's monotonic time when it started, and the
// client times each event until every stream has it.
//
// --mode=live instead: once all streams are ready, the server itself writes
// one event to every stream at --rate for --duration (the live fan-out
// workload's floor: the same ~500-byte message hookstream sends, one event
// per message). Each stream queues at most --max_queue messages behind its
// write in flight; a stream further behind has the newest one dropped and
// counted (`dropped_writes`), and when the fire threads themselves are
// --max_queue events behind the pace, the newest event is dropped for every
// stream (`dropped_events`): a server that falls behind shows as missed
// deliveries rather than as memory. The client times every delivery (server
// send time in the event id → received) and reports missed deliveries.
//
// How the server starts the writes (--fire):
//   thread  --fire_threads threads of its own take the streams one at a
//           time from a shared cursor and call StartWrite (the shape of
//           hookstream's StreamScheduler);
//   alarm   one grpc::Alarm due now per stream, whose callback (on a gRPC
//           executor thread) calls StartWrite: the hand-off hookstream's
//           SubscribeReactor used before (one kick alarm per wake-up).
//
// Output: one JSON line: the server's RSS per idle stream (measured like
// bench_grpc_subscribers --mode=many: before the streams, and 2 s after all
// are ready), reach-all percentiles, CPU seconds of both sides and per
// delivery. Linked with jemalloc when hookstream-server is, so that RSS
// figures compare.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
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
#include "bench/loadgen/many_streams.h"
#include "bench/loadgen/signed_bodies.h"
#include "common/conversion/gettrx_converter.h"
#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

ABSL_FLAG(std::string, mode, "burst",
          "burst (one event at a time, timed until all have it) or live");
ABSL_FLAG(int, streams, 10'000, "Subscribe streams");
ABSL_FLAG(int, channels, 100, "channels (connections) they share");
ABSL_FLAG(int, events, 50, "events, one at a time");
ABSL_FLAG(int, client_threads, 2, "client threads (completion queues)");
ABSL_FLAG(std::string, fire, "thread", "thread or alarm (see the header)");
ABSL_FLAG(int, fire_threads, 4, "server threads starting the writes");
ABSL_FLAG(double, rate, 2000, "live: events per second");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "live: sending time");
ABSL_FLAG(int, max_queue, 64,
          "messages a stream may queue behind its write in flight");
ABSL_FLAG(std::string, body_file, "", "GETTRX body the event is made from");
ABSL_FLAG(std::string, label, "", "copied into the JSON line");

namespace hookstream::bench {
namespace {

namespace v1 = ::hookstream::v1;

grpc::ByteBuffer ToByteBuffer(const google::protobuf::MessageLite& message) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// ---------------------------------------------------------------- server
class FloorHub;

// One stream: one write in flight; messages asked for meanwhile wait in
// `pending_`, at most --max_queue of them (beyond that the newest is dropped
// and counted: a stream that falls behind must not grow the server).
class FloorReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  FloorReactor(FloorHub& hub, const grpc::ByteBuffer& ready);

  // Writes `message` now, or after the writes before it. False when it was
  // dropped (queue full).
  bool Send(const grpc::ByteBuffer& message) {
    {
      absl::MutexLock lock(&mu_);
      if (done_) return true;
      if (writing_) {
        if (pending_.size() >= max_queue_) return false;
        pending_.push_back(message);
        return true;
      }
      writing_ = true;
      buffer_ = message;
    }
    StartWrite(&buffer_);
    return true;
  }

  // --fire=alarm: Send from a gRPC executor thread.
  void SendFromAlarm(const grpc::ByteBuffer& message) {
    {
      absl::MutexLock lock(&mu_);
      if (done_ || alarm_pending_) return;
      alarm_pending_ = true;
      alarm_message_ = message;
      alarm_ = std::make_unique<grpc::Alarm>();
      alarm_->Set(gpr_inf_past(GPR_CLOCK_MONOTONIC), [this](bool) {
        grpc::ByteBuffer message;
        {
          absl::MutexLock lock(&mu_);
          alarm_pending_ = false;
          message = std::move(alarm_message_);
        }
        Send(message);
        MaybeFinish();
      });
    }
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) done_ = true;
      if (!done_ && !pending_.empty()) {
        writing_ = true;
        buffer_ = std::move(pending_.front());
        pending_.pop_front();
      } else {
        pending_.clear();
        buffer_.Clear();  // as hookstream's reactor: idle streams hold none
      }
    }
    if (IsWriting()) {
      StartWrite(&buffer_);
      return;
    }
    MaybeFinish();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    MaybeFinish();
  }

  void OnDone() override;

 private:
  bool IsWriting() {
    absl::MutexLock lock(&mu_);
    return writing_;
  }
  void MaybeFinish() {
    {
      absl::MutexLock lock(&mu_);
      if (!done_ || writing_ || alarm_pending_ || finished_) return;
      finished_ = true;
    }
    Finish(grpc::Status::CANCELLED);
  }

  FloorHub& hub_;
  const size_t max_queue_;
  absl::Mutex mu_;
  bool writing_ = false;
  bool done_ = false;
  bool finished_ = false;
  grpc::ByteBuffer buffer_;
  std::deque<grpc::ByteBuffer> pending_;
  bool alarm_pending_ = false;
  grpc::ByteBuffer alarm_message_;
  std::unique_ptr<grpc::Alarm> alarm_;
};

// Live streams, the events to send, and the threads that send them. Each
// event is one batch: the fire threads take its streams one at a time from a
// shared cursor (like hookstream's StreamScheduler threads taking posted
// streams from one queue). Batches wait in a FIFO and one is started only
// when every write of the one before was started, so no event is skipped and
// each stream gets them in order.
class FloorHub {
 public:
  FloorHub(std::string fire, int fire_threads, v1::Event event)
      : fire_(std::move(fire)), event_(std::move(event)) {
    v1::SubscribeResponse ready;
    ready.mutable_heartbeat()->set_position(0);
    ready_ = ToByteBuffer(ready);
    for (int i = 0; i < std::max(1, fire_threads); ++i) {
      threads_.emplace_back([this] { FireLoop(); });
    }
  }
  ~FloorHub() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (pacer_.joinable()) pacer_.join();
    for (auto& t : threads_) t.join();
  }

  const grpc::ByteBuffer& ready() const { return ready_; }

  void Add(FloorReactor* r) {
    absl::MutexLock lock(&mu_);
    streams_.push_back(r);
  }
  void Remove(FloorReactor* r) {
    absl::MutexLock lock(&mu_);
    // Not while a fire thread walks a batch (it holds no lock meanwhile).
    mu_.Await(absl::Condition(
        +[](int* walking) { return *walking == 0; }, &walking_));
    streams_.erase(std::find(streams_.begin(), streams_.end(), r));
  }

  // One event to every stream, started now (after the batches before it).
  void Fire() {
    absl::MutexLock lock(&mu_);
    FireLocked();
  }

  // --mode=live: events at `rate` for `duration` from a thread of its own;
  // the first call starts it, later ones do nothing.
  void StartPacing(double rate, absl::Duration duration) {
    absl::MutexLock lock(&mu_);
    if (pacer_.joinable()) return;
    planned_ = static_cast<uint64_t>(absl::ToDoubleSeconds(duration) * rate);
    pacer_ = std::thread([this, rate] { PaceLoop(rate); });
  }

  struct Stats {
    uint64_t planned = 0;
    uint64_t fired = 0;
    uint64_t late = 0;
    uint64_t dropped_writes = 0;
    uint64_t dropped_events = 0;
    bool pacing_done = false;
  };
  Stats stats() {
    absl::MutexLock lock(&mu_);
    return {.planned = planned_,
            .fired = sequence_,
            .late = late_,
            .dropped_writes = dropped_writes_.load(),
            .dropped_events = dropped_events_,
            .pacing_done = pacing_done_};
  }

 private:
  struct Batch {
    grpc::ByteBuffer message;
    std::vector<FloorReactor*> streams;
    std::atomic<size_t> next{0};
    size_t sent = 0;  // guarded by the hub's mu_
  };

  void FireLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::SubscribeResponse response;
    v1::Event& event = *response.mutable_events()->add_events();
    event = event_;
    event.set_sequence(++sequence_);
    event.set_id(TimestampedEventId(MonotonicNowNs()));
    // The fire threads are behind by a whole queue's worth of events: drop
    // this one for every stream (its sequence is skipped, so the client
    // sees the gap) rather than let the server grow.
    if (batches_.size() >= static_cast<size_t>(std::max(
                               1, absl::GetFlag(FLAGS_max_queue)))) {
      ++dropped_events_;
      dropped_writes_.fetch_add(streams_.size());
      return;
    }
    auto batch = std::make_shared<Batch>();
    batch->message = ToByteBuffer(response);
    batch->streams = streams_;
    batches_.push_back(std::move(batch));
  }

  void PaceLoop(double rate) {
    const auto interval_ns = static_cast<int64_t>(1e9 / std::max(rate, 1.0));
    const int64_t start_ns = MonotonicNowNs();
    for (uint64_t i = 0;; ++i) {
      const int64_t due = start_ns + static_cast<int64_t>(i) * interval_ns;
      {
        absl::MutexLock lock(&mu_);
        if (stop_ || i >= planned_) {
          pacing_done_ = true;
          return;
        }
      }
      if (MonotonicNowNs() < due) {
        std::this_thread::sleep_until(std::chrono::steady_clock::time_point(
            std::chrono::nanoseconds(due)));
      } else if (i > 0) {
        absl::MutexLock lock(&mu_);
        ++late_;
      }
      Fire();
    }
  }

  void FireLoop() {
    for (;;) {
      std::shared_ptr<Batch> batch;
      {
        absl::MutexLock lock(&mu_);
        // The front batch while it still has streams to take.
        auto next = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return stop_ ||
                 (!batches_.empty() && batches_.front()->next.load() <
                                           batches_.front()->streams.size());
        };
        mu_.Await(absl::Condition(&next));
        if (stop_) return;
        batch = batches_.front();
        ++walking_;
      }
      size_t sent = 0;
      uint64_t dropped = 0;
      for (size_t i = batch->next.fetch_add(1); i < batch->streams.size();
           i = batch->next.fetch_add(1)) {
        if (fire_ == "alarm") {
          batch->streams[i]->SendFromAlarm(batch->message);
        } else if (!batch->streams[i]->Send(batch->message)) {
          ++dropped;
        }
        ++sent;
      }
      dropped_writes_.fetch_add(dropped);
      absl::MutexLock lock(&mu_);
      --walking_;
      batch->sent += sent;
      if (batch->sent == batch->streams.size() && !batches_.empty() &&
          batches_.front() == batch) {
        batches_.pop_front();
      }
    }
  }

  const std::string fire_;
  const v1::Event event_;
  grpc::ByteBuffer ready_;
  absl::Mutex mu_;
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<FloorReactor*> streams_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Batch>> batches_ ABSL_GUARDED_BY(mu_);
  int walking_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t planned_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t late_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_events_ ABSL_GUARDED_BY(mu_) = 0;
  bool pacing_done_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> dropped_writes_{0};
  std::thread pacer_;
  std::vector<std::thread> threads_;
};

FloorReactor::FloorReactor(FloorHub& hub, const grpc::ByteBuffer& ready)
    : hub_(hub), max_queue_(std::max(1, absl::GetFlag(FLAGS_max_queue))) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = true;
    buffer_ = ready;
  }
  StartWrite(&buffer_);
  hub_.Add(this);
}

void FloorReactor::OnDone() {
  hub_.Remove(this);
  delete this;
}

class FloorService final
    : public v1::EventStream::WithRawCallbackMethod_Subscribe<
          v1::EventStream::CallbackService> {
 public:
  explicit FloorService(FloorHub& hub) : hub_(hub) {}

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(
      grpc::CallbackServerContext*, const grpc::ByteBuffer*) override {
    return new FloorReactor(hub_, hub_.ready());
  }
  // --mode=burst: the client's "send the next event". --mode=live: starts
  // the pacing, and answers with its progress in these fields: event_count
  // events planned, head_sequence events sent, dedup_count writes dropped,
  // oldest_sequence events dropped, byte_count late sends, subscriber_count 1
  // once the pacing is over.
  grpc::ServerUnaryReactor* GetStreamInfo(
      grpc::CallbackServerContext* context, const v1::GetStreamInfoRequest*,
      v1::GetStreamInfoResponse* info) override {
    if (absl::GetFlag(FLAGS_mode) == "live") {
      hub_.StartPacing(absl::GetFlag(FLAGS_rate),
                       absl::GetFlag(FLAGS_duration));
      const FloorHub::Stats stats = hub_.stats();
      info->set_event_count(stats.planned);
      info->set_head_sequence(stats.fired);
      info->set_dedup_count(stats.dropped_writes);
      info->set_byte_count(stats.late);
      info->set_subscriber_count(stats.pacing_done ? 1 : 0);
      info->set_oldest_sequence(stats.dropped_events);
    } else {
      hub_.Fire();
    }
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  FloorHub& hub_;
};

int RunServer(int port_fd, v1::Event event) {
  FloorHub hub(absl::GetFlag(FLAGS_fire), absl::GetFlag(FLAGS_fire_threads),
               std::move(event));
  FloorService service(hub);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (write(port_fd, &port, sizeof(port)) != sizeof(port)) return 1;
  close(port_fd);
  // Runs until the client kills this process.
  server->Wait();
  return 0;
}

// ---------------------------------------------------------------- client
int RunClient(int port, pid_t server_pid) {
  const int n = absl::GetFlag(FLAGS_streams);
  std::vector<uint8_t> ready(n, 0);
  std::atomic<int> ready_count{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> out_of_order{0};
  std::vector<uint64_t> last_sequence(n, 0);
  // Set by the delivery that completes an event.
  absl::Mutex mu;
  uint64_t target = 0;
  int64_t completed_ns = 0;
  int64_t send_ns = 0;

  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_LATEST);
  ManyStreams streams(
      {.target = absl::StrCat("127.0.0.1:", port),
       .streams = n,
       .channels = absl::GetFlag(FLAGS_channels),
       .threads = absl::GetFlag(FLAGS_client_threads),
       .request = request},
      [&](int i, const v1::SubscribeResponse& r, int64_t now) {
        if (r.has_heartbeat()) {
          if (!ready[i]) {
            ready[i] = 1;
            ready_count.fetch_add(1);
          }
          return;
        }
        uint64_t got = 0;
        int64_t sent = 0;
        for (const v1::Event& e : r.events().events()) {
          if (last_sequence[i] != 0 && e.sequence() != last_sequence[i] + 1) {
            out_of_order.fetch_add(1);
          }
          last_sequence[i] = e.sequence();
          sent = SendTimeFromEventId(e.id());
          ++got;
        }
        if (got == 0) return;
        const uint64_t total = delivered.fetch_add(got) + got;
        absl::MutexLock lock(&mu);
        if (total >= target && completed_ns == 0) {
          completed_ns = now;
          send_ns = sent;
        }
      });
  const int64_t rss_before = ProcessRssBytes(server_pid);
  streams.Start();
  const absl::Time ready_by = absl::Now() + absl::Seconds(120);
  while (ready_count.load() < n && absl::Now() < ready_by) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (ready_count.load() < n) {
    std::cerr << "bench_grpc_fanout_floor: streams not ready: "
              << ready_count.load() << " of " << n << "\n";
    kill(server_pid, SIGKILL);
    return 1;
  }
  absl::SleepFor(absl::Seconds(2));  // as bench_grpc_subscribers --mode=many
  const int64_t rss_idle = ProcessRssBytes(server_pid);
  auto stub = v1::EventStream::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  std::vector<int64_t> reach_all_ns;
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = ProcessCpuSeconds(server_pid);
  const int events = absl::GetFlag(FLAGS_events);
  for (int e = 0; e < events; ++e) {
    {
      absl::MutexLock lock(&mu);
      target = static_cast<uint64_t>(n) * (e + 1);
      completed_ns = 0;
    }
    grpc::ClientContext context;
    v1::GetStreamInfoResponse info;
    if (!stub->GetStreamInfo(&context, v1::GetStreamInfoRequest(), &info)
             .ok()) {
      break;
    }
    absl::MutexLock lock(&mu);
    auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) {
      return completed_ns != 0;
    };
    if (!mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10))) {
      break;
    }
    reach_all_ns.push_back(completed_ns - send_ns);
  }
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu = ProcessCpuSeconds(server_pid) - server_cpu0;
  kill(server_pid, SIGKILL);
  waitpid(server_pid, nullptr, 0);
  streams.CancelAndJoin();
  const uint64_t deliveries = static_cast<uint64_t>(n) * reach_all_ns.size();
  const Percentiles p = ComputePercentiles(reach_all_ns);
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("streams", n)
      .Add("channels", absl::GetFlag(FLAGS_channels))
      .Add("client_threads", absl::GetFlag(FLAGS_client_threads))
      .Add("fire", absl::GetFlag(FLAGS_fire))
      .Add("fire_threads", absl::GetFlag(FLAGS_fire_threads))
      .Add("server_bytes_per_idle_stream",
           rss_before > 0 && rss_idle > 0 ? double(rss_idle - rss_before) / n
                                          : -1.0)
      .Add("events_timed", static_cast<uint64_t>(reach_all_ns.size()))
      .Add("delivered", delivered.load())
      .Add("out_of_order", out_of_order.load())
      .AddPercentilesUs("reach_all", p)
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu)
      .Add("client_us_per_delivery",
           deliveries ? client_cpu * 1e6 / deliveries : 0.0)
      .Add("server_us_per_delivery",
           deliveries ? server_cpu * 1e6 / deliveries : 0.0);
  std::cout << out.str() << std::endl;
  return reach_all_ns.size() == static_cast<size_t>(events) ? 0 : 1;
}

// --mode=live: every stream at the head; the server sends at --rate for
// --duration; every delivery is timed from the server's send to its receipt.
int RunLiveClient(int port, pid_t server_pid) {
  const int n = absl::GetFlag(FLAGS_streams);
  // Per stream, touched only by the client thread that reads it.
  std::vector<uint8_t> ready(n, 0);
  std::vector<uint64_t> last_sequence(n, 0);
  std::vector<std::vector<int64_t>> latencies(n);
  std::atomic<int> ready_count{0};
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> out_of_order{0};
  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_LATEST);
  ManyStreams streams(
      {.target = absl::StrCat("127.0.0.1:", port),
       .streams = n,
       .channels = absl::GetFlag(FLAGS_channels),
       .threads = absl::GetFlag(FLAGS_client_threads),
       .request = request},
      [&](int i, const v1::SubscribeResponse& r, int64_t now) {
        if (r.has_heartbeat()) {
          if (!ready[i]) {
            ready[i] = 1;
            ready_count.fetch_add(1);
          }
          return;
        }
        uint64_t got = 0;
        for (const v1::Event& e : r.events().events()) {
          if (e.sequence() != last_sequence[i] + 1 && last_sequence[i] != 0) {
            out_of_order.fetch_add(1);
          }
          last_sequence[i] = e.sequence();
          const int64_t sent = SendTimeFromEventId(e.id());
          if (sent > 0) latencies[i].push_back(now - sent);
          ++got;
        }
        delivered.fetch_add(got);
      });
  streams.Start();
  const absl::Time ready_by = absl::Now() + absl::Seconds(120);
  while (ready_count.load() < n && absl::Now() < ready_by) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (ready_count.load() < n) {
    std::cerr << "bench_grpc_fanout_floor: streams not ready: "
              << ready_count.load() << " of " << n << "\n";
    kill(server_pid, SIGKILL);
    waitpid(server_pid, nullptr, 0);
    streams.CancelAndJoin();
    return 1;
  }
  auto stub = v1::EventStream::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  auto poll = [&](v1::GetStreamInfoResponse* info) {
    grpc::ClientContext context;
    return stub->GetStreamInfo(&context, v1::GetStreamInfoRequest(), info).ok();
  };
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = ProcessCpuSeconds(server_pid);
  const int64_t switches0 = ProcessContextSwitches(server_pid);
  v1::GetStreamInfoResponse info;
  bool ok = poll(&info);  // starts the pacing
  const absl::Time pacing_by =
      absl::Now() + absl::GetFlag(FLAGS_duration) + absl::Seconds(30);
  while (ok && info.subscriber_count() == 0 && absl::Now() < pacing_by) {
    absl::SleepFor(absl::Milliseconds(20));
    ok = poll(&info);
  }
  // Give the last events time to arrive, as bench_grpc_subscribers does.
  const uint64_t expected = info.head_sequence() * static_cast<uint64_t>(n);
  const absl::Time drain_until = absl::Now() + absl::Seconds(5);
  while (delivered.load() < expected && absl::Now() < drain_until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu = ProcessCpuSeconds(server_pid) - server_cpu0;
  const int64_t switches = ProcessContextSwitches(server_pid) - switches0;
  if (ok) ok = poll(&info);  // the dropped writes, counted by now
  kill(server_pid, SIGKILL);
  waitpid(server_pid, nullptr, 0);
  streams.CancelAndJoin();
  std::vector<int64_t> samples;
  for (auto& l : latencies) samples.insert(samples.end(), l.begin(), l.end());
  const uint64_t got = delivered.load();
  JsonLine out;
  out.Add("label", absl::GetFlag(FLAGS_label))
      .Add("mode", "live")
      .Add("streams", n)
      .Add("channels", absl::GetFlag(FLAGS_channels))
      .Add("client_threads", absl::GetFlag(FLAGS_client_threads))
      .Add("fire", absl::GetFlag(FLAGS_fire))
      .Add("fire_threads", absl::GetFlag(FLAGS_fire_threads))
      .Add("rate", absl::GetFlag(FLAGS_rate))
      .Add("events_planned", static_cast<uint64_t>(info.event_count()))
      .Add("events_sent", static_cast<uint64_t>(info.head_sequence()))
      .Add("late_sends", static_cast<uint64_t>(info.byte_count()))
      .Add("dropped_writes", static_cast<uint64_t>(info.dedup_count()))
      .Add("dropped_events", static_cast<uint64_t>(info.oldest_sequence()))
      .Add("expected", expected)
      .Add("delivered", got)
      .Add("missed", expected > got ? expected - got : uint64_t{0})
      .Add("out_of_order", out_of_order.load())
      .AddPercentilesUs("latency", ComputePercentiles(std::move(samples)))
      .Add("client_cpu_s", client_cpu)
      .Add("server_cpu_s", server_cpu)
      .Add("client_us_per_delivery", got ? client_cpu * 1e6 / got : 0.0)
      .Add("server_us_per_delivery", got ? server_cpu * 1e6 / got : 0.0)
      .Add("server_switches_per_delivery",
           got ? static_cast<double>(switches) / got : 0.0);
  std::cout << out.str() << std::endl;
  return ok && got == expected && out_of_order.load() == 0 ? 0 : 1;
}

int Main() {
  auto body = ReadFileToString(absl::GetFlag(FLAGS_body_file));
  if (!body.ok()) {
    std::cerr << "bench_grpc_fanout_floor: " << body.status() << "\n";
    return 2;
  }
  auto event = ConvertGettrxEvent(*body, absl::Now());
  if (!event.ok()) {
    std::cerr << "bench_grpc_fanout_floor: " << event.status() << "\n";
    return 2;
  }
  event->clear_raw_json();
  event->set_stream_epoch("floor");
  // Forked before gRPC starts any thread in this process.
  int fds[2];
  if (pipe(fds) != 0) return 2;
  const pid_t child = fork();
  if (child < 0) return 2;
  if (child == 0) {
    close(fds[0]);
    _exit(RunServer(fds[1], *std::move(event)));
  }
  close(fds[1]);
  int port = 0;
  if (read(fds[0], &port, sizeof(port)) != sizeof(port) || port == 0) {
    std::cerr << "bench_grpc_fanout_floor: server did not start\n";
    kill(child, SIGKILL);
    return 1;
  }
  return absl::GetFlag(FLAGS_mode) == "live" ? RunLiveClient(port, child)
                                             : RunClient(port, child);
}

}  // namespace
}  // namespace hookstream::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return hookstream::bench::Main();
}
