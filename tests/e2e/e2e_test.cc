// End-to-end: the real hookstream-server binary on ephemeral loopback ports,
// real TLS (libcurl) on the ingress, a real gRPC channel on the stream.
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
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
#include "tests/testing/process_runner.h"

namespace hookstream {
namespace {

using ::testing::HasSubstr;
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

// Verifies that every seed event posted over HTTPS is acknowledged with the
// next sequence and arrives over gRPC typed, every field equal to what the
// converter makes of the same bytes, with the raw JSON only on request.
TEST_F(E2eTest, SeedEventsArriveTypedWithEveryField) {
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
  ASSERT_TRUE(stub_->GetEvent(&ctx, get, &got).ok());
  EXPECT_EQ(got.event().customer().address().city(), "West Eladiofurt");
  EXPECT_EQ(got.event().customer().shipping().phone(), "GL 1587872490");
  EXPECT_EQ(got.event().raw_json(), bodies[0]);
}

// Verifies that a retry of an accepted event (same id, new attemptId) is
// answered with the first delivery's sequence and appends nothing, and that
// a bad signature gets 401 and appends nothing.
TEST_F(E2eTest, DuplicatesAndBadSignaturesAppendNothing) {
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
}

// Verifies that a live subscriber with a type filter receives exactly the
// matching events posted after it subscribed, in order.
TEST_F(E2eTest, LiveSubscriberWithFilterReceivesMatchingEvents) {
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
TEST_F(E2eTest, ShutdownEndsStreamsWithUnavailable) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  Subscription sub(*stub_, request);
  SubscribeResponse r;
  ASSERT_TRUE(sub.Read(&r));
  // Keep reading while the server stops, as a live client does.
  std::thread reader([&] {
    while (sub.Read(&r)) {
    }
  });
  absl::StatusOr<int> code = server_->Stop();
  reader.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(r.has_heartbeat()) << "the last message is a heartbeat";
  const grpc::Status end = sub.Finish();
  EXPECT_EQ(end.error_code(), grpc::StatusCode::UNAVAILABLE)
      << end.error_message();
  EXPECT_THAT(end.error_message(), HasSubstr("shutting down"));
}

// Verifies that the server refuses to start without a signing secret, with
// a one-line reason, unless told to accept unsigned webhooks.
TEST_F(E2eTest, RefusesToStartWithoutSecret) {
  ASSERT_EQ(
      std::system(absl::StrCat(HOOKSTREAM_SOURCE_DIR, "/scripts/dev-setup.sh '",
                               dir_, "' >/dev/null")
                      .c_str()),
      0);
  const std::string log = dir_ + "/refuse.log";
  const std::string cmd = absl::StrCat(
      "env -u HOOKSTREAM_SIGNING_SECRETS ", HOOKSTREAM_SERVER_BIN,
      " --ingress_address=127.0.0.1:0 --grpc_address=127.0.0.1:0",
      " --tls_cert=", dir_, "/tls.crt --tls_key=", dir_, "/tls.key 2>", log);
  const int status = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(ReadFile(log), HasSubstr("no signing secret"));
}

// Verifies that a subscriber that stops reading while 100,000 events flow
// through a 20,000-event ring costs the others nothing: every POST is
// acknowledged in order, an active subscriber receives every event in
// order, server memory stays bounded, and the stalled subscriber, reading
// again, gets a contiguous run of events and then its gap (OUT_OF_RANGE
// with a Gap in the rich status details).
TEST_F(E2eTest, StalledSubscriberCostsOthersNothing) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--ring_max_events=20000"}));
  constexpr uint64_t kEvents = 100000;
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
  uint64_t rss_at_20k = 0;
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
        if (n == 20000) rss_at_20k = RssBytes(server_->pid());
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
  // Flat: the ring is full from 20,000 events on, so the next 80,000 may
  // only replace what it holds (generous slack for allocator behaviour).
  ASSERT_GT(rss_at_20k, 0u);
  EXPECT_LT(rss_at_end, rss_at_20k + (uint64_t{64} << 20))
      << "RSS grew from " << rss_at_20k << " to " << rss_at_end;

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

// Verifies the Python subscriber generated from protos/ against the real
// server: it reads the posted events from the oldest, resumes after an event
// id, and reads a Gap from the rich status details when its position was
// evicted (exit code 3, as its README documents).
TEST_F(E2eTest, PythonSubscriberSubscribesResumesAndReadsGaps) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--ring_max_events=3"}));
  const std::string example =
      std::string(HOOKSTREAM_SOURCE_DIR) + "/examples/python_subscriber";
  const std::string gen = dir_ + "/python_gen";
  const testing::ProcessResult generated =
      testing::RunProcess({example + "/generate.sh", gen});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  const std::string seed = Seed("customer.created.json");
  for (uint64_t n = 1; n <= 5; ++n) {
    ASSERT_EQ(PostSigned(UniqueEvent(seed, n)).status, 200);
  }
  auto python = [&](std::vector<std::string> args) {
    args.insert(args.begin(),
                {"/usr/bin/python3", example + "/subscriber.py",
                 "--target=" + server_->grpc_target(), "--timeout=30"});
    return testing::RunProcess(
        args, 60, "HOOKSTREAM_PY_GEN_DIR=" + testing::ShellQuote(gen));
  };

  // The ring holds 3..5.
  testing::ProcessResult r = python({"--from-oldest", "--max-events=3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = r.Lines();
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (uint64_t i = 0; i < 3; ++i) {
    const nlohmann::json e = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(e["event"]["id"], absl::StrCat("evt_e2e_", i + 3));
    EXPECT_EQ(e["event"]["customer"]["address"]["city"], "West Eladiofurt");
  }

  r = python({"--after-event-id=evt_e2e_4", "--max-events=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = r.Lines();
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(lines[0])["event"]["id"], "evt_e2e_5");

  r = python({"--after-sequence=1", "--epoch=" + server_->stream_epoch()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  lines = r.Lines();
  ASSERT_FALSE(lines.empty()) << r.err;
  const nlohmann::json error = nlohmann::json::parse(lines.back());
  EXPECT_EQ(error["error"]["code"], "OUT_OF_RANGE") << lines.back();
  EXPECT_EQ(error["error"]["gap"]["oldest_sequence"], "3") << lines.back();
  EXPECT_EQ(error["error"]["gap"]["missed_count"], "1") << lines.back();
}

// Verifies the C++ client library across a restart of the real server: the
// events of the first epoch arrive once, in order; after the restart (a new,
// empty ring on the same address) the subscriber reports the epoch change
// instead of hiding it, then delivers the new epoch's events.
TEST_F(E2eTest, ClientLibraryReportsEpochChangeAcrossRestart) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const uint16_t grpc_port = server_->grpc_port();
  const std::string first_epoch = server_->stream_epoch();
  // gRPC's own reconnect backoff (1 s, growing) would dominate the test.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  Subscriber subscriber(
      grpc::CreateCustomChannel(server_->grpc_target(),
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
  ASSERT_NO_FATAL_FAILURE(
      StartServer({absl::StrCat("--grpc_address=127.0.0.1:", grpc_port)}));
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
TEST_F(E2eTest, ThousandSubscribersReceiveEveryEventInOrderOnce) {
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
TEST_F(E2eTest, CliSendThenTail) {
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
  EXPECT_THAT(r.out, HasSubstr("200 {\"sequence\":1,\"duplicate\":false}"));
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

// Verifies SIGHUP no longer kills the server: it says so in one log line
// and goes on serving both listeners; SIGTERM still stops it cleanly.
TEST_F(E2eTest, SighupIsIgnoredWithALogLine) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (ReadFile(server_->log_file()).find("sighup ignored") ==
             std::string::npos &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // polling the log, bounded
  }
  EXPECT_NE(ReadFile(server_->log_file()).find("sighup ignored"),
            std::string::npos);
  EXPECT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  EXPECT_EQ(Info().head_sequence(), 1u);
  absl::StatusOr<int> code = server_->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace hookstream
