// Fan-out under load: many concurrent subscribers each get every event once
// and in order; a stalled subscriber costs the others and the appender
// nothing, and learns its gap when it reads again.
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/distribution/gap_status.h"
#include "tests/server/distribution/test_events.h"
#include "tests/server/distribution/test_server.h"
#include "tests/testing/checking_reader.h"

namespace hookstream::distribution {
namespace {

using ::hookstream::testing::CheckingReader;
using testing::AppendOrDie;
using ::testing::HasSubstr;
using testing::MakeEvent;
using testing::Stream;
using testing::TestServer;

// Verifies 1,000 concurrent subscribers (callback reactors on 4 connections)
// each receive every event exactly once and in order, while events are
// appended before, during and after they subscribe.
TEST(FanOutTest, ThousandSubscribersReceiveEveryEventInOrderOnce) {
  constexpr int kSubscribers = 1000;
  constexpr int kEvents = 200;
  TestServer server({.max_events = 1000, .max_bytes = 64 << 20});
  std::vector<std::unique_ptr<v1::EventStream::Stub>> stubs;
  for (int c = 0; c < 4; ++c) {
    stubs.push_back(v1::EventStream::NewStub(server.NewChannel(c + 1)));
  }
  for (int n = 1; n <= kEvents / 2; ++n)
    AppendOrDie(server.store(), MakeEvent(n));

  // The second half is appended while subscribers are still starting.
  std::thread appender([&server] {
    for (int n = kEvents / 2 + 1; n <= kEvents; ++n) {
      AppendOrDie(server.store(), MakeEvent(n));
    }
  });
  std::vector<std::unique_ptr<CheckingReader>> readers;
  for (int i = 0; i < kSubscribers; ++i) {
    readers.push_back(
        std::make_unique<CheckingReader>(*stubs[i % 4], 0, kEvents));
  }
  appender.join();

  for (int i = 0; i < kSubscribers; ++i) {
    CheckingReader& reader = *readers[i];
    EXPECT_TRUE(reader.AwaitSequence(kEvents, absl::Seconds(60))) << i;
    reader.AwaitDone();
    EXPECT_EQ(reader.error(), "") << i;
    EXPECT_EQ(reader.received(), static_cast<uint64_t>(kEvents)) << i;
    EXPECT_EQ(reader.last(), static_cast<uint64_t>(kEvents)) << i;
    if (::testing::Test::HasFailure()) break;
  }
}

class StalledSubscriberTest : public ::testing::TestWithParam<v1::GapPolicy> {};

// Verifies a subscriber that stops reading while 20,000 events flow through a
// ring of 200: appends all succeed while it is stalled, two other subscribers
// get every event in order, and when it reads again it gets what was sent to
// it contiguously, then its gap exactly at its position: OUT_OF_RANGE with
// Gap details under FAIL, or a Gap message and the rest under RESUME.
TEST_P(StalledSubscriberTest, OthersUnaffectedAndStalledGetsItsGap) {
  constexpr uint64_t kEvents = 20'000;
  constexpr uint64_t kChunk = 50;  // < ring capacity: the active keep up
  TestServer server({.max_events = 200, .max_bytes = 64 << 20});
  const v1::GapPolicy policy = GetParam();

  // The stalled subscriber has its own connection, as another client would.
  std::unique_ptr<v1::EventStream::Stub> stalled_stub =
      v1::EventStream::NewStub(server.NewChannel(1));
  v1::SubscribeRequest request;
  request.set_after_sequence(0);
  request.set_include_raw_json(true);
  request.set_gap_policy(policy);
  Stream stalled(*stalled_stub, request, absl::Seconds(120));
  stalled.NextHeartbeat();  // subscribed; now it stops reading

  CheckingReader active_a(server.stub(), 0, kEvents, absl::Seconds(120));
  CheckingReader active_b(server.stub(), 0, kEvents, absl::Seconds(120));
  const std::string padding(400, 'p');
  for (uint64_t n = 1; n <= kEvents; ++n) {
    v1::Event event = MakeEvent(static_cast<int>(n));
    event.mutable_customer()->set_description(padding);
    ASSERT_EQ(AppendOrDie(server.store(), std::move(event)), n);
    if (n % kChunk == 0) {
      // Pace the appender by the active subscribers only, so they never
      // fall a ring behind; the stalled one is not waited for.
      ASSERT_TRUE(active_a.AwaitSequence(n, absl::Seconds(30))) << n;
      ASSERT_TRUE(active_b.AwaitSequence(n, absl::Seconds(30))) << n;
    }
  }
  EXPECT_EQ(active_a.error(), "");
  EXPECT_EQ(active_b.error(), "");
  EXPECT_EQ(active_a.received(), kEvents);
  EXPECT_EQ(active_b.received(), kEvents);
  EXPECT_LE(server.ring().GetInfo().event_count, 200u);

  // Reads again: contiguous events from 1, then the gap at its position.
  uint64_t last = 0;
  std::optional<v1::SubscribeResponse> message;
  while ((message = stalled.Next()) && !message->has_gap()) {
    for (const v1::Event& e : message->events().events()) {
      ASSERT_EQ(e.sequence(), last + 1);
      ASSERT_FALSE(e.raw_json().empty());
      last = e.sequence();
    }
  }
  ASSERT_LT(last, kEvents) << "the stalled subscriber was never evicted";
  RecordProperty("stalled_received_before_gap", static_cast<int>(last));
  v1::Gap gap;
  if (policy == v1::GAP_POLICY_FAIL) {
    ASSERT_FALSE(message) << message->DebugString();
    const grpc::Status status = stalled.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
    EXPECT_THAT(status.error_message(), HasSubstr("oldest available sequence"));
    const std::optional<v1::Gap> detail = GapFromGrpcStatus(status);
    ASSERT_TRUE(detail);
    gap = *detail;
  } else {
    ASSERT_TRUE(message && message->has_gap());
    gap = message->gap();
  }
  EXPECT_EQ(gap.reason(), v1::GAP_REASON_EVICTED);
  EXPECT_EQ(gap.requested_after_sequence(), last);
  EXPECT_GT(gap.oldest_sequence(), last + 1);
  EXPECT_EQ(gap.missed_count(), gap.oldest_sequence() - last - 1);
  if (policy == v1::GAP_POLICY_RESUME_FROM_OLDEST) {
    // The rest, from the gap's oldest, contiguous to the head. gRPC's
    // transport may still accept data for a stalled stream (its receive
    // window grows), so the stream can resume and fall behind again while
    // events are appended: each further gap must start exactly where
    // delivery stopped and account for exactly what it skipped.
    last = gap.oldest_sequence() - 1;
    while (last < kEvents && (message = stalled.Next())) {
      if (message->has_gap()) {
        const v1::Gap& again = message->gap();
        ASSERT_EQ(again.requested_after_sequence(), last);
        ASSERT_GT(again.oldest_sequence(), last + 1);
        ASSERT_EQ(again.missed_count(), again.oldest_sequence() - last - 1);
        last = again.oldest_sequence() - 1;
      }
      for (const v1::Event& e : message->events().events()) {
        ASSERT_EQ(e.sequence(), last + 1);
        last = e.sequence();
      }
    }
    EXPECT_EQ(last, kEvents);
  }
}

// Verifies streams that come and go while events are appended (the ring's
// wake-up racing the client's cancel, the finish racing the wake-up) end
// cleanly: every stream sees in-order events, and the subscriber count
// returns to zero. Run under ASan, this is the use-after-free check of the
// reactor's ending.
TEST(FanOutTest, SubscribersComingAndGoingWhileAppending) {
  TestServer server({.max_events = 100'000, .max_bytes = 256 << 20});
  std::atomic<bool> stop{false};
  std::atomic<int> appended{0};
  std::thread appender([&] {
    for (int n = 1; !stop.load(); ++n) {
      AppendOrDie(server.store(), MakeEvent(n));
      appended.store(n);
    }
  });
  for (int round = 0; round < 50; ++round) {
    std::vector<std::unique_ptr<CheckingReader>> readers;
    for (int i = 0; i < 20; ++i) {
      // Stops (cancels) a few events after wherever the stream starts.
      const uint64_t after = static_cast<uint64_t>(appended.load());
      readers.push_back(
          std::make_unique<CheckingReader>(server.stub(), after, after + 3));
    }
    for (auto& reader : readers) {
      reader->AwaitDone();
      EXPECT_EQ(reader->error(), "");
    }
  }
  stop.store(true);
  appender.join();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (server.server_subscriber_count() != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));  // polling the registry
  }
  EXPECT_EQ(server.server_subscriber_count(), 0u)
      << "streams never unregistered";
}

// Verifies Shutdown while streams are live and events are being appended:
// each stream (all reading) ends with a last heartbeat then UNAVAILABLE, and
// a stalled stream does not keep Shutdown from returning (it is cancelled at
// the grace deadline).
TEST(FanOutTest, ShutdownWhileAppendingWithAStalledStream) {
  TestServer server({.max_events = 200, .max_bytes = 64 << 20});
  std::unique_ptr<v1::EventStream::Stub> stalled_stub =
      v1::EventStream::NewStub(server.NewChannel(1));
  v1::SubscribeRequest request;
  request.set_after_sequence(0);
  request.set_gap_policy(v1::GAP_POLICY_RESUME_FROM_OLDEST);
  Stream stalled(*stalled_stub, request);
  stalled.NextHeartbeat();

  std::vector<std::unique_ptr<CheckingReader>> readers;
  for (int i = 0; i < 20; ++i) {
    readers.push_back(std::make_unique<CheckingReader>(
        server.stub(), 0, std::numeric_limits<uint64_t>::max()));
  }
  const std::string padding(2000, 'p');
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    for (int n = 1; !stop.load(); ++n) {
      v1::Event event = MakeEvent(n);
      event.mutable_customer()->set_description(padding);
      AppendOrDie(server.store(), std::move(event));
      // Keep the readers within the ring so they see no gap.
      if (n % 50 == 0) {
        for (auto& r : readers) r->AwaitSequence(n, absl::Seconds(30));
      }
    }
  });
  // Let everybody run a while: until the readers are past 2,000 events.
  for (auto& r : readers)
    ASSERT_TRUE(r->AwaitSequence(2000, absl::Seconds(60)));
  server.server().Shutdown(absl::Milliseconds(500));
  stop.store(true);
  appender.join();
  for (auto& r : readers) {
    const grpc::Status status = r->AwaitDone();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << status.error_message();
    EXPECT_EQ(r->error(), "");
    EXPECT_TRUE(r->last_message_was_heartbeat());
  }
  // The stalled stream ended too: whatever was buffered for it, then its end.
  int stalled_messages = 0;
  while (stalled.Next()) ++stalled_messages;
  const grpc::Status stalled_status = stalled.Finish();
  RecordProperty("stalled_messages", stalled_messages);
  RecordProperty("stalled_status",
                 static_cast<int>(stalled_status.error_code()));
  EXPECT_NE(stalled_status.error_code(), grpc::StatusCode::OK);
  // Ended by the server at its grace deadline, not by the client's own
  // deadline (which would also make it "not OK").
  EXPECT_NE(stalled_status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << stalled_status.error_message();
}

INSTANTIATE_TEST_SUITE_P(BothPolicies, StalledSubscriberTest,
                         ::testing::Values(v1::GAP_POLICY_FAIL,
                                           v1::GAP_POLICY_RESUME_FROM_OLDEST));

}  // namespace
}  // namespace hookstream::distribution
