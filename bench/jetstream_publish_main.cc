// bench_jetstream_publish: the ceiling of JetStream ingest on this machine,
// without hookstream. It publishes what hookstream publishes per webhook
// (one event-sized message with a unique Nats-Msg-Id, Nats-Expected-Stream)
// asynchronously, --in_flight at once (the ingest load's 32 connections), to
// an R1 file-storage stream configured like hookstream's (subjects
// `benchpub.events.>`, a 72 h duplicate window), for --duration, and
// reports acknowledged messages/s with this client's and nats-server's CPU
// per message (/proc/PID/stat before and after). With --follow (default)
// one ordered push consumer also receives every message, as a hookstream
// replica's follower does, so nats-server stores and delivers each once.
//
// The payload is the customer.created body of the ingest workload
// converted by ConvertGettrxEvent and serialized with its raw JSON, the
// size of the event hookstream publishes (its logged form carries the same
// fields); its size is in the output.
//
//   bench_jetstream_publish --url=nats://127.0.0.1:PORT --body_file=B.json \
//     --server_pid=PID [--in_flight=32] [--duration=5s]
// Output: one JSON line on stdout.
#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <iostream>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/loadgen/latency_stats.h"
#include "bench/loadgen/signed_bodies.h"
#include "bench/nats_support.h"
#include "common/conversion/gettrx_converter.h"
#include "hookstream/v1/event.pb.h"

ABSL_FLAG(std::string, url, "", "nats://127.0.0.1:PORT");
ABSL_FLAG(std::string, body_file, "", "template GETTRX body");
ABSL_FLAG(int, in_flight, 32, "publishes awaiting their ack at once");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "publish time");
ABSL_FLAG(int, server_pid, 0, "nats-server's pid, to report its CPU time");
ABSL_FLAG(std::string, stream, "BENCHPUB", "stream (created, R1, file)");
ABSL_FLAG(bool, follow, true,
          "also follow the stream with one ordered push consumer on its own "
          "connection, as every hookstream replica does");
ABSL_FLAG(std::string, label, "", "copied into the JSON line");

namespace hookstream::bench {
namespace {

constexpr char kSubject[] = "benchpub.events.gettrx.customer.created";

struct Counts {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> failed{0};
};

// nats.c's jsPubAckHandler: the handler owns the published message.
void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae,
           void* closure) {
  const jetstream::MsgPtr owned(msg);
  auto* counts = static_cast<Counts*>(closure);
  if (pa != nullptr && pae == nullptr) {
    ++(pa->Duplicate ? counts->duplicates : counts->acked);
  } else {
    ++counts->failed;
  }
}

void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg,
               void* closure) {
  const jetstream::MsgPtr owned(msg);
  ++static_cast<Counts*>(closure)->delivered;
}

int Run() {
  absl::StatusOr<std::string> body =
      ReadFileToString(absl::GetFlag(FLAGS_body_file));
  if (!body.ok()) {
    std::cerr << body.status() << "\n";
    return 1;
  }
  absl::StatusOr<v1::Event> event = ConvertGettrxEvent(*body, absl::Now());
  if (!event.ok()) {
    std::cerr << event.status() << "\n";
    return 1;
  }
  const std::string payload = event->SerializeAsString();

  Counts counts;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 30'000;
  // At most --in_flight unacknowledged: a publish past it waits for an ack,
  // as hookstream's 32 connections each wait for theirs.
  jo.PublishAsync.MaxPending = absl::GetFlag(FLAGS_in_flight);
  jo.PublishAsync.StallWait = 30'000;
  jo.PublishAsync.AckHandler = &OnAck;
  jo.PublishAsync.AckHandlerClosure = &counts;
  absl::StatusOr<NatsClient> client =
      ConnectJetStream(absl::GetFlag(FLAGS_url), jo);
  if (!client.ok()) return Fail(client.status());
  jsCtx* js = client->js.get();

  const std::string stream = absl::GetFlag(FLAGS_stream);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.c_str();
  const char* subjects[] = {"benchpub.events.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = 1;
  cfg.Duplicates = int64_t{72} * 3600 * 1'000'000'000;
  cfg.MaxAge = cfg.Duplicates;
  if (absl::Status added = AddStream(js, cfg); !added.ok()) {
    return Fail(added);
  }

  // The follower: its own connection, like another replica's. Declared
  // after the publishing client, so destroyed before it; its subscription
  // before its connection.
  NatsClient follower;
  jetstream::SubscriptionPtr sub;
  if (absl::GetFlag(FLAGS_follow)) {
    jsOptions fo;
    jsOptions_Init(&fo);
    absl::StatusOr<NatsClient> connected =
        ConnectJetStream(absl::GetFlag(FLAGS_url), fo);
    if (!connected.ok()) return Fail(connected.status());
    follower = *std::move(connected);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    natsSubscription* raw_sub = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus subscribed =
        js_Subscribe(&raw_sub, follower.js.get(), "benchpub.events.>",
                     &OnMessage, &counts, nullptr, &so, &jerr);
    sub.reset(raw_sub);
    NATS_CHECK(subscribed);
  }

  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const double client_cpu0 = ProcessCpuSeconds(0);
  const double server_cpu0 = server_pid > 0 ? ProcessCpuSeconds(server_pid) : 0;
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::GetFlag(FLAGS_duration);
  uint64_t sent = 0;
  while (absl::Now() < end) {
    natsMsg* msg = nullptr;
    NATS_CHECK(natsMsg_Create(&msg, kSubject, nullptr, payload.data(),
                              static_cast<int>(payload.size())));
    const std::string id = absl::StrCat("gettrx:evt_bench_", ++sent);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.ExpectStream = stream.c_str();
    const natsStatus s = js_PublishMsgAsync(js, &msg, &po);
    // Accepted, the library owns the message (and `msg` is null); refused,
    // it is still ours.
    const jetstream::MsgPtr unsent(msg);
    if (s != NATS_OK) ++counts.failed;
  }
  jsPubOptions done;
  jsPubOptions_Init(&done);
  done.MaxWait = 30'000;
  NATS_CHECK(js_PublishAsyncComplete(js, &done));
  // Every acknowledged message also delivered (bounded wait).
  const absl::Time follow_deadline = absl::Now() + absl::Seconds(60);
  while (sub != nullptr && counts.delivered.load() < counts.acked.load() &&
         absl::Now() < follow_deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double client_cpu = ProcessCpuSeconds(0) - client_cpu0;
  const double server_cpu =
      server_pid > 0 ? ProcessCpuSeconds(server_pid) - server_cpu0 : -1;
  const uint64_t acked = counts.acked.load();
  const double per = acked > 0 ? 1e6 / static_cast<double>(acked) : 0;
  std::cout << "{\"tool\":\"bench_jetstream_publish\",\"label\":\""
            << absl::GetFlag(FLAGS_label)
            << "\",\"payload_bytes\":" << payload.size()
            << ",\"in_flight\":" << absl::GetFlag(FLAGS_in_flight)
            << ",\"seconds\":" << seconds << ",\"acked\":" << acked
            << ",\"duplicates\":" << counts.duplicates.load()
            << ",\"failed\":" << counts.failed.load()
            << ",\"delivered\":" << counts.delivered.load()
            << ",\"messages_per_s\":" << static_cast<double>(acked) / seconds
            << ",\"client_cpu_s\":" << client_cpu
            << ",\"client_cpu_us_per_msg\":" << client_cpu * per
            << ",\"server_cpu_s\":" << server_cpu
            << ",\"server_cpu_us_per_msg\":"
            << (server_pid > 0 ? server_cpu * per : -1) << "}\n";
  if (sub != nullptr) natsSubscription_Unsubscribe(sub.get());
  return 0;
}

}  // namespace
}  // namespace hookstream::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int rc = hookstream::bench::Run();
  nats_Close();  // after every handle Run held is destroyed
  return rc;
}
