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
#include <cstdio>
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

ABSL_FLAG(int, streams, 10'000, "Subscribe streams");
ABSL_FLAG(int, channels, 100, "channels (connections) they share");
ABSL_FLAG(int, events, 50, "events, one at a time");
ABSL_FLAG(int, client_threads, 2, "client threads (completion queues)");
ABSL_FLAG(std::string, fire, "thread", "thread or alarm (see the header)");
ABSL_FLAG(int, fire_threads, 4, "server threads starting the writes");
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

// One stream: one write in flight; a write asked for meanwhile waits in
// `pending_` (the newest wins).
class FloorReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  FloorReactor(FloorHub& hub, const grpc::ByteBuffer& ready);

  // Writes `message` now, or after the write in flight.
  void Send(const grpc::ByteBuffer& message) {
    {
      absl::MutexLock lock(&mu_);
      if (done_) return;
      if (writing_) {
        pending_ = message;
        has_pending_ = true;
        return;
      }
      writing_ = true;
      buffer_ = message;
    }
    StartWrite(&buffer_);
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
      if (!done_ && has_pending_) {
        has_pending_ = false;
        writing_ = true;
        buffer_ = std::move(pending_);
      } else {
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
  absl::Mutex mu_;
  bool writing_ = false;
  bool done_ = false;
  bool finished_ = false;
  bool has_pending_ = false;
  grpc::ByteBuffer buffer_;
  grpc::ByteBuffer pending_;
  bool alarm_pending_ = false;
  grpc::ByteBuffer alarm_message_;
  std::unique_ptr<grpc::Alarm> alarm_;
};

// Live streams, the event to send, and the threads that send it. Each event
// is one batch: the fire threads take its streams one at a time from a shared
// cursor (like hookstream's StreamScheduler threads taking posted streams
// from one queue).
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

  // One event to every stream, started now.
  void Fire() {
    absl::MutexLock lock(&mu_);
    v1::SubscribeResponse response;
    v1::Event& event = *response.mutable_events()->add_events();
    event = event_;
    event.set_sequence(++sequence_);
    event.set_id(TimestampedEventId(MonotonicNowNs()));
    auto batch = std::make_shared<Batch>();
    batch->message = ToByteBuffer(response);
    batch->streams = streams_;
    batch_ = std::move(batch);
    ++generation_;
  }

 private:
  struct Batch {
    grpc::ByteBuffer message;
    std::vector<FloorReactor*> streams;
    std::atomic<size_t> next{0};
  };

  void FireLoop() {
    uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Batch> batch;
      {
        absl::MutexLock lock(&mu_);
        auto next = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return stop_ || generation_ != seen;
        };
        mu_.Await(absl::Condition(&next));
        if (stop_) return;
        seen = generation_;
        batch = batch_;
        ++walking_;
      }
      for (size_t i = batch->next.fetch_add(1); i < batch->streams.size();
           i = batch->next.fetch_add(1)) {
        if (fire_ == "alarm") {
          batch->streams[i]->SendFromAlarm(batch->message);
        } else {
          batch->streams[i]->Send(batch->message);
        }
      }
      absl::MutexLock lock(&mu_);
      --walking_;
    }
  }

  const std::string fire_;
  const v1::Event event_;
  grpc::ByteBuffer ready_;
  absl::Mutex mu_;
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<FloorReactor*> streams_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Batch> batch_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int walking_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

FloorReactor::FloorReactor(FloorHub& hub, const grpc::ByteBuffer& ready)
    : hub_(hub) {
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
  // The client's "send the next event".
  grpc::ServerUnaryReactor* GetStreamInfo(grpc::CallbackServerContext* context,
                                          const v1::GetStreamInfoRequest*,
                                          v1::GetStreamInfoResponse*) override {
    hub_.Fire();
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
  return RunClient(port, child);
}

}  // namespace
}  // namespace hookstream::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return hookstream::bench::Main();
}
