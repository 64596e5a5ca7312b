// End-to-end tests of --backend=jetstream (docs/scale-out.md): the real
// hookstream-server binary against real nats-servers that the tests start
// on ephemeral loopback ports (one node, or a three-node cluster with R3),
// each behind a forwarder so that a node stopped and started again keeps
// its address.
#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/subscriber.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/delivery_validator.h"
#include "tests/testing/https_client.h"
#include "tests/testing/nats_server.h"
#include "tests/testing/process_runner.h"
#include "tests/testing/watched_process.h"

namespace hookstream {
namespace {

using testing::DeliveryLog;
using ::testing::HasSubstr;
using testing::HttpResult;
using testing::HttpsClient;
using ::testing::IsEmpty;
using testing::MetricValue;
using testing::NatsServer;
using ::testing::Not;
using testing::PromtoolCheck;
using testing::Seed;
using testing::ServerProcess;
using testing::Signature;
using testing::StreamEvent;
using testing::UniqueEvent;
using v1::SubscribeRequest;
using v1::SubscribeResponse;

// The sequence of a 200's body {"sequence":N,"duplicate":…}; 0 otherwise.
uint64_t SequenceOf(const std::string& body) {
  const std::string key = "\"sequence\":";
  const size_t at = body.find(key);
  if (at == std::string::npos) return 0;
  const size_t end = body.find(',', at);
  uint64_t sequence = 0;
  if (!absl::SimpleAtoi(body.substr(at + key.size(), end - at - key.size()),
                        &sequence)) {
    return 0;
  }
  return sequence;
}

// The sample `series` (name with its labels, exactly as written), or -1.
// One hookstream replica: the real binary in its own directory, with its
// gRPC stub and an HTTPS client.
struct Replica {
  std::string dir;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::EventStream::Stub> stub;

  HttpResult Post(const std::string& body) {
    HttpsClient https(process->ca_file(), process->ingress_port());
    return https.Post("/v1/webhooks/gettrx", body,
                      {"x-webhook-signature: " + Signature(body)});
  }

  v1::GetStreamInfoResponse Info() {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStreamInfoResponse info;
    const grpc::Status s = stub->GetStreamInfo(&ctx, {}, &info);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return info;
  }

  // GET /metrics on the admin listener.
  std::string Scrape() {
    const HttpResult r =
        testing::HttpRequest("GET", process->admin_url("/metrics"));
    EXPECT_EQ(r.status, 200) << r.error;
    return r.body;
  }

  // Every held event, in order, raw JSON included.
  std::vector<v1::Event> ListAll() {
    return testing::ListAllEvents(*stub, /*include_raw_json=*/true);
  }
};

class JetStreamE2eTest : public testing::E2eFixture {
 protected:
  void TearDown() override {
    replicas_.clear();  // the replicas before their log
    nats_.clear();
    E2eFixture::TearDown();
  }

  NatsServer* StartNats(NatsServer::Options options = {}) {
    // A directory never used before: a cluster started after another one
    // was cleared must not find the earlier stream in its store.
    absl::StatusOr<std::unique_ptr<NatsServer>> nats = NatsServer::Start(
        absl::StrCat(dir_, "/nats-", ++nats_started_), std::move(options));
    EXPECT_TRUE(nats.ok()) << nats.status();
    if (!nats.ok()) return nullptr;
    nats_.push_back(*std::move(nats));
    return nats_.back().get();
  }

  std::string NatsUrls() const {
    std::vector<std::string> urls;
    for (const auto& n : nats_) urls.push_back(n->url());
    return absl::StrJoin(urls, ",");
  }

  std::vector<std::string> JetStreamFlags(std::vector<std::string> extra) {
    std::vector<std::string> flags = {"--backend=jetstream",
                                      "--nats_url=" + NatsUrls(),
                                      "--ring_max_events=1000000"};
    for (std::string& f : extra) flags.push_back(std::move(f));
    return flags;
  }

  // Makes the directories of replicas 0..n-1.
  void PrepareReplicas(size_t n) {
    while (replicas_.size() < n) {
      replicas_.push_back(std::make_unique<Replica>());
      replicas_.back()->dir =
          absl::StrCat(dir_, "/replica-", replicas_.size() - 1);
      std::filesystem::create_directories(replicas_.back()->dir);
    }
  }

  // Starts (or restarts, in its directory) replica `index`.
  absl::Status StartReplica(size_t index, std::vector<std::string> flags) {
    PrepareReplicas(index + 1);
    Replica& r = *replicas_[index];
    absl::StatusOr<ServerProcess> p =
        ServerProcess::Start(r.dir, {.flags = JetStreamFlags(flags)});
    if (!p.ok()) return p.status();
    r.process = std::make_unique<ServerProcess>(*std::move(p));
    r.stub = v1::EventStream::NewStub(grpc::CreateChannel(
        r.process->grpc_target(), grpc::InsecureChannelCredentials()));
    return absl::OkStatus();
  }

  // promtool's verdict on an exposition (its exit status checked).
  std::string Promtool(const std::string& text) {
    return PromtoolCheck(HOOKSTREAM_PROMTOOL, dir_, text);
  }

  // Scrapes `replica` until `series` has `value` (the stream-info poller
  // runs on its own schedule), bounded; returns the last scrape.
  std::string ScrapeUntil(Replica& replica, const std::string& series,
                          double value) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::string text = replica.Scrape();
    while (MetricValue(text, series) != value && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));  // polling a poller
      text = replica.Scrape();
    }
    return text;
  }

  // Starts a three-node cluster (routes to the nodes before) and waits,
  // bounded, for its JetStream metadata leader, which creating a stream
  // needs.
  bool StartCluster() {
    NatsServer* n1 = StartNats({.name = "n1", .cluster = "c1"});
    if (n1 == nullptr) return false;
    NatsServer* n2 = StartNats(
        {.name = "n2", .cluster = "c1", .routes = {n1->cluster_url()}});
    if (n2 == nullptr) return false;
    NatsServer* n3 =
        StartNats({.name = "n3",
                   .cluster = "c1",
                   .routes = {n1->cluster_url(), n2->cluster_url()}});
    if (n3 == nullptr) return false;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      for (const auto& n : nats_) {
        if (n->WaitForLog("new metadata leader", absl::Milliseconds(30)) ||
            n->WaitForLog("new JetStream cluster metadata leader",
                          absl::Milliseconds(30))) {
          return true;
        }
      }
    }
    ADD_FAILURE() << "no JetStream metadata leader";
    return false;
  }

  // Starts replicas 0 and 1 at the same time (both may find no stream and
  // create it).
  absl::Status StartTwoTogether(const std::vector<std::string>& flags) {
    PrepareReplicas(2);
    absl::Status started_b;
    std::thread b_thread([&] { started_b = StartReplica(1, flags); });
    absl::Status started_a = StartReplica(0, flags);
    b_thread.join();
    if (!started_a.ok()) return started_a;
    return started_b;
  }

  std::vector<std::unique_ptr<NatsServer>> nats_;
  int nats_started_ = 0;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

// Verifies the JetStream series on /metrics after webhooks (new ones and a
// duplicate): the replica's applied sequence against the stream's, the
// stream's state from the poller, the publishes by result, and that the
// exposition passes promtool.
TEST_F(JetStreamE2eTest, MetricsReportTheStreamAndThePublishes) {
  ASSERT_NE(StartNats(), nullptr);
  ASSERT_TRUE(StartReplica(0, {"--nats_stream_info_interval=200ms"}).ok());
  Replica& a = *replicas_[0];
  const std::string before = a.Scrape();
  EXPECT_THAT(Promtool(before), Not(HasSubstr("problem")));
  EXPECT_EQ(MetricValue(before, "hookstream_jetstream_applied_sequence"), 0);

  const std::string seed = Seed("customer.created.json");
  for (uint64_t n = 1; n <= 3; ++n) {
    ASSERT_EQ(a.Post(UniqueEvent(seed, n)).status, 200);
  }
  const HttpResult dup = a.Post(UniqueEvent(seed, 2));
  ASSERT_EQ(dup.status, 200);
  EXPECT_THAT(dup.body, HasSubstr("\"duplicate\":true"));

  const std::string after =
      ScrapeUntil(a, "hookstream_jetstream_stream_messages", 3);
  EXPECT_THAT(Promtool(after), Not(HasSubstr("problem")));
  EXPECT_EQ(MetricValue(after, "hookstream_jetstream_stream_messages"), 3);
  EXPECT_EQ(MetricValue(after, "hookstream_jetstream_applied_sequence"), 3);
  EXPECT_EQ(MetricValue(after, "hookstream_jetstream_stream_last_sequence"), 3);
  EXPECT_EQ(MetricValue(after, "hookstream_jetstream_stream_first_sequence"),
            1);
  EXPECT_GT(MetricValue(after, "hookstream_jetstream_stream_bytes"), 3 * 100);
  EXPECT_GE(
      MetricValue(after,
                  "hookstream_jetstream_stream_oldest_message_age_seconds"),
      0);
  EXPECT_GE(MetricValue(after, "hookstream_jetstream_stream_info_age_seconds"),
            0);
  EXPECT_EQ(MetricValue(after, "hookstream_jetstream_dedup_window_seconds"),
            72 * 3600);
  EXPECT_EQ(
      MetricValue(after,
                  "hookstream_jetstream_history_shorter_than_dedup_window"),
      0);
  EXPECT_EQ(MetricValue(after, "hookstream_jetstream_identity_differs"), 0);
  EXPECT_EQ(
      MetricValue(after,
                  "hookstream_jetstream_publishes_total{result=\"acked\"}"),
      3);
  EXPECT_EQ(
      MetricValue(after,
                  "hookstream_jetstream_publishes_total{result=\"duplicate\"}"),
      1);
  EXPECT_EQ(
      MetricValue(after,
                  "hookstream_jetstream_publishes_total{result=\"failed\"}"),
      0);
  EXPECT_EQ(MetricValue(after, "hookstream_jetstream_publish_retries_total"),
            0);
  EXPECT_EQ(MetricValue(after, "hookstream_jetstream_follower_applied_total"),
            3);

  // A second replica applies the same stream: it reports the same
  // sequences and publishes nothing itself.
  ASSERT_TRUE(StartReplica(1, {"--nats_stream_info_interval=200ms"}).ok());
  const std::string b =
      ScrapeUntil(*replicas_[1], "hookstream_jetstream_applied_sequence", 3);
  EXPECT_EQ(MetricValue(b, "hookstream_jetstream_applied_sequence"), 3);
  EXPECT_EQ(MetricValue(b, "hookstream_jetstream_stream_last_sequence"), 3);
  EXPECT_EQ(
      MetricValue(b, "hookstream_jetstream_publishes_total{result=\"acked\"}"),
      0);
}

// Verifies the warning issue 10 asks for: a stream that dropped messages
// (--nats_max_msgs) younger than its duplicate window reports
// history_shorter_than_dedup_window 1 and says so in the log.
TEST_F(JetStreamE2eTest, MetricsWarnWhenTheStreamKeepsLessThanTheDedupWindow) {
  ASSERT_NE(StartNats(), nullptr);
  ASSERT_TRUE(StartReplica(
                  0, {"--nats_stream_info_interval=200ms", "--nats_max_msgs=2"})
                  .ok());
  Replica& a = *replicas_[0];
  const std::string seed = Seed("customer.created.json");
  for (uint64_t n = 1; n <= 3; ++n) {
    ASSERT_EQ(a.Post(UniqueEvent(seed, n)).status, 200);
  }
  const std::string text = ScrapeUntil(
      a, "hookstream_jetstream_history_shorter_than_dedup_window", 1);
  EXPECT_EQ(MetricValue(
                text, "hookstream_jetstream_history_shorter_than_dedup_window"),
            1);
  EXPECT_EQ(MetricValue(text, "hookstream_jetstream_stream_first_sequence"), 2);
  EXPECT_EQ(MetricValue(text, "hookstream_jetstream_stream_messages"), 2);
  EXPECT_THAT(Promtool(text), Not(HasSubstr("problem")));
  // The poller logged the warning before it published the snapshot.
  EXPECT_THAT(
      testing::ReadFile(a.process->log_file()),
      HasSubstr("jetstream stream keeps less than its duplicate window"));
}

// Verifies the start-up refusal of a nats-server whose max_payload (its
// default 1 MB) cannot hold hookstream's largest event, naming the setting.
TEST_F(JetStreamE2eTest, RefusesAServerWhoseMaxPayloadIsTooSmall) {
  ASSERT_NE(StartNats({.max_payload = 1 << 20}), nullptr);
  absl::Status started = StartReplica(0, {});
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.message(), HasSubstr("(setting: max_payload)"));
  // Within it, the same server is fine.
  EXPECT_TRUE(StartReplica(0, {"--max_event_bytes=900000"}).ok());
}

// Verifies that while JetStream does not answer (its server stopped) a
// webhook gets 503 with Retry-After once --nats_publish_timeout has passed,
// and that after the server is back on its store the provider's retry is
// kept exactly once: the stream holds each event once, in order.
TEST_F(JetStreamE2eTest, StoppedNatsAnswers503ThenTheRetryIsKeptOnce) {
  NatsServer* nats = StartNats();
  ASSERT_NE(nats, nullptr);
  ASSERT_TRUE(StartReplica(0, {"--nats_publish_timeout=2s"}).ok());
  Replica& a = *replicas_[0];
  const std::string seed = Seed("customer.created.json");
  ASSERT_EQ(a.Post(UniqueEvent(seed, 1)).body,
            "{\"sequence\":1,\"duplicate\":false}");

  ASSERT_TRUE(nats->Stop().ok());
  const HttpResult refused = a.Post(UniqueEvent(seed, 2));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_FALSE(refused.header("retry-after").empty());
  ASSERT_TRUE(nats->Restart().ok());

  // The provider retries until it gets its 200 (the replica reconnects).
  HttpResult retried;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  do {
    retried = a.Post(UniqueEvent(seed, 2));
  } while (retried.status != 200 && absl::Now() < deadline);
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(SequenceOf(retried.body), 2u) << retried.body;
  EXPECT_EQ(a.Post(UniqueEvent(seed, 3)).body,
            "{\"sequence\":3,\"duplicate\":false}");
  const std::vector<v1::Event> all = a.ListAll();
  ASSERT_EQ(all.size(), 3u);
  for (uint64_t n = 1; n <= 3; ++n) {
    EXPECT_EQ(all[n - 1].sequence(), n);
    EXPECT_EQ(all[n - 1].id(), absl::StrCat("evt_e2e_", n));
  }
}

// Verifies that two replicas on one stream share its epoch and sequences
// (the same event posted to both is one sequence, a duplicate on the
// second), serve byte-identical events for the same start, and report the
// backend, their applied sequence and the stream's last sequence.
TEST_F(JetStreamE2eTest, TwoReplicasServeIdenticalEvents) {
  ASSERT_NE(StartNats(), nullptr);
  ASSERT_TRUE(StartReplica(0, {}).ok());
  ASSERT_TRUE(StartReplica(1, {}).ok());
  Replica& a = *replicas_[0];
  Replica& b = *replicas_[1];
  EXPECT_EQ(a.process->stream_epoch(), b.process->stream_epoch());
  const std::string seed = Seed("customer.created.json");
  for (uint64_t n = 1; n <= 20; ++n) {
    Replica& to = n % 2 == 0 ? a : b;
    const HttpResult r = to.Post(UniqueEvent(seed, n));
    ASSERT_EQ(r.body,
              absl::StrCat("{\"sequence\":", n, ",\"duplicate\":false}"));
  }
  // The same event (another delivery attempt) to the other replica.
  EXPECT_EQ(a.Post(UniqueEvent(seed, 19)).body,
            "{\"sequence\":19,\"duplicate\":true}");

  for (Replica* r : {&a, &b}) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (r->Info().applied_sequence() < 20 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));  // polling a bounded condition
    }
    const v1::GetStreamInfoResponse info = r->Info();
    EXPECT_EQ(info.backend(), "jetstream");
    EXPECT_EQ(info.applied_sequence(), 20u);
    EXPECT_EQ(info.stream_last_sequence(), 20u);
    EXPECT_EQ(info.head_sequence(), 20u);
  }
  const std::vector<v1::Event> on_a = a.ListAll();
  const std::vector<v1::Event> on_b = b.ListAll();
  ASSERT_EQ(on_a.size(), 20u);
  ASSERT_EQ(on_b.size(), 20u);
  for (size_t i = 0; i < on_a.size(); ++i) {
    EXPECT_EQ(on_a[i].SerializeAsString(), on_b[i].SerializeAsString())
        << "sequence " << on_a[i].sequence();
  }
  // Subscribed from the same start, both send the same bytes.
  std::vector<std::string> streamed[2];
  for (int i = 0; i < 2; ++i) {
    SubscribeRequest request;
    request.set_after_sequence(5);
    request.set_include_raw_json(true);
    testing::Subscription sub(*(i == 0 ? a : b).stub, request);
    for (const v1::Event& e : sub.ReadEvents(15)) {
      streamed[i].push_back(e.SerializeAsString());
    }
    sub.Cancel();
  }
  EXPECT_EQ(streamed[0].size(), 15u);
  EXPECT_EQ(streamed[0], streamed[1]);
}

// Verifies that a subscriber resuming on a replica that has not applied
// its position yet (a replica started after the events, still catching up
// from the stream) is served from there, not refused: by sequence
// (OUT_OF_RANGE before) and by event id (GetEvent and Subscribe
// after_event_id: NOT_FOUND before), the latter waiting until the replica
// applied the stream's last sequence as of the call.
TEST_F(JetStreamE2eTest, ResumingOnALaggingReplicaWaitsForThePosition) {
  ASSERT_NE(StartNats(), nullptr);
  ASSERT_TRUE(StartReplica(0, {}).ok());
  Replica& a = *replicas_[0];
  const std::string seed = Seed("customer.created.json");
  constexpr uint64_t kEvents = 2000;
  {
    HttpsClient https(a.process->ca_file(), a.process->ingress_port());
    for (uint64_t n = 1; n <= kEvents; ++n) {
      const std::string body = UniqueEvent(seed, n);
      const HttpResult r =
          https.Post("/v1/webhooks/gettrx", body,
                     {"x-webhook-signature: " + Signature(body)});
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }
  ASSERT_TRUE(StartReplica(1, {}).ok());
  Replica& b = *replicas_[1];
  // At once, all three (GetEvent by id, Subscribe by id, by sequence): B is
  // usually still applying the stream here (its start does not wait for
  // that); either way the ids and the position are the stream's and are
  // served.
  v1::GetEventResponse got_event;
  grpc::Status get_status;
  std::thread get_thread([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::GetEventRequest get;
    get.set_event_id(absl::StrCat("evt_e2e_", kEvents));
    get_status = b.stub->GetEvent(&ctx, get, &got_event);
  });
  absl::Cleanup join_get = [&] { get_thread.join(); };
  SubscribeRequest by_id;
  by_id.set_after_event_id(absl::StrCat("evt_e2e_", kEvents - 1));
  testing::Subscription by_id_sub(*b.stub, by_id);
  SubscribeRequest request;
  request.set_after_sequence(kEvents - 1);
  request.set_stream_epoch(a.process->stream_epoch());
  testing::Subscription sub(*b.stub, request);

  std::move(join_get).Invoke();
  ASSERT_TRUE(get_status.ok()) << get_status.error_message();
  EXPECT_EQ(got_event.event().sequence(), kEvents);
  const std::vector<v1::Event> after_id = by_id_sub.ReadEvents(1);
  ASSERT_EQ(after_id.size(), 1u) << by_id_sub.Finish().error_message();
  EXPECT_EQ(after_id[0].id(), absl::StrCat("evt_e2e_", kEvents));
  by_id_sub.Cancel();
  {
    // An id the stream never had is still NOT_FOUND, once caught up.
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::GetEventRequest get;
    get.set_event_id("evt_never_posted");
    EXPECT_EQ(b.stub->GetEvent(&ctx, get, &got_event).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  const std::vector<v1::Event> got = sub.ReadEvents(1);
  ASSERT_EQ(got.size(), 1u) << sub.Finish().error_message();
  EXPECT_EQ(got[0].sequence(), kEvents);
  EXPECT_EQ(got[0].id(), absl::StrCat("evt_e2e_", kEvents));
  sub.Cancel();
  // Beyond the stream's last sequence is still refused.
  request.set_after_sequence(kEvents + 10);
  testing::Subscription beyond(*b.stub, request);
  SubscribeResponse r;
  while (beyond.Read(&r)) {
  }
  EXPECT_EQ(beyond.Finish().error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

// Verifies client failover between two replicas of one stream: the C++
// Subscriber and `hookstream tail`, both given `A,B`, follow A; A is killed
// (-9); both continue on B after their last position, with every event
// exactly once, in order, and no gap.
TEST_F(JetStreamE2eTest, SubscriberAndTailFailOverToTheOtherReplica) {
  ASSERT_NE(StartNats(), nullptr);
  ASSERT_TRUE(StartReplica(0, {}).ok());
  ASSERT_TRUE(StartReplica(1, {}).ok());
  Replica& a = *replicas_[0];
  Replica& b = *replicas_[1];
  const std::string targets =
      absl::StrCat(a.process->grpc_target(), ",", b.process->grpc_target());
  SubscriberOptions options;
  options.start = StartPosition::Oldest();
  options.connection.target = targets;
  options.backoff = {.initial_delay = absl::Milliseconds(20),
                     .max_delay = absl::Milliseconds(200)};
  Subscriber subscriber(std::move(options));
  absl::StatusOr<std::unique_ptr<testing::WatchedProcess>> tail =
      testing::WatchedProcess::Start({HOOKSTREAM_CLI_BIN, "tail",
                                      "--target=" + targets, "--from=oldest",
                                      "--max_events=40"});
  ASSERT_TRUE(tail.ok()) << tail.status();

  const std::string seed = Seed("customer.created.json");
  std::vector<uint64_t> got;
  auto receive_until = [&](uint64_t n) {
    while (got.size() < n) {
      absl::StatusOr<Delivery> d = subscriber.Next(absl::Seconds(60));
      ASSERT_TRUE(d.ok()) << d.status();
      ASSERT_EQ(d->kind, Delivery::Kind::kEvent) << d->gap.DebugString();
      got.push_back(d->event.sequence());
    }
  };
  for (uint64_t n = 1; n <= 20; ++n) {
    ASSERT_EQ(a.Post(UniqueEvent(seed, n)).status, 200);
  }
  ASSERT_NO_FATAL_FAILURE(receive_until(20));
  ASSERT_TRUE((*tail)->WaitForStdoutLines(20, absl::Seconds(60)))
      << (*tail)->Stderr();
  // Both were served by A (the first target): kill it.
  a.process->Kill();
  for (uint64_t n = 21; n <= 40; ++n) {
    ASSERT_EQ(b.Post(UniqueEvent(seed, n)).status, 200);
  }
  ASSERT_NO_FATAL_FAILURE(receive_until(40));
  for (uint64_t n = 1; n <= 40; ++n) EXPECT_EQ(got[n - 1], n);

  absl::StatusOr<int> code = (*tail)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status() << (*tail)->Stderr();
  EXPECT_EQ(*code, 0) << (*tail)->Stderr();
  const std::vector<std::string> lines = (*tail)->StdoutLines();
  ASSERT_EQ(lines.size(), 40u) << (*tail)->Stderr();
  for (uint64_t n = 1; n <= 40; ++n) {
    EXPECT_THAT(lines[n - 1], HasSubstr(absl::StrCat("\"evt_e2e_", n, "\"")));
  }
}

// One subscriber's deliveries, filled by its own thread.
struct Follower {
  std::mutex mu;
  DeliveryLog log;
  uint64_t last = 0;
  std::thread thread;
  explicit Follower(std::string name) : log(std::move(name)) {}
};

// Verifies the epoch race of replicas started together on a fresh
// three-node cluster, several times: both may find no stream and create it,
// yet both serve the one identity stored in the stream (its Description),
// and a restarted replica reads it again. (With the epoch derived from the
// stream's creation time, 3 of 5 such starts gave two epochs.)
TEST_F(JetStreamE2eTest, ReplicasStartedTogetherOnAClusterShareOneEpoch) {
  constexpr int kRounds = 5;
  const std::vector<std::string> flags = {"--nats_replicas=3"};
  std::set<std::string> epochs;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    replicas_.clear();
    nats_.clear();
    ASSERT_TRUE(StartCluster());
    const absl::Status started = StartTwoTogether(flags);
    ASSERT_TRUE(started.ok()) << started;
    Replica& a = *replicas_[0];
    Replica& b = *replicas_[1];
    const std::string epoch = a.Info().stream_epoch();
    ASSERT_FALSE(epoch.empty());
    EXPECT_EQ(b.Info().stream_epoch(), epoch);
    EXPECT_EQ(a.process->stream_epoch(), epoch);
    EXPECT_EQ(b.process->stream_epoch(), epoch);
    // A fresh stream each round, so a new epoch each round.
    EXPECT_TRUE(epochs.insert(epoch).second) << epoch;

    b.process->Kill();
    const absl::Status restarted = StartReplica(1, flags);
    ASSERT_TRUE(restarted.ok()) << restarted;
    EXPECT_EQ(b.Info().stream_epoch(), epoch);
  }
}

// Issue 10's cluster test: three nats-server nodes (cluster routes on
// loopback), the stream at R3, two replicas A and B. Webhooks go to A and B
// alternately (some to both: one sequence), the sender retrying like a
// provider (on 503 or a dead replica, the same body again, to the other
// replica). Mid-ingest the stream's leader node is killed (-9), later
// replica A; a C++ Subscriber with both targets continues on B. Restarted, A
// catches up. Every subscriber, checked by the delivery validator: ordered,
// unique, nothing skipped without a Gap, every acknowledged event present
// exactly once at its acknowledged sequence.
TEST_F(JetStreamE2eTest, R3ClusterSurvivesTheLeaderAndAReplicaDying) {
  ASSERT_TRUE(StartCluster());
  const std::vector<std::string> flags = {"--nats_replicas=3",
                                          "--nats_publish_timeout=20s"};
  // Started together, both may create the stream: one epoch all the same.
  absl::Status started = StartTwoTogether(flags);
  ASSERT_TRUE(started.ok()) << started;
  Replica& a = *replicas_[0];
  Replica& b = *replicas_[1];
  const std::string epoch = b.process->stream_epoch();
  ASSERT_EQ(a.process->stream_epoch(), epoch);

  // Subscribers: the C++ client on both targets (A first), and one on B.
  const std::string targets =
      absl::StrCat(a.process->grpc_target(), ",", b.process->grpc_target());
  Follower both("subscriber-A,B");
  Follower only_b("subscriber-B");
  std::atomic<bool> stop{false};
  auto follow = [&stop, &epoch](Follower& f, std::string target) {
    SubscriberOptions options;
    options.start = StartPosition::Oldest();
    options.connection.target = std::move(target);
    options.backoff = {.initial_delay = absl::Milliseconds(20),
                       .max_delay = absl::Milliseconds(200)};
    Subscriber subscriber(std::move(options));
    {
      std::lock_guard lock(f.mu);
      f.log.Started(epoch, 0);
    }
    while (!stop.load()) {
      absl::StatusOr<Delivery> d = subscriber.Next(absl::Milliseconds(200));
      if (absl::IsDeadlineExceeded(d.status())) continue;
      std::lock_guard lock(f.mu);
      if (!d.ok()) {
        ADD_FAILURE() << f.log.name() << " ended: " << d.status();
        return;
      }
      if (d->kind == Delivery::Kind::kEvent) {
        f.log.Event(d->event);
        f.last = std::max(f.last, d->event.sequence());
      } else {
        f.log.Gap(d->gap);
      }
    }
  };
  both.thread = std::thread(follow, std::ref(both), targets);
  only_b.thread =
      std::thread(follow, std::ref(only_b), b.process->grpc_target());
  std::thread sender;
  // Whatever assertion ends the test, the threads are stopped and joined.
  auto join = absl::MakeCleanup([&] {
    stop = true;
    for (std::thread* t : {&sender, &both.thread, &only_b.thread}) {
      if (t->joinable()) t->join();
    }
  });

  // The sender: each event until a 200, like a provider.
  const std::string seed = Seed("customer.created.json");
  constexpr uint64_t kEvents = 300;
  std::map<std::string, uint64_t> acked;
  std::atomic<bool> a_alive{true};
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> refusals{0};
  sender = std::thread([&] {
    for (uint64_t n = 1; n <= kEvents && !stop.load(); ++n) {
      const std::string body = UniqueEvent(seed, n);
      bool to_a = n % 2 == 1 && a_alive.load();
      uint64_t sequence = 0;
      const absl::Time deadline = absl::Now() + absl::Seconds(120);
      while (sequence == 0 && absl::Now() < deadline && !stop.load()) {
        const HttpResult r = (to_a && a_alive.load() ? a : b).Post(body);
        if (r.status == 200) {
          sequence = SequenceOf(r.body);
        } else {
          ++refusals;
          EXPECT_TRUE(r.status == 503 || r.status == 0)
              << r.status << " " << r.body;
          to_a = !to_a;  // a load balancer would try the other replica
        }
      }
      ASSERT_NE(sequence, 0u) << "event " << n << " never acknowledged";
      if (n % 10 == 0) {
        // Another delivery attempt of the same event, to the other replica:
        // the same sequence.
        HttpResult again;
        const absl::Time until = absl::Now() + absl::Seconds(120);
        do {
          again = (to_a || !a_alive.load() ? b : a).Post(body);
        } while (again.status != 200 && absl::Now() < until);
        EXPECT_EQ(SequenceOf(again.body), sequence) << again.body;
      }
      acked[absl::StrCat("evt_e2e_", n)] = sequence;
      sent = n;
    }
  });
  auto wait_sent = [&sent](uint64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(180);
    while (sent.load() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));  // polling a bounded condition
    }
    return sent.load() >= n;
  };

  ASSERT_TRUE(wait_sent(kEvents / 3));
  // The stream's leader is the node that logged becoming it.
  NatsServer* leader = nullptr;
  for (const auto& n : nats_) {
    if (n->WaitForLog("new stream leader for '$G > HOOKSTREAM'",
                      absl::Milliseconds(100))) {
      leader = n.get();
    }
  }
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(leader->Kill().ok());

  ASSERT_TRUE(wait_sent(2 * kEvents / 3));
  a_alive = false;
  a.process->Kill();

  sender.join();
  ASSERT_EQ(acked.size(), kEvents);
  uint64_t last = 0;
  for (const auto& [id, sequence] : acked) last = std::max(last, sequence);

  // Restarted, A catches up from the stream and serves.
  ASSERT_TRUE((started = StartReplica(0, flags)).ok()) << started;
  EXPECT_EQ(a.process->stream_epoch(), epoch);
  {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (a.Info().applied_sequence() < last && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));  // polling a bounded condition
    }
  }
  for (Follower* f : {&both, &only_b}) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    for (;;) {
      {
        std::lock_guard lock(f->mu);
        if (f->last >= last || absl::Now() >= deadline) break;
      }
      absl::SleepFor(absl::Milliseconds(20));  // polling a bounded condition
    }
  }
  std::move(join).Invoke();

  std::vector<StreamEvent> stream;
  for (const v1::Event& e : b.ListAll()) {
    stream.push_back({e.sequence(), e.id(), e.type(), e.account()});
  }
  std::vector<StreamEvent> on_a;
  for (const v1::Event& e : a.ListAll()) {
    on_a.push_back({e.sequence(), e.id(), e.type(), e.account()});
  }
  ASSERT_EQ(on_a.size(), stream.size());
  for (size_t i = 0; i < stream.size(); ++i) {
    EXPECT_EQ(on_a[i].sequence, stream[i].sequence);
    EXPECT_EQ(on_a[i].id, stream[i].id);
  }
  EXPECT_EQ(stream.size(), kEvents);  // nothing doubled
  EXPECT_THAT(testing::ValidateDeliveries(epoch, stream, acked,
                                          {&both.log, &only_b.log}),
              IsEmpty());
  EXPECT_EQ(both.log.event_count(), kEvents);
  EXPECT_EQ(only_b.log.event_count(), kEvents);
  RecordProperty("refusals_during_failover", static_cast<int>(refusals));
}

}  // namespace
}  // namespace hookstream
