// The Subscriber against the real in-process DistributionServer and a real
// EventRing: delivery, reconnect across a server shutdown (same ring: no
// loss, no duplicate), a server restart (new ring: epoch change reported),
// evicted positions, and filters across reconnects.
#include "client/subscriber.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/grpc_status.h"
#include "common/ring/event_ring.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "server/distribution/distribution_server.h"
#include "tests/testing/memory_store.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tcp_forwarder.h"

namespace hookstream {
namespace {

using ::hookstream::distribution::DistributionServer;
using ::hookstream::testing::StatusIs;

constexpr absl::Duration kWait = absl::Seconds(30);

v1::Event MakeEvent(int n, const std::string& type = "customer.created",
                    const std::string& account = "acm_1") {
  v1::Event event;
  event.set_id(absl::StrCat("evt_", n));
  event.set_type(type);
  event.set_account(account);
  event.set_raw_json(absl::StrCat(R"({"id":"evt_)", n, R"("})"));
  return event;
}

EventRing::Options RingOptions(size_t max_events = 1000) {
  EventRing::Options options;
  options.max_events = max_events;
  return options;
}

// A server on an ephemeral port serving `store`'s ring.
std::unique_ptr<DistributionServer> StartServer(testing::MemoryStore& store) {
  absl::StatusOr<std::unique_ptr<DistributionServer>> server =
      DistributionServer::Start(
          {.address = "127.0.0.1:0", .credentials = nullptr}, store.ring(),
          RealClock());
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// gRPC's own reconnect backoff starts at 1 s; keep it short so the test's
// restarted server is found quickly (the Subscriber backs off on its own).
std::shared_ptr<grpc::Channel> ChannelTo(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

SubscriberOptions FastOptions(StartPosition start) {
  SubscriberOptions options;
  options.start = std::move(start);
  options.heartbeat_interval = absl::Seconds(1);
  options.backoff.initial_delay = absl::Milliseconds(10);
  options.backoff.max_delay = absl::Milliseconds(200);
  return options;
}

// Pulls deliveries until `n` events arrived; returns "seq:type" per event
// and "gap:<reason>" per gap, in order.
std::vector<std::string> Pull(Subscriber& sub, int n) {
  std::vector<std::string> out;
  int events = 0;
  while (events < n) {
    absl::StatusOr<Delivery> d = sub.Next(kWait);
    if (!d.ok()) {
      ADD_FAILURE() << "after " << events << " events: " << d.status();
      break;
    }
    if (d->kind == Delivery::Kind::kEvent) {
      out.push_back(absl::StrCat(d->event.sequence(), ":", d->event.id()));
      ++events;
    } else {
      out.push_back(absl::StrCat("gap:", v1::GapReason_Name(d->gap.reason())));
    }
  }
  return out;
}

std::vector<std::string> Expected(int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i)
    out.push_back(absl::StrCat(i, ":evt_", i));
  return out;
}

void AppendEvents(testing::MemoryStore& ring, int first, int last) {
  for (int i = first; i <= last; ++i) {
    ASSERT_TRUE(ring.Append(MakeEvent(i)).ok());
  }
}

// Verifies pull mode delivers held and live events once each, in order.
TEST(SubscriberTest, PullDeliversEveryEventOnceInOrder) {
  testing::MemoryStore ring(RingOptions(), RealClock());
  AppendEvents(ring, 1, 50);
  auto server = StartServer(ring);
  Subscriber sub(ChannelTo(server->port()),
                 FastOptions(StartPosition::Oldest()));
  EXPECT_EQ(Pull(sub, 25), Expected(1, 25));
  AppendEvents(ring, 51, 100);
  EXPECT_EQ(Pull(sub, 75), Expected(26, 100));
  EXPECT_EQ(sub.position().sequence, 100u);
  EXPECT_EQ(sub.position().stream_epoch, ring.ring().stream_epoch());
  EXPECT_EQ(sub.reconnects(), 0);
}

// Verifies callback mode delivers every event once in order, and Run returns
// OK after Stop() from inside on_event.
TEST(SubscriberTest, CallbackDeliversEveryEventOnceInOrder) {
  testing::MemoryStore ring(RingOptions(), RealClock());
  AppendEvents(ring, 1, 30);
  auto server = StartServer(ring);
  Subscriber sub(ChannelTo(server->port()),
                 FastOptions(StartPosition::AfterSequence(10)));
  std::vector<std::string> seen;
  const absl::Status status = sub.Run(
      {.on_event =
           [&](const v1::Event& e) {
             seen.push_back(absl::StrCat(e.sequence(), ":", e.id()));
             if (e.sequence() == 20) AppendEvents(ring, 31, 40);
             if (e.sequence() == 40) sub.Stop();
           },
       .on_gap = [&](const v1::Gap&) { seen.push_back("gap"); },
       .on_epoch_change = [&](const v1::Gap&) { seen.push_back("epoch"); }});
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, Expected(11, 40));
}

// Verifies a dropped connection (server shut down, then started again on the
// same port with the same ring) is resumed with no loss and no duplicate,
// including events appended during the outage.
TEST(SubscriberTest, ResumesAcrossAServerOutageWithoutLossOrDuplicate) {
  testing::MemoryStore ring(RingOptions(), RealClock());
  AppendEvents(ring, 1, 10);
  auto server = StartServer(ring);
  // The clients keep the forwarder's port while the server restarts on
  // fresh ports (never re-binding a released one).
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  const int port = forwarder.port();
  Subscriber sub(ChannelTo(port), FastOptions(StartPosition::Oldest()));
  EXPECT_EQ(Pull(sub, 10), Expected(1, 10));

  server->Shutdown(absl::Seconds(5));
  server.reset();
  AppendEvents(ring, 11, 20);  // during the outage
  server = StartServer(ring);
  ASSERT_NE(server, nullptr);
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  AppendEvents(ring, 21, 25);

  EXPECT_EQ(Pull(sub, 15), Expected(11, 25));
  EXPECT_GE(sub.reconnects(), 1);
  // Nothing more: no duplicate is queued behind the last event.
  EXPECT_THAT(sub.Next(absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

// Verifies a filter holds across a reconnect, and the resume starts from the
// heartbeat position (no rescan, no duplicate).
TEST(SubscriberTest, FilterIsRespectedAcrossReconnect) {
  testing::MemoryStore ring(RingOptions(), RealClock());
  auto server = StartServer(ring);
  // The clients keep the forwarder's port while the server restarts on
  // fresh ports (never re-binding a released one).
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  const int port = forwarder.port();
  SubscriberOptions options = FastOptions(StartPosition::Oldest());
  options.filter.add_types("refund.*");
  options.filter.add_accounts("acm_2");
  Subscriber sub(ChannelTo(port), options);

  std::vector<std::string> expected;
  int n = 0;
  const auto append_mix = [&](int count) {
    for (int i = 0; i < count; ++i) {
      ++n;
      const std::string type =
          n % 2 == 0 ? "refund.created" : "customer.created";
      const std::string account = n % 3 == 0 ? "acm_1" : "acm_2";
      ASSERT_TRUE(ring.Append(MakeEvent(n, type, account)).ok());
      if (type == "refund.created" && account == "acm_2") {
        expected.push_back(absl::StrCat(n, ":evt_", n));
      }
    }
  };
  append_mix(30);
  const size_t before = expected.size();
  EXPECT_EQ(Pull(sub, static_cast<int>(before)), expected);

  server->Shutdown(absl::Seconds(5));
  server.reset();
  append_mix(30);
  server = StartServer(ring);
  ASSERT_NE(server, nullptr);
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  append_mix(30);

  const std::vector<std::string> rest(expected.begin() + before,
                                      expected.end());
  EXPECT_EQ(Pull(sub, static_cast<int>(rest.size())), rest);
  EXPECT_GE(sub.reconnects(), 1);
}

// Verifies a server restart (new ring, new epoch) under GAP_POLICY_FAIL is
// reported as an EPOCH_CHANGED gap, then ends with FAILED_PRECONDITION.
TEST(SubscriberTest, ReportsAServerRestartAsAnEpochChange) {
  // Both rings outlive every server that serves them.
  auto ring =
      std::make_unique<testing::MemoryStore>(RingOptions(), RealClock());
  auto new_ring =
      std::make_unique<testing::MemoryStore>(RingOptions(), RealClock());
  AppendEvents(*ring, 1, 5);
  auto server = StartServer(*ring);
  // The clients keep the forwarder's port while the server restarts on
  // fresh ports (never re-binding a released one).
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  const int port = forwarder.port();
  const std::string old_epoch = ring->ring().stream_epoch();
  Subscriber sub(ChannelTo(port), FastOptions(StartPosition::Oldest()));
  EXPECT_EQ(Pull(sub, 5), Expected(1, 5));

  server->Shutdown(absl::Seconds(5));
  server.reset();
  ASSERT_NE(new_ring->ring().stream_epoch(), old_epoch);
  AppendEvents(*new_ring, 1, 3);
  server = StartServer(*new_ring);
  ASSERT_NE(server, nullptr);
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));

  absl::StatusOr<Delivery> d = sub.Next(kWait);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->epoch_changed()) << d->gap.ShortDebugString();
  EXPECT_EQ(d->gap.stream_epoch(), new_ring->ring().stream_epoch());
  EXPECT_EQ(d->gap.requested_after_sequence(), 5u);
  const absl::StatusOr<Delivery> end = sub.Next(kWait);
  EXPECT_THAT(end, StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_TRUE(GapFromStatus(end.status()).has_value());
  EXPECT_EQ(GapFromStatus(end.status())->reason(),
            v1::GAP_REASON_EPOCH_CHANGED);
}

// Verifies under GAP_POLICY_RESUME_FROM_OLDEST a restart is reported to
// on_epoch_change, then delivery goes on from the new epoch's first event.
TEST(SubscriberTest, ResumesFromTheNewEpochAfterReportingIt) {
  // Both rings outlive every server that serves them.
  auto ring =
      std::make_unique<testing::MemoryStore>(RingOptions(), RealClock());
  auto new_ring =
      std::make_unique<testing::MemoryStore>(RingOptions(), RealClock());
  AppendEvents(*ring, 1, 5);
  auto server = StartServer(*ring);
  // The clients keep the forwarder's port while the server restarts on
  // fresh ports (never re-binding a released one).
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  const int port = forwarder.port();
  SubscriberOptions options = FastOptions(StartPosition::Oldest());
  options.gap_policy = v1::GAP_POLICY_RESUME_FROM_OLDEST;
  Subscriber sub(ChannelTo(port), options);
  EXPECT_EQ(Pull(sub, 5), Expected(1, 5));

  server->Shutdown(absl::Seconds(5));
  server.reset();
  AppendEvents(*new_ring, 1, 3);
  server = StartServer(*new_ring);
  ASSERT_NE(server, nullptr);
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));

  std::vector<std::string> seen;
  std::string new_epoch_seen;
  const absl::Status status =
      sub.Run({.on_event =
                   [&](const v1::Event& e) {
                     seen.push_back(absl::StrCat(e.sequence(), ":", e.id()));
                     if (e.sequence() == 3) sub.Stop();
                   },
               .on_gap = [&](const v1::Gap&) { seen.push_back("evicted"); },
               .on_epoch_change =
                   [&](const v1::Gap& gap) {
                     seen.push_back("epoch");
                     new_epoch_seen = gap.stream_epoch();
                   }});
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<std::string>{"epoch", "1:evt_1", "2:evt_2",
                                            "3:evt_3"}));
  EXPECT_EQ(new_epoch_seen, new_ring->ring().stream_epoch());
  EXPECT_EQ(sub.position().stream_epoch, new_ring->ring().stream_epoch());
}

// Verifies events evicted while the subscriber was disconnected are reported
// (GAP_POLICY_FAIL: a gap with the missed count, then OUT_OF_RANGE).
TEST(SubscriberTest, ReportsEventsEvictedDuringAnOutage) {
  testing::MemoryStore ring(RingOptions(/*max_events=*/4), RealClock());
  AppendEvents(ring, 1, 2);
  auto server = StartServer(ring);
  // The clients keep the forwarder's port while the server restarts on
  // fresh ports (never re-binding a released one).
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  const int port = forwarder.port();
  Subscriber sub(ChannelTo(port), FastOptions(StartPosition::Oldest()));
  EXPECT_EQ(Pull(sub, 2), Expected(1, 2));

  server->Shutdown(absl::Seconds(5));
  server.reset();
  AppendEvents(ring, 3, 12);  // holds 9..12: 3..8 are lost
  server = StartServer(ring);
  ASSERT_NE(server, nullptr);
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));

  absl::StatusOr<Delivery> d = sub.Next(kWait);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->kind, Delivery::Kind::kGap);
  EXPECT_EQ(d->gap.reason(), v1::GAP_REASON_EVICTED);
  EXPECT_EQ(d->gap.requested_after_sequence(), 2u);
  EXPECT_EQ(d->gap.oldest_sequence(), 9u);
  EXPECT_EQ(d->gap.missed_count(), 6u);
  EXPECT_THAT(sub.Next(kWait), StatusIs(absl::StatusCode::kOutOfRange));
}

// Verifies the same outage under RESUME_FROM_OLDEST: the gap is delivered,
// then the held events, each once.
TEST(SubscriberTest, ResumesFromTheOldestAfterAnEvictionGap) {
  testing::MemoryStore ring(RingOptions(/*max_events=*/4), RealClock());
  AppendEvents(ring, 1, 2);
  auto server = StartServer(ring);
  // The clients keep the forwarder's port while the server restarts on
  // fresh ports (never re-binding a released one).
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  const int port = forwarder.port();
  SubscriberOptions options = FastOptions(StartPosition::Oldest());
  options.gap_policy = v1::GAP_POLICY_RESUME_FROM_OLDEST;
  Subscriber sub(ChannelTo(port), options);
  EXPECT_EQ(Pull(sub, 2), Expected(1, 2));

  server->Shutdown(absl::Seconds(5));
  server.reset();
  AppendEvents(ring, 3, 12);
  server = StartServer(ring);
  ASSERT_NE(server, nullptr);
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));

  std::vector<std::string> expected = {"gap:GAP_REASON_EVICTED"};
  for (const std::string& e : Expected(9, 12)) expected.push_back(e);
  EXPECT_EQ(Pull(sub, 4), expected);
}

// Verifies an unknown after_event_id ends the subscription with NOT_FOUND
// (not retried).
TEST(SubscriberTest, UnknownEventIdIsNotFound) {
  testing::MemoryStore ring(RingOptions(), RealClock());
  AppendEvents(ring, 1, 3);
  auto server = StartServer(ring);
  Subscriber sub(ChannelTo(server->port()),
                 FastOptions(StartPosition::AfterEventId("evt_nope")));
  EXPECT_THAT(sub.Next(kWait), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(sub.reconnects(), 0);
}

// Verifies after_event_id starts right after that event and the resume
// after a reconnect uses the learned sequence.
TEST(SubscriberTest, StartsAfterAnEventIdAndResumesBySequence) {
  testing::MemoryStore ring(RingOptions(), RealClock());
  AppendEvents(ring, 1, 10);
  auto server = StartServer(ring);
  // The clients keep the forwarder's port while the server restarts on
  // fresh ports (never re-binding a released one).
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  const int port = forwarder.port();
  Subscriber sub(ChannelTo(port),
                 FastOptions(StartPosition::AfterEventId("evt_7")));
  EXPECT_EQ(Pull(sub, 3), Expected(8, 10));
  server->Shutdown(absl::Seconds(5));
  server.reset();
  AppendEvents(ring, 11, 12);
  server = StartServer(ring);
  ASSERT_NE(server, nullptr);
  forwarder.SetBackend(static_cast<uint16_t>(server->port()));
  EXPECT_EQ(Pull(sub, 2), Expected(11, 12));
}

}  // namespace
}  // namespace hookstream
