// What the Subscriber sends and does against exact, scripted server
// behaviour (including behaviour the real server never shows, such as a
// silent stall or a repeated event). subscriber_test.cc runs it against the
// real DistributionServer.
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/grpc_status.h"
#include "client/subscriber.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/client/scripted_event_stream.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::hookstream::testing::EventsMessage;
using ::hookstream::testing::HeartbeatMessage;
using ::hookstream::testing::ScriptedEventStream;
using ::hookstream::testing::StatusIs;

constexpr absl::Duration kWait = absl::Seconds(30);

SubscriberOptions FastOptions() {
  SubscriberOptions options;
  options.backoff.initial_delay = absl::Milliseconds(1);
  options.backoff.max_delay = absl::Milliseconds(20);
  return options;
}

std::shared_ptr<grpc::Channel> ChannelTo(const ScriptedEventStream& server) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.port()),
                             grpc::InsecureChannelCredentials());
}

// Pulls `n` event sequences, failing on anything else.
std::vector<uint64_t> PullEvents(Subscriber& sub, int n) {
  std::vector<uint64_t> out;
  while (static_cast<int>(out.size()) < n) {
    absl::StatusOr<Delivery> d = sub.Next(kWait);
    if (!d.ok()) {
      ADD_FAILURE() << d.status();
      break;
    }
    if (d->kind != Delivery::Kind::kEvent) {
      ADD_FAILURE() << "unexpected gap " << d->gap.ShortDebugString();
      break;
    }
    out.push_back(d->event.sequence());
  }
  return out;
}

// Verifies a reconnect asks for after_sequence = last delivered + the epoch
// learned from the first heartbeat, and keeps filter, policy and options.
TEST(SubscriberProtocolTest, ResumesAfterTheLastEventWithItsEpoch) {
  ScriptedEventStream server;
  server.AddScript(testing::EndWith(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"),
      {HeartbeatMessage("E", 0), EventsMessage("E", {1, 2, 3})}));
  server.AddScript(
      testing::Hang({HeartbeatMessage("E", 3), EventsMessage("E", {4})}));
  SubscriberOptions options = FastOptions();
  options.start = StartPosition::Oldest();
  options.filter.add_types("customer.*");
  options.gap_policy = v1::GAP_POLICY_RESUME_FROM_OLDEST;
  options.include_raw_json = true;
  options.heartbeat_interval = absl::Seconds(2);
  Subscriber sub(ChannelTo(server), options);

  EXPECT_EQ(PullEvents(sub, 4), (std::vector<uint64_t>{1, 2, 3, 4}));
  const std::vector<v1::SubscribeRequest> requests = server.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].origin(), v1::ORIGIN_OLDEST);
  EXPECT_EQ(requests[0].stream_epoch(), "");
  EXPECT_EQ(requests[1].start_case(), v1::SubscribeRequest::kAfterSequence);
  EXPECT_EQ(requests[1].after_sequence(), 3u);
  EXPECT_EQ(requests[1].stream_epoch(), "E");
  for (const v1::SubscribeRequest& r : requests) {
    EXPECT_EQ(r.filter().types(0), "customer.*");
    EXPECT_EQ(r.gap_policy(), v1::GAP_POLICY_RESUME_FROM_OLDEST);
    EXPECT_TRUE(r.include_raw_json());
    EXPECT_EQ(r.heartbeat_interval().seconds(), 2);
  }
  EXPECT_EQ(sub.reconnects(), 1);
  EXPECT_EQ(sub.position().sequence, 4u);
  EXPECT_EQ(sub.position().stream_epoch, "E");
}

// Verifies a heartbeat position ahead of the last event (filtered stream) is
// where the reconnect resumes, and becomes position() once consumed.
TEST(SubscriberProtocolTest, ResumesFromTheHeartbeatPositionUnderAFilter) {
  ScriptedEventStream server;
  server.AddScript(
      testing::EndWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""),
                       {HeartbeatMessage("E", 0), EventsMessage("E", {2}),
                        HeartbeatMessage("E", 10)}));
  server.AddScript(testing::Hang({HeartbeatMessage("E", 10)}));
  Subscriber sub(ChannelTo(server), FastOptions());

  EXPECT_EQ(PullEvents(sub, 1), (std::vector<uint64_t>{2}));
  EXPECT_EQ(sub.position().sequence, 2u);
  const std::vector<v1::SubscribeRequest> requests = server.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].after_sequence(), 10u);
  EXPECT_EQ(requests[1].stream_epoch(), "E");
  // The heartbeat markers were queued before the reconnect; taking them moves
  // the consumer's position without returning a delivery.
  EXPECT_THAT(sub.Next(absl::Milliseconds(50)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(sub.position().sequence, 10u);
}

// Verifies an event repeated by a faulty server is delivered only once.
TEST(SubscriberProtocolTest, NeverDeliversAnEventTwice) {
  ScriptedEventStream server;
  server.AddScript(
      testing::Hang({HeartbeatMessage("E", 0), EventsMessage("E", {1, 2}),
                     EventsMessage("E", {2, 3})}));
  Subscriber sub(ChannelTo(server), FastOptions());
  EXPECT_EQ(PullEvents(sub, 3), (std::vector<uint64_t>{1, 2, 3}));
}

// Verifies an event of another epoch arriving without a Gap (a faulty
// server) is preceded by a synthesized EPOCH_CHANGED gap, never hidden.
TEST(SubscriberProtocolTest, ReportsASilentEpochSwitch) {
  ScriptedEventStream server;
  server.AddScript(
      testing::EndWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, ""),
                       {HeartbeatMessage("E1", 0), EventsMessage("E1", {1})}));
  server.AddScript(
      testing::Hang({HeartbeatMessage("E2", 0), EventsMessage("E2", {1})}));
  Subscriber sub(ChannelTo(server), FastOptions());
  EXPECT_EQ(PullEvents(sub, 1), (std::vector<uint64_t>{1}));
  absl::StatusOr<Delivery> d = sub.Next(kWait);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->epoch_changed());
  EXPECT_EQ(d->gap.stream_epoch(), "E2");
  EXPECT_EQ(d->gap.requested_after_sequence(), 1u);
  d = sub.Next(kWait);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->event.stream_epoch(), "E2");
  EXPECT_EQ(d->event.sequence(), 1u);
}

// Verifies a non-retryable status ends the subscription at once with it.
TEST(SubscriberProtocolTest, EndsOnNonRetryableStatus) {
  ScriptedEventStream server;
  server.AddScript(testing::EndWith(
      grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown event id evt_x")));
  SubscriberOptions options = FastOptions();
  options.start = StartPosition::AfterEventId("evt_x");
  Subscriber sub(ChannelTo(server), options);
  EXPECT_THAT(sub.Next(kWait), StatusIs(absl::StatusCode::kNotFound));
  // The end is sticky.
  EXPECT_THAT(sub.Next(kWait), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(server.WaitForRequests(1).size(), 1u);
  EXPECT_EQ(server.WaitForRequests(1)[0].after_event_id(), "evt_x");
}

// Verifies the gap contract's terminal form: the Gap from the rich status
// details is delivered, then the status ends the subscription carrying it.
TEST(SubscriberProtocolTest, DeliversTheGapFromTheStatusThenEnds) {
  v1::Gap gap;
  gap.set_stream_epoch("E");
  gap.set_requested_after_sequence(3);
  gap.set_oldest_sequence(10);
  gap.set_missed_count(6);
  gap.set_reason(v1::GAP_REASON_EVICTED);
  ScriptedEventStream server;
  server.AddScript(testing::EndWith(grpc::Status(
      grpc::StatusCode::OUT_OF_RANGE, "evicted; oldest is 10",
      testing::RpcStatusWithGap(11, "evicted; oldest is 10", gap))));
  SubscriberOptions options = FastOptions();
  options.start = StartPosition::AfterSequence(3, "E");
  Subscriber sub(ChannelTo(server), options);

  absl::StatusOr<Delivery> d = sub.Next(kWait);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->kind, Delivery::Kind::kGap);
  EXPECT_EQ(d->gap.missed_count(), 6u);
  EXPECT_EQ(d->gap.oldest_sequence(), 10u);
  const absl::StatusOr<Delivery> end = sub.Next(kWait);
  EXPECT_THAT(end, StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_TRUE(GapFromStatus(end.status()).has_value());
  EXPECT_EQ(GapFromStatus(end.status())->missed_count(), 6u);
}

// Verifies a stream that goes silent (no heartbeat) is cancelled by the
// liveness watchdog and resumed, on the injected clock: the stream is only
// taken for dead once the clock has moved past the timeout.
TEST(SubscriberProtocolTest, ResumesAStreamThatWentSilent) {
  ScriptedEventStream server;
  server.AddScript(
      testing::Hang({HeartbeatMessage("E", 0), EventsMessage("E", {1})}));
  server.AddScript(
      testing::Hang({HeartbeatMessage("E", 1), EventsMessage("E", {2})}));
  testing::FakeClock clock;
  SubscriberOptions options = FastOptions();
  options.liveness_timeout = absl::Seconds(10);
  options.clock = &clock;
  Subscriber sub(ChannelTo(server), options);
  EXPECT_EQ(PullEvents(sub, 1), (std::vector<uint64_t>{1}));
  EXPECT_THAT(sub.Next(absl::Milliseconds(100)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(sub.reconnects(), 0);
  clock.Advance(absl::Seconds(11));
  EXPECT_EQ(PullEvents(sub, 1), (std::vector<uint64_t>{2}));
  EXPECT_EQ(server.WaitForRequests(2)[1].after_sequence(), 1u);
  EXPECT_EQ(sub.reconnects(), 1);
}

// Verifies max_reconnect_attempts bounds the retries and reports the cause.
TEST(SubscriberProtocolTest, GivesUpAfterMaxReconnectAttempts) {
  ScriptedEventStream server;  // no scripts: every Subscribe is UNAVAILABLE
  SubscriberOptions options = FastOptions();
  options.max_reconnect_attempts = 2;
  Subscriber sub(ChannelTo(server), options);
  EXPECT_THAT(sub.Next(kWait),
              StatusIs(absl::StatusCode::kUnavailable,
                       ::testing::HasSubstr("gave up after 2")));
  EXPECT_EQ(server.WaitForRequests(3).size(), 3u);
}

// Verifies Run dispatches to the callbacks and returns OK when a callback
// calls Stop().
TEST(SubscriberProtocolTest, RunStopsFromInsideACallback) {
  ScriptedEventStream server;
  server.AddScript(testing::Hang(
      {HeartbeatMessage("E", 0), EventsMessage("E", {1, 2, 3, 4})}));
  Subscriber sub(ChannelTo(server), FastOptions());
  std::vector<uint64_t> seen;
  const absl::Status status = sub.Run({.on_event =
                                           [&](const v1::Event& e) {
                                             seen.push_back(e.sequence());
                                             if (seen.size() == 3) sub.Stop();
                                           },
                                       .on_gap = nullptr,
                                       .on_epoch_change = nullptr});
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_THAT(sub.Next(kWait), StatusIs(absl::StatusCode::kCancelled));
}

// Verifies a consumer slower than the stream, with a tiny buffer, still gets
// everything in order (the worker waits instead of dropping).
TEST(SubscriberProtocolTest, SmallBufferLosesNothing) {
  ScriptedEventStream server;
  std::vector<uint64_t> all;
  for (uint64_t s = 1; s <= 200; ++s) all.push_back(s);
  server.AddScript(
      testing::Hang({HeartbeatMessage("E", 0), EventsMessage("E", all)}));
  SubscriberOptions options = FastOptions();
  options.max_buffered = 2;
  Subscriber sub(ChannelTo(server), options);
  EXPECT_EQ(PullEvents(sub, 200), all);
}

// Records the Subscriber's connection events (called on its worker thread).
class ConnectionLog {
 public:
  std::function<void(const ConnectionEvent&)> Callback() {
    return [this](const ConnectionEvent& e) {
      absl::MutexLock lock(&mu_);
      events_.push_back(e);
    };
  }
  // The retry delays of the disconnections so far.
  std::vector<absl::Duration> Delays() {
    absl::MutexLock lock(&mu_);
    std::vector<absl::Duration> out;
    for (const ConnectionEvent& e : events_) {
      if (e.kind == ConnectionEvent::Kind::kDisconnected) {
        out.push_back(e.retry_in);
      }
    }
    return out;
  }
  std::vector<ConnectionEvent> Events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  // Waits (bounded) until `n` events of `kind` were recorded.
  bool WaitFor(ConnectionEvent::Kind kind, size_t n) {
    absl::MutexLock lock(&mu_);
    const auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      size_t count = 0;
      for (const ConnectionEvent& e : events_) count += e.kind == kind;
      return count >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }

 private:
  absl::Mutex mu_;
  std::vector<ConnectionEvent> events_ ABSL_GUARDED_BY(mu_);
};

// Backoff options whose delays are exactly the ceilings (random = 1).
SubscriberOptions CeilingBackoff(ConnectionLog& log) {
  SubscriberOptions options;
  options.backoff.initial_delay = absl::Milliseconds(1);
  options.backoff.max_delay = absl::Milliseconds(64);
  options.backoff.multiplier = 2;
  options.random = [] { return 1.0; };
  options.on_connection = log.Callback();
  return options;
}

// Verifies the backoff keeps growing while every stream fails right after
// its first heartbeat (it used to reset on any message: a tight reconnect
// loop), and starts over once a stream has delivered an event.
TEST(SubscriberProtocolTest, BackoffResetsOnlyAfterAStreamDeliveredEvents) {
  ScriptedEventStream server;
  const grpc::Status resource_exhausted(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                        "message larger than max");
  for (int i = 0; i < 5; ++i) {
    server.AddScript(
        testing::EndWith(resource_exhausted, {HeartbeatMessage("E", 0)}));
  }
  server.AddScript(testing::EndWith(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"),
      {HeartbeatMessage("E", 0), EventsMessage("E", {1})}));
  server.AddScript(testing::Hang({HeartbeatMessage("E", 1)}));
  ConnectionLog log;
  Subscriber sub(ChannelTo(server), CeilingBackoff(log));
  EXPECT_EQ(PullEvents(sub, 1), (std::vector<uint64_t>{1}));
  ASSERT_EQ(server.WaitForRequests(7).size(), 7u);
  ASSERT_TRUE(log.WaitFor(ConnectionEvent::Kind::kConnected, 7));
  EXPECT_EQ(log.Delays(), (std::vector<absl::Duration>{
                              absl::Milliseconds(1), absl::Milliseconds(2),
                              absl::Milliseconds(4), absl::Milliseconds(8),
                              absl::Milliseconds(16), absl::Milliseconds(1)}));
  std::vector<int> attempts;
  std::vector<bool> resumed;
  for (const ConnectionEvent& e : log.Events()) {
    if (e.kind == ConnectionEvent::Kind::kDisconnected) {
      attempts.push_back(e.failed_attempts);
      EXPECT_FALSE(e.status.ok());
    } else {
      resumed.push_back(e.resumed);
    }
  }
  EXPECT_EQ(attempts, (std::vector<int>{1, 2, 3, 4, 5, 1}));
  EXPECT_EQ(resumed,
            (std::vector<bool>{false, true, true, true, true, true, true}));
  EXPECT_EQ(log.Events()[0].heartbeat.stream_epoch(), "E");
}

// Verifies a stream that delivered nothing but stayed open for
// `healthy_after` (on the injected clock) resets the backoff, and one that
// did not, does not.
TEST(SubscriberProtocolTest, BackoffResetsAfterAStreamStayedHealthy) {
  ScriptedEventStream server;
  const grpc::Status unavailable(grpc::StatusCode::UNAVAILABLE, "bye");
  absl::Notification short_lived;
  absl::Notification long_lived;
  server.AddScript(testing::EndWith(unavailable, {HeartbeatMessage("E", 0)}));
  server.AddScript(testing::EndWhenReleased(short_lived, unavailable,
                                            {HeartbeatMessage("E", 0)}));
  server.AddScript(testing::EndWhenReleased(long_lived, unavailable,
                                            {HeartbeatMessage("E", 0)}));
  server.AddScript(testing::Hang({HeartbeatMessage("E", 0)}));
  testing::FakeClock clock;
  ConnectionLog log;
  SubscriberOptions options = CeilingBackoff(log);
  options.clock = &clock;
  options.healthy_after = absl::Seconds(10);
  options.liveness_timeout = absl::InfiniteDuration();
  Subscriber sub(ChannelTo(server), options);

  ASSERT_TRUE(log.WaitFor(ConnectionEvent::Kind::kConnected, 2));
  clock.Advance(absl::Seconds(9));  // not long enough
  short_lived.Notify();
  ASSERT_TRUE(log.WaitFor(ConnectionEvent::Kind::kConnected, 3));
  clock.Advance(absl::Seconds(10));
  long_lived.Notify();
  ASSERT_TRUE(log.WaitFor(ConnectionEvent::Kind::kConnected, 4));
  EXPECT_EQ(log.Delays(), (std::vector<absl::Duration>{absl::Milliseconds(1),
                                                       absl::Milliseconds(2),
                                                       absl::Milliseconds(1)}));
}

// Verifies max_reconnect_attempts also ends a subscription whose streams
// each get a heartbeat and then fail (no healthy stream in between).
TEST(SubscriberProtocolTest, GivesUpOnStreamsThatFailAfterTheirHeartbeat) {
  ScriptedEventStream server;
  for (int i = 0; i < 10; ++i) {
    server.AddScript(testing::EndWith(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too large"),
        {HeartbeatMessage("E", 0)}));
  }
  ConnectionLog log;
  SubscriberOptions options = CeilingBackoff(log);
  options.max_reconnect_attempts = 3;
  Subscriber sub(ChannelTo(server), options);
  EXPECT_THAT(sub.Next(kWait),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       ::testing::HasSubstr("gave up after 3")));
  EXPECT_EQ(server.WaitForRequests(4).size(), 4u);
}

// Verifies follow_epoch_changes under GAP_POLICY_FAIL: the terminal
// EPOCH_CHANGED Gap is delivered, then the subscription goes on from the new
// epoch's oldest event (after_sequence = oldest - 1 in the new epoch).
TEST(SubscriberProtocolTest, FollowsAnEpochChangeUnderTheFailPolicy) {
  v1::Gap gap;
  gap.set_stream_epoch("E2");
  gap.set_requested_after_sequence(1);
  gap.set_oldest_sequence(1);
  gap.set_reason(v1::GAP_REASON_EPOCH_CHANGED);
  ScriptedEventStream server;
  server.AddScript(
      testing::EndWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "restart"),
                       {HeartbeatMessage("E1", 0), EventsMessage("E1", {1})}));
  server.AddScript(testing::EndWith(
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "epoch changed",
                   testing::RpcStatusWithGap(9, "epoch changed", gap))));
  server.AddScript(
      testing::Hang({HeartbeatMessage("E2", 0), EventsMessage("E2", {1, 2})}));
  SubscriberOptions options = FastOptions();
  options.follow_epoch_changes = true;
  Subscriber sub(ChannelTo(server), options);

  EXPECT_EQ(PullEvents(sub, 1), (std::vector<uint64_t>{1}));
  absl::StatusOr<Delivery> d = sub.Next(kWait);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->epoch_changed());
  EXPECT_EQ(d->gap.stream_epoch(), "E2");
  EXPECT_EQ(PullEvents(sub, 2), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(sub.position().stream_epoch, "E2");
  const std::vector<v1::SubscribeRequest> requests = server.WaitForRequests(3);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].after_sequence(), 1u);
  EXPECT_EQ(requests[1].stream_epoch(), "E1");
  EXPECT_EQ(requests[2].after_sequence(), 0u);
  EXPECT_EQ(requests[2].stream_epoch(), "E2");
  EXPECT_EQ(requests[2].gap_policy(), v1::GAP_POLICY_FAIL);
}

}  // namespace
}  // namespace hookstream
