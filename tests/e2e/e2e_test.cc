// End-to-end: the real hookstream-server binary on ephemeral loopback ports,
// real TLS (libcurl) on the ingress, a real gRPC channel on the stream.
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/subscriber.h"
#include "common/conversion/gettrx_converter.h"
#include "common/signature/crypto.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "server/distribution/gap_status.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/checking_reader.h"
#include "tests/testing/https_client.h"
#include "tests/testing/nats_server.h"
#include "tests/testing/process_runner.h"
#include "tests/testing/tcp_forwarder.h"
#include "tests/testing/watched_process.h"

namespace hookstream {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using v1::EventStream;
using v1::SubscribeRequest;
using v1::SubscribeResponse;

using testing::kSecret;
using testing::ReadFile;
using testing::RssBytes;
using testing::Seed;
using testing::Signature;
using testing::Subscription;
using testing::UniqueEvent;

class E2eTest : public testing::E2eFixture {};

// The distribution suite, run against each backend: memory (the default)
// and jetstream (a nats-server of the test's own, R1, on an ephemeral port;
// kept across the server's restarts within one test).
class E2eBackendTest : public testing::E2eFixture,
                       public ::testing::WithParamInterface<std::string> {
 protected:
  std::vector<std::string> BackendFlags() override {
    if (GetParam() != "jetstream") return {};
    if (nats_ == nullptr) {
      absl::StatusOr<std::unique_ptr<testing::NatsServer>> nats =
          testing::NatsServer::Start(dir_ + "/nats");
      EXPECT_TRUE(nats.ok()) << nats.status();
      if (!nats.ok()) return {};
      nats_ = *std::move(nats);
    }
    return {"--backend=jetstream", "--nats_url=" + nats_->url()};
  }
  void TearDown() override {
    server_.reset();  // the replica before its log
    nats_.reset();
    E2eFixture::TearDown();
  }

  std::unique_ptr<testing::NatsServer> nats_;
};

INSTANTIATE_TEST_SUITE_P(Backends, E2eBackendTest,
                         ::testing::Values("memory", "jetstream"),
                         [](const auto& info) { return info.param; });

// Verifies that every seed event posted over HTTPS is acknowledged with the
// next sequence and arrives over gRPC typed, every field equal to what the
// converter makes of the same bytes, with the raw JSON only on request.
TEST_P(E2eBackendTest, SeedEventsArriveTypedWithEveryField) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::vector<std::string> names = {
      "customer.created.json", "customer.updated.json", "customer.deleted.json",
      "refund.pending.json", "setup_request.succeeded.json"};
  std::vector<std::string> bodies;
  for (size_t i = 0; i < names.size(); ++i) {
    bodies.push_back(Seed(names[i]));
    const testing::HttpResult r = PostSigned(bodies.back());
    ASSERT_EQ(r.status, 200) << names[i] << ": " << r.body;
    EXPECT_EQ(r.body,
              absl::StrCat("{\"sequence\":", i + 1, ",\"duplicate\":false}"));
    EXPECT_FALSE(r.header("x-request-id").empty());
  }

  for (const bool raw : {false, true}) {
    SubscribeRequest request;
    request.set_origin(v1::ORIGIN_OLDEST);
    request.set_include_raw_json(raw);
    Subscription sub(*stub_, request);
    SubscribeResponse first;
    ASSERT_TRUE(sub.Read(&first));
    ASSERT_TRUE(first.has_heartbeat()) << first.DebugString();
    EXPECT_EQ(first.heartbeat().stream_epoch(), server_->stream_epoch());
    EXPECT_EQ(first.heartbeat().head_sequence(), names.size());

    const std::vector<v1::Event> events = sub.ReadEvents(names.size());
    ASSERT_EQ(events.size(), names.size());
    for (size_t i = 0; i < events.size(); ++i) {
      SCOPED_TRACE(names[i]);
      const v1::Event& got = events[i];
      EXPECT_EQ(got.sequence(), i + 1);
      EXPECT_EQ(got.stream_epoch(), server_->stream_epoch());
      EXPECT_TRUE(got.has_received_at());
      absl::StatusOr<v1::Event> want =
          ConvertGettrxEvent(bodies[i], absl::Now());
      ASSERT_TRUE(want.ok()) << want.status();
      if (!raw) want->clear_raw_json();
      google::protobuf::util::MessageDifferencer diff;
      const auto* d = v1::Event::descriptor();
      diff.IgnoreField(d->FindFieldByName("sequence"));
      diff.IgnoreField(d->FindFieldByName("stream_epoch"));
      diff.IgnoreField(d->FindFieldByName("received_at"));
      std::string report;
      diff.ReportDifferencesToString(&report);
      EXPECT_TRUE(diff.Compare(*want, got)) << report;
      EXPECT_EQ(got.raw_json(), raw ? bodies[i] : "");
    }
    sub.Cancel();
  }
  // Typed spot checks, straight from the seed files.
  v1::GetEventRequest get;
  get.set_event_id("evt_674f8f91778c0c7274a6636c");
  v1::GetEventResponse got;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  ASSERT_TRUE(stub_->GetEvent(&ctx, get, &got).ok());
  EXPECT_EQ(got.event().customer().address().city(), "West Eladiofurt");
  EXPECT_EQ(got.event().customer().shipping().phone(), "GL 1587872490");
  EXPECT_EQ(got.event().raw_json(), bodies[0]);
}

// Verifies that a retry of an accepted event (same id, new attemptId) is
// answered with the first delivery's sequence and appends nothing, and that
// a bad signature gets 401 and appends nothing.
TEST_P(E2eBackendTest, DuplicatesAndBadSignaturesAppendNothing) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string body = Seed("refund.pending.json");
  ASSERT_EQ(PostSigned(body).body, "{\"sequence\":1,\"duplicate\":false}");
  const std::string retry = absl::StrReplaceAll(
      body, {{"wha_6751e4a3a02adccc5f7dcb18", "wha_ffffffffffffffffffffffff"}});
  ASSERT_NE(retry, body);
  const testing::HttpResult r = PostSigned(retry);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"sequence\":1,\"duplicate\":true}");

  const std::string other = Seed("customer.created.json");
  EXPECT_EQ(Post(other, Signature(other, "wrong-secret")).status, 401);
  EXPECT_EQ(Post(other, "").status, 401);
  EXPECT_EQ(Info().head_sequence(), 1u);
  EXPECT_EQ(Info().event_count(), 1u);
  EXPECT_EQ(Info().backend(), GetParam());
  EXPECT_EQ(Info().applied_sequence(), 1u);
  EXPECT_EQ(Info().stream_last_sequence(), 1u);
}

// Verifies the JetStream start-up refusals, each one line: no NATS server
// reachable, and an existing stream whose duplicate window is shorter than
// --dedup_window (naming the setting).
TEST_F(E2eTest, JetStreamRefusesToStartWithoutNatsOrWithAContradictingStream) {
  testing::ClosedPort closed;
  absl::StatusOr<testing::ServerProcess> refused =
      testing::ServerProcess::Start(
          dir_, {.flags = {"--backend=jetstream",
                           absl::StrCat("--nats_url=nats://127.0.0.1:",
                                        closed.port())}});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("exited at start"));
  EXPECT_THAT(refused.status().message(), HasSubstr("nats: cannot connect"));

  absl::StatusOr<std::unique_ptr<testing::NatsServer>> nats =
      testing::NatsServer::Start(dir_ + "/nats");
  ASSERT_TRUE(nats.ok()) << nats.status();
  const std::string url = "--nats_url=" + (*nats)->url();
  {
    absl::StatusOr<testing::ServerProcess> short_window =
        testing::ServerProcess::Start(
            dir_, {.flags = {"--backend=jetstream", url, "--dedup_window=1m"}});
    ASSERT_TRUE(short_window.ok()) << short_window.status();
    ASSERT_TRUE(short_window->Stop().ok());
  }
  absl::StatusOr<testing::ServerProcess> contradicted =
      testing::ServerProcess::Start(dir_,
                                    {.flags = {"--backend=jetstream", url}});
  ASSERT_FALSE(contradicted.ok());
  EXPECT_THAT(contradicted.status().message(), HasSubstr("exited at start"));
  EXPECT_THAT(contradicted.status().message(),
              HasSubstr("(setting: duplicate_window)"));
}

// Verifies that a live subscriber with a type filter receives exactly the
// matching events posted after it subscribed, in order.
TEST_P(E2eBackendTest, LiveSubscriberWithFilterReceivesMatchingEvents) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  SubscribeRequest request;  // no start: latest
  request.mutable_filter()->add_types("customer.*");
  Subscription sub(*stub_, request);
  SubscribeResponse first;
  ASSERT_TRUE(sub.Read(&first));  // the first heartbeat: subscribed
  ASSERT_TRUE(first.has_heartbeat());

  ASSERT_EQ(PostSigned(Seed("refund.pending.json")).status, 200);
  ASSERT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  ASSERT_EQ(PostSigned(Seed("setup_request.succeeded.json")).status, 200);
  ASSERT_EQ(PostSigned(Seed("customer.deleted.json")).status, 200);
  const std::vector<v1::Event> events = sub.ReadEvents(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), "customer.created");
  EXPECT_EQ(events[0].sequence(), 2u);
  EXPECT_EQ(events[1].type(), "customer.deleted");
  EXPECT_EQ(events[1].sequence(), 4u);
}

// Verifies that SIGTERM ends open streams with UNAVAILABLE (so clients
// reconnect) and the process exits 0.
TEST_P(E2eBackendTest, ShutdownEndsStreamsWithUnavailable) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  Subscription sub(*stub_, request);
  SubscribeResponse r;
  ASSERT_TRUE(sub.Read(&r));
  // An event first, so that "the last message is a heartbeat" is a claim
  // about shutdown, not about an idle stream where every message is one.
  ASSERT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  ASSERT_EQ(sub.ReadEvents(1).size(), 1u);
  // Keep reading while the server stops, as a live client does.
  bool saw_event_after_stop = false;
  std::thread reader([&] {
    while (sub.Read(&r)) {
      if (r.has_events()) saw_event_after_stop = true;
    }
  });
  absl::StatusOr<int> code = server_->Stop();
  reader.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(saw_event_after_stop);
  EXPECT_TRUE(r.has_heartbeat()) << "the last message is a heartbeat";
  EXPECT_EQ(r.heartbeat().head_sequence(), 1u) << r.DebugString();
  const grpc::Status end = sub.Finish();
  EXPECT_EQ(end.error_code(), grpc::StatusCode::UNAVAILABLE)
      << end.error_message();
  EXPECT_THAT(end.error_message(), HasSubstr("shutting down"));
}

// Verifies that the server refuses to start without a signing secret, with
// a one-line reason, unless told to accept unsigned webhooks.
TEST_F(E2eTest, RefusesToStartWithoutSecret) {
  // Both bounded (a hang fails with timeout's exit 124, not the test run).
  ASSERT_EQ(testing::RunProcess(
                {HOOKSTREAM_SOURCE_DIR "/scripts/dev-setup.sh", dir_}, 60)
                .exit_code,
            0);
  const testing::ProcessResult r = testing::RunProcess(
      {"env", "-u", "HOOKSTREAM_SIGNING_SECRETS", HOOKSTREAM_SERVER_BIN,
       "--ingress_address=127.0.0.1:0", "--grpc_address=127.0.0.1:0",
       "--admin_address=127.0.0.1:0", "--tls_cert=" + dir_ + "/tls.crt",
       "--tls_key=" + dir_ + "/tls.key"},
      30);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("no signing secret"));
}

// Verifies that a subscriber that stops reading while 100,000 events flow
// through a 20,000-event ring (40,000 / 8,000 under ASan) costs the others
// nothing: every POST is acknowledged in order, an active subscriber receives
// every event in order, server memory stays bounded, and the stalled
// subscriber, reading again, gets a contiguous run of events and then its gap
// (OUT_OF_RANGE with a Gap in the rich status details).
TEST_P(E2eBackendTest, StalledSubscriberCostsOthersNothing) {
#if defined(__SANITIZE_ADDRESS__)
  // Scaled down under ASan+UBSan (each request costs several times more),
  // same proportions: the ring holds a fifth of what flows through.
  constexpr uint64_t kEvents = 40000;
  // ASan's quarantine keeps up to 256 MiB of freed memory.
  constexpr uint64_t kRssSlack = uint64_t{320} << 20;
#else
  constexpr uint64_t kEvents = 100000;
  constexpr uint64_t kRssSlack = uint64_t{64} << 20;
#endif
  constexpr uint64_t kRing = kEvents / 5;
  ASSERT_NO_FATAL_FAILURE(
      StartServer({absl::StrCat("--ring_max_events=", kRing)}));
  constexpr int kPosters = 4;

  SubscribeRequest from_oldest;
  from_oldest.set_origin(v1::ORIGIN_OLDEST);
  // Its own channel, so its stalled HTTP/2 connection is its own.
  grpc::ChannelArguments args;
  args.SetInt("hookstream.e2e.stalled", 1);
  auto stalled_channel = grpc::CreateCustomChannel(
      server_->grpc_target(), grpc::InsecureChannelCredentials(), args);
  auto stalled_stub = EventStream::NewStub(stalled_channel);
  grpc::ClientContext stalled_ctx;
  stalled_ctx.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(600)));
  auto stalled = stalled_stub->Subscribe(&stalled_ctx, from_oldest);
  SubscribeResponse r;
  ASSERT_TRUE(stalled->Read(&r));
  ASSERT_TRUE(r.has_heartbeat());

  // The active subscriber counts what it receives, checking the order.
  std::atomic<uint64_t> active_last{0};
  std::atomic<bool> active_in_order{true};
  grpc::ClientContext active_ctx;
  active_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(600)));
  auto active = stub_->Subscribe(&active_ctx, from_oldest);
  std::thread active_reader([&] {
    SubscribeResponse m;
    while (active_last.load() < kEvents && active->Read(&m)) {
      for (const v1::Event& e : m.events().events()) {
        if (e.sequence() != active_last.load() + 1) active_in_order = false;
        active_last = e.sequence();
      }
    }
  });

  const std::string seed = Seed("customer.created.json");
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> failures{0};
  uint64_t rss_at_full = 0;
  std::vector<std::thread> posters;
  for (int t = 0; t < kPosters; ++t) {
    posters.emplace_back([&] {
      testing::HttpsClient client(server_->ca_file(), server_->ingress_port());
      for (uint64_t n = next++; n < kEvents; n = next++) {
        const std::string body = UniqueEvent(seed, n);
        const testing::HttpResult res =
            client.Post("/v1/webhooks/gettrx", body,
                        {"x-webhook-signature: " + Signature(body)});
        if (res.status != 200) ++failures;
        if (n == kRing) rss_at_full = RssBytes(server_->pid());
      }
    });
  }
  for (std::thread& t : posters) t.join();
  EXPECT_EQ(failures.load(), 0u);
  const uint64_t rss_at_end = RssBytes(server_->pid());

  active_reader.join();
  active_ctx.TryCancel();
  active->Finish();
  EXPECT_EQ(active_last.load(), kEvents);
  EXPECT_TRUE(active_in_order.load());
  EXPECT_EQ(Info().head_sequence(), kEvents);
  // Flat: the ring is full from kRing events on, so the rest may only
  // replace what it holds (generous slack for allocator behaviour).
  ASSERT_GT(rss_at_full, 0u);
  EXPECT_LT(rss_at_end, rss_at_full + kRssSlack)
      << "RSS grew from " << rss_at_full << " to " << rss_at_end;

  // Reading again: a contiguous run from 1, then the gap.
  uint64_t last = 0;
  bool contiguous = true;
  while (stalled->Read(&r)) {
    for (const v1::Event& e : r.events().events()) {
      if (e.sequence() != last + 1) contiguous = false;
      last = e.sequence();
    }
  }
  EXPECT_TRUE(contiguous);
  const grpc::Status status = stalled->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE)
      << status.error_message();
  const std::optional<v1::Gap> gap = distribution::GapFromGrpcStatus(status);
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->requested_after_sequence(), last);
  EXPECT_GT(gap->oldest_sequence(), last + 1);
  EXPECT_EQ(gap->missed_count(), gap->oldest_sequence() - last - 1);
  EXPECT_EQ(gap->stream_epoch(), server_->stream_epoch());
}

// Verifies the C++ client library across a restart of the real server: the
// events of the first epoch arrive once, in order; after the restart (a new,
// empty ring on the same address) the subscriber reports the epoch change
// instead of hiding it, then delivers the new epoch's events.
TEST_F(E2eTest, ClientLibraryReportsEpochChangeAcrossRestart) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // The client keeps the forwarder's port; the server restarts on fresh
  // ports (never re-binding a released one).
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(server_->grpc_port());
  const std::string first_epoch = server_->stream_epoch();
  // gRPC's own reconnect backoff (1 s, growing) would dominate the test.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  Subscriber subscriber(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", forwarder.port()),
                                grpc::InsecureChannelCredentials(), args),
      {.start = StartPosition::Oldest(),
       .gap_policy = v1::GAP_POLICY_RESUME_FROM_OLDEST,
       .backoff = {.initial_delay = absl::Milliseconds(20),
                   .max_delay = absl::Milliseconds(200)}});
  const std::string seed = Seed("customer.created.json");
  for (uint64_t n = 1; n <= 3; ++n) {
    ASSERT_EQ(PostSigned(UniqueEvent(seed, n)).status, 200);
  }
  for (uint64_t n = 1; n <= 3; ++n) {
    absl::StatusOr<Delivery> d = subscriber.Next(absl::Seconds(30));
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_EQ(d->kind, Delivery::Kind::kEvent);
    EXPECT_EQ(d->event.sequence(), n);
    EXPECT_EQ(d->event.id(), absl::StrCat("evt_e2e_", n));
  }

  absl::StatusOr<int> stopped = server_->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_NO_FATAL_FAILURE(StartServer());
  forwarder.SetBackend(server_->grpc_port());
  ASSERT_NE(server_->stream_epoch(), first_epoch);
  for (uint64_t n = 10; n <= 11; ++n) {
    ASSERT_EQ(PostSigned(UniqueEvent(seed, n)).status, 200);
  }

  absl::StatusOr<Delivery> d = subscriber.Next(absl::Seconds(60));
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->epoch_changed()) << d->gap.DebugString();
  EXPECT_EQ(d->gap.stream_epoch(), server_->stream_epoch());
  for (uint64_t n = 10; n <= 11; ++n) {
    d = subscriber.Next(absl::Seconds(30));
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_EQ(d->kind, Delivery::Kind::kEvent);
    EXPECT_EQ(d->event.stream_epoch(), server_->stream_epoch());
    EXPECT_EQ(d->event.sequence(), n - 9);
    EXPECT_EQ(d->event.id(), absl::StrCat("evt_e2e_", n));
  }
}

// Verifies that 1,000 concurrent subscribers of the real server, on 4
// connections, each receive every event posted over HTTPS exactly once and
// in order, while the events are posted before and during their start.
TEST_P(E2eBackendTest, ThousandSubscribersReceiveEveryEventInOrderOnce) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  constexpr int kSubscribers = 1000;
  constexpr uint64_t kEvents = 40;
  std::vector<std::unique_ptr<EventStream::Stub>> stubs;
  for (int c = 0; c < 4; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("hookstream.e2e.connection", c);  // a connection each
    stubs.push_back(EventStream::NewStub(grpc::CreateCustomChannel(
        server_->grpc_target(), grpc::InsecureChannelCredentials(), args)));
  }
  const std::string seed = Seed("customer.created.json");
  for (uint64_t n = 1; n <= kEvents / 2; ++n) {
    ASSERT_EQ(PostSigned(UniqueEvent(seed, n)).status, 200);
  }
  std::thread poster([&] {
    testing::HttpsClient client(server_->ca_file(), server_->ingress_port());
    for (uint64_t n = kEvents / 2 + 1; n <= kEvents; ++n) {
      const std::string body = UniqueEvent(seed, n);
      EXPECT_EQ(client
                    .Post("/v1/webhooks/gettrx", body,
                          {"x-webhook-signature: " + Signature(body)})
                    .status,
                200);
    }
  });
  std::vector<std::unique_ptr<testing::CheckingReader>> readers;
  for (int i = 0; i < kSubscribers; ++i) {
    readers.push_back(std::make_unique<testing::CheckingReader>(
        *stubs[i % stubs.size()], 0, kEvents));
  }
  poster.join();
  for (int i = 0; i < kSubscribers; ++i) {
    testing::CheckingReader& reader = *readers[i];
    EXPECT_TRUE(reader.AwaitSequence(kEvents, absl::Seconds(60))) << i;
    reader.AwaitDone();
    EXPECT_EQ(reader.error(), "") << i;
    EXPECT_EQ(reader.received(), kEvents) << i;
    if (HasFailure()) break;
  }
}

// Verifies the new user's path with the CLI against the real server:
// `hookstream send` signs and posts a seed file (200, then duplicate on a
// second send), and `hookstream tail` prints it as a typed JSON line.
TEST_P(E2eBackendTest, CliSendThenTail) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string file =
      absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/customer.created.json");
  const std::vector<std::string> send = {
      HOOKSTREAM_CLI_BIN,
      "send",
      "--url=" + server_->webhook_url(),
      "--cacert=" + server_->ca_file(),
      "--secret_file=" + dir_ + "/signing-secret",
      file};
  testing::ProcessResult r = testing::RunProcess(send, 60);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("200 {\"sequence\":1,\"duplicate\":false} "
                               "request_id="));
  EXPECT_THAT(r.out, Not(HasSubstr("request_id=-")));
  r = testing::RunProcess(send, 60);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("200 {\"sequence\":1,\"duplicate\":true}"));

  r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "tail", "--target=" + server_->grpc_target(),
       "--from=oldest", "--max_events=1"},
      60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = r.Lines();
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const nlohmann::json event = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(event["id"], "evt_674f8f91778c0c7274a6636c");
  EXPECT_EQ(event["customer"]["email"], "alejandra@example.com");
}

// Verifies SIGHUP does not kill the server: it reloads (one log line) and
// goes on serving both listeners; SIGTERM still stops it cleanly. (The
// reload itself under load: ops_e2e_test.)
TEST_F(E2eTest, SighupReloadsAndKeepsServing) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (ReadFile(server_->log_file()).find("msg=reloaded") ==
             std::string::npos &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // polling the log, bounded
  }
  EXPECT_NE(ReadFile(server_->log_file()).find("msg=reloaded"),
            std::string::npos);
  EXPECT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  EXPECT_EQ(Info().head_sequence(), 1u);
  absl::StatusOr<int> code = server_->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

// Verifies `hookstream-server --help` lists its flags with their defaults
// and exits 0 (Abseil's own --help printed "No flags matched" and exit 1).
TEST_F(E2eTest, ServerHelpListsTheFlags) {
  const testing::ProcessResult r =
      testing::RunProcess({HOOKSTREAM_SERVER_BIN, "--help"}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("--grpc_address (default \"127.0.0.1:50051\")"));
  EXPECT_THAT(r.out, HasSubstr("--ring_max_events (default "));
  EXPECT_THAT(r.out, HasSubstr("--grpc_tls_cert"));
  EXPECT_THAT(r.out, Not(HasSubstr("No flags matched")));
}

// Verifies `trigger` sends a fresh, signed sample of every documented type
// that the real ingress accepts as a new event (twice: never a duplicate)
// and converts to its typed object.
TEST_F(E2eTest, CliTriggerSendsEveryDocumentedTypeFresh) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::vector<std::string> types = {
      "customer.created",        "customer.updated",
      "customer.deleted",        "refund.pending",
      "refund.succeeded",        "payment_request.succeeded",
      "setup_request.succeeded", "setup_request.failed",
      "payment_method.attached", "application.created"};
  std::vector<std::string> args = {HOOKSTREAM_CLI_BIN, "trigger",
                                   "--url=" + server_->webhook_url(),
                                   "--cacert=" + server_->ca_file(),
                                   "--secret_file=" + dir_ + "/signing-secret"};
  for (const std::string& t : types) args.push_back(t);
  args.push_back("customer.created");  // again: a new event all the same
  const testing::ProcessResult r = testing::RunProcess(args, 60);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.Lines().size(), types.size() + 1) << r.out;
  for (size_t i = 0; i < r.Lines().size(); ++i) {
    EXPECT_THAT(r.Lines()[i],
                HasSubstr(absl::StrCat(" 200 {\"sequence\":", i + 1,
                                       ",\"duplicate\":false}")));
  }
  EXPECT_THAT(r.err, HasSubstr("signing with the first secret of " + dir_));

  const std::map<std::string, std::string> typed = {
      {"customer", "customer"},
      {"refund", "refund"},
      {"payment_request", "payment_request"},
      {"setup_request", "setup_request"},
      {"payment_method", "payment_method"},
      {"application", "application"}};
  const testing::ProcessResult tail = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "tail", "--target=" + server_->grpc_target(),
       "--from=oldest", absl::StrCat("--max_events=", types.size() + 1)},
      60);
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  ASSERT_EQ(tail.Lines().size(), types.size() + 1);
  std::set<std::string> ids;
  for (size_t i = 0; i < types.size(); ++i) {
    const nlohmann::json e = nlohmann::json::parse(tail.Lines()[i]);
    EXPECT_EQ(e["type"], types[i]);
    const std::string family = types[i].substr(0, types[i].find('.'));
    EXPECT_TRUE(e.contains(typed.at(family))) << tail.Lines()[i];
    EXPECT_FALSE(e.contains("other")) << tail.Lines()[i];
    ids.insert(e["id"].get<std::string>());
  }
  ids.insert(
      nlohmann::json::parse(tail.Lines().back())["id"].get<std::string>());
  EXPECT_EQ(ids.size(), types.size() + 1) << "every trigger has a fresh id";
}

// Verifies `send` prints the request id and the server's machine-readable
// reason for a refusal, with what it means, and exits 1.
TEST_F(E2eTest, CliSendPrintsTheReasonOfARefusal) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string readme = std::string(HOOKSTREAM_SOURCE_DIR) + "/README.md";
  testing::ProcessResult r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "send", "--url=" + server_->webhook_url(),
       "--cacert=" + server_->ca_file(),
       "--secret_file=" + dir_ + "/signing-secret", readme},
      60);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr(" 400 {\"error\":\"bad_request\",\"reason\":"
                               "\"bad_json\"} request_id="));
  EXPECT_THAT(r.err, HasSubstr("bad_json: the body is not a JSON object"));

  std::ofstream(dir_ + "/other-secret") << "not-the-servers-secret-0123\n";
  std::filesystem::permissions(dir_ + "/other-secret",
                               std::filesystem::perms::owner_read);
  r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "send", "--url=" + server_->webhook_url(),
       "--cacert=" + server_->ca_file(),
       "--secret_file=" + dir_ + "/other-secret",
       absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/refund.pending.json")},
      60);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr(" 401 {\"error\":\"unauthenticated\",\"reason\":"
                               "\"bad_signature\"}"));
  EXPECT_THAT(r.err, HasSubstr("matches none of the server's signing secrets"));
  EXPECT_EQ(Info().event_count(), 0u);
}

// Verifies `tail` speaks TLS to a server serving gRPC over TLS
// (--grpc_tls_cert), checking its certificate, with a token from the
// environment; plaintext to it fails and gives up as told.
TEST_F(E2eTest, CliTailOverTls) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--grpc_tls_cert=" + dir_ + "/tls.crt",
                                       "--grpc_tls_key=" + dir_ + "/tls.key"}));
  ASSERT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  testing::ProcessResult r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "tail", "--from=oldest", "--max_events=1"}, 60,
      absl::StrCat(
          "HOOKSTREAM_TARGET=", server_->grpc_target(),
          " HOOKSTREAM_CACERT=", testing::ShellQuote(server_->ca_file()),
          " HOOKSTREAM_TOKEN=e2e-token"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.Lines().at(0))["id"],
            "evt_674f8f91778c0c7274a6636c");
  EXPECT_THAT(r.err, HasSubstr("(TLS, token)"));
  r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "info", "--target=" + server_->grpc_target(),
       "--tls", "--cacert=" + server_->ca_file()},
      60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["head_sequence"], 1);
  r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "tail", "--target=" + server_->grpc_target(),
       "--max_retries=1"},
      60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
}

// Verifies `tail` follows restarts of the real server by default: with the
// journal backend the epoch survives and it resumes exactly (one line when
// the connection is lost, one when it is back); in memory a restart starts
// a new epoch, reported as one gap line, and tail goes on from the new
// stream's start. Nothing about CANCELLED.
TEST_F(E2eTest, CliTailFollowsServerRestarts) {
  const std::vector<std::string> journal = {
      "--backend=journal", "--journal_dir=" + dir_ + "/journal"};
  ASSERT_NO_FATAL_FAILURE(StartServer(journal));
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(server_->grpc_port());
  absl::StatusOr<std::unique_ptr<testing::WatchedProcess>> tail =
      testing::WatchedProcess::Start(
          {HOOKSTREAM_CLI_BIN, "tail",
           absl::StrCat("--target=127.0.0.1:", forwarder.port()),
           "--from=oldest", "--max_events=3"});
  ASSERT_TRUE(tail.ok()) << tail.status();
  const std::string seed = Seed("customer.created.json");
  ASSERT_EQ(PostSigned(UniqueEvent(seed, 1)).status, 200);
  ASSERT_TRUE((*tail)->WaitForStdoutLines(1, absl::Seconds(30)))
      << (*tail)->Stderr();
  const std::string journal_epoch = server_->stream_epoch();

  // Restart with the journal: the same stream.
  absl::StatusOr<int> stopped = server_->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_TRUE((*tail)->WaitForStderr("connection lost", absl::Seconds(30)));
  ASSERT_NO_FATAL_FAILURE(StartServer(journal));
  ASSERT_EQ(server_->stream_epoch(), journal_epoch);
  forwarder.SetBackend(server_->grpc_port());
  ASSERT_EQ(PostSigned(UniqueEvent(seed, 2)).status, 200);
  ASSERT_TRUE((*tail)->WaitForStdoutLines(2, absl::Seconds(30)))
      << (*tail)->Stderr();
  ASSERT_TRUE((*tail)->WaitForStderr("reconnected", absl::Seconds(30)));

  // Restart in memory: a new stream.
  stopped = server_->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_NO_FATAL_FAILURE(StartServer());
  forwarder.SetBackend(server_->grpc_port());
  ASSERT_EQ(PostSigned(UniqueEvent(seed, 3)).status, 200);
  absl::StatusOr<int> code = (*tail)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status() << (*tail)->Stderr();
  EXPECT_EQ(*code, 0) << (*tail)->Stderr();

  const std::vector<std::string> out = (*tail)->StdoutLines();
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 2; ++i) {
    const nlohmann::json e = nlohmann::json::parse(out[i]);
    EXPECT_EQ(e["id"], absl::StrCat("evt_e2e_", i + 1));
    EXPECT_EQ(e["sequence"], i + 1);
    EXPECT_EQ(e["stream_epoch"], journal_epoch);
  }
  EXPECT_EQ(nlohmann::json::parse(out[2])["gap"]["reason"],
            "GAP_REASON_EPOCH_CHANGED");
  const nlohmann::json third = nlohmann::json::parse(out[3]);
  EXPECT_EQ(third["id"], "evt_e2e_3");
  EXPECT_EQ(third["sequence"], 1);
  EXPECT_EQ(third["stream_epoch"], server_->stream_epoch());
  const std::string err = (*tail)->Stderr();
  const auto count = [&err](absl::string_view text) {
    return std::vector<absl::string_view>(absl::StrSplit(err, text)).size() - 1;
  };
  EXPECT_EQ(count("connection lost"), 2u) << err;
  EXPECT_EQ(count("reconnected"), 2u) << err;
  EXPECT_EQ(count("started over"), 1u) << err;  // the gap, in plain words
  EXPECT_THAT(err, Not(HasSubstr("CANCELLED")));
}

// Verifies what `make run` sets up is found by the CLI from any directory
// with no variable pointing at it: scripts/run-dev.sh writes the
// development certificate and secret into the per-user default folder
// (~/.config/hookstream/dev, HOME being a test folder here, neither
// HOOKSTREAM_DEV_DIR nor XDG_CONFIG_HOME set) and `hookstream trigger`, run
// from /, signs with that secret and trusts that certificate.
TEST_F(E2eTest, MakeRunWritesTheDevFilesWhereTheCliFindsThem) {
  const std::string build_dir =
      std::filesystem::path(HOOKSTREAM_SERVER_BIN).parent_path().parent_path();
  const std::string home = dir_ + "/home";
  std::filesystem::create_directories(home);
  const std::string dev = home + "/.config/hookstream/dev";
  const std::string ready = dir_ + "/run-dev-ready.json";
  absl::StatusOr<std::unique_ptr<testing::WatchedProcess>> run =
      testing::WatchedProcess::Start(
          {std::string(HOOKSTREAM_SOURCE_DIR) + "/scripts/run-dev.sh",
           // Later flags win: ephemeral ports instead of 8443/50051.
           "--ingress_address=127.0.0.1:0", "--grpc_address=127.0.0.1:0",
           "--admin_address=127.0.0.1:0", "--ready_file=" + ready},
          {"BUILD_DIR=" + build_dir, "HOME=" + home,
           "HOOKSTREAM_DEV_DIR=", "XDG_CONFIG_HOME="});
  ASSERT_TRUE(run.ok()) << run.status();
  uint64_t ingress_port = 0;
  uint64_t grpc_port = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (ingress_port == 0 && absl::Now() < deadline) {
    const std::string text = ReadFile(ready);
    if (!text.empty()) {
      const nlohmann::json j = nlohmann::json::parse(text);
      ingress_port = j["ingress_port"];
      grpc_port = j["grpc_port"];
    } else {
      absl::SleepFor(absl::Milliseconds(20));  // polling for the ready file
    }
  }
  ASSERT_NE(ingress_port, 0u) << (*run)->Stderr();
  EXPECT_TRUE(std::filesystem::exists(dev + "/tls.crt"));
  EXPECT_TRUE(std::filesystem::exists(dev + "/signing-secret"));

  const testing::ProcessResult r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "trigger", "refund.succeeded",
       absl::StrCat("--url=https://127.0.0.1:", ingress_port,
                    "/v1/webhooks/gettrx")},
      60,
      "HOME=" + testing::ShellQuote(home) +
          " HOOKSTREAM_DEV_DIR= XDG_CONFIG_HOME= HOOKSTREAM_SIGNING_SECRETS= "
          "HOOKSTREAM_CACERT=",
      "/");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(" 200 {\"sequence\":1,"));
  EXPECT_THAT(r.err,
              HasSubstr("signing with the first secret of " + dev +
                        "/signing-secret; trusting " + dev + "/tls.crt"));
  const testing::ProcessResult info =
      testing::RunProcess({HOOKSTREAM_CLI_BIN, "info",
                           absl::StrCat("--target=127.0.0.1:", grpc_port)},
                          60);
  EXPECT_EQ(nlohmann::json::parse(info.out)["head_sequence"], 1);
  (*run)->Signal(SIGTERM);
  EXPECT_EQ((*run)->Wait(absl::Seconds(30)).value_or(-1), 0);
}

// Verifies the README's `buf curl` commands against the server's
// reflection: list the services, GetStreamInfo, a Subscribe (its first
// message, a heartbeat, then buf curl's own --timeout ends it).
TEST_F(E2eTest, BufCurlFindsTheServiceThroughReflection) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  const std::string url = absl::StrCat("http://", server_->grpc_target());
  const std::vector<std::string> buf = {HOOKSTREAM_BUF, "curl", "--protocol",
                                        "grpc", "--http2-prior-knowledge"};
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = buf;
    for (std::string& a : args) argv.push_back(std::move(a));
    return testing::RunProcess(argv, 60);
  };
  testing::ProcessResult r = run({"--list-services", url});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.Lines(), ::testing::Contains("hookstream.v1.EventStream"));
  r = run({url + "/hookstream.v1.EventStream/GetStreamInfo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["headSequence"], "1");
  r = run({"--timeout", "2s", "-d",
           R"({"origin":"ORIGIN_OLDEST","heartbeat_interval":"1s"})",
           url + "/hookstream.v1.EventStream/Subscribe"});
  EXPECT_THAT(r.out, HasSubstr("\"heartbeat\""));
  EXPECT_THAT(r.out, HasSubstr("\"id\": \"evt_674f8f91778c0c7274a6636c\""));
}

}  // namespace
}  // namespace hookstream
