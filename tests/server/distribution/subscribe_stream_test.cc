// Subscribe over a real channel against an in-process server and a small
// real ring: start positions, filters, heartbeats, raw JSON, batching, the
// gap contract, live delivery and shutdown.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/proto_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/server/distribution/test_events.h"
#include "tests/server/distribution/test_server.h"

namespace hookstream::distribution {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using testing::AppendOrDie;
using testing::Expected;
using ::testing::HasSubstr;
using testing::kTestEpoch;
using testing::MakeEvent;
using testing::MemoryStore;
using testing::Stream;
using testing::TestServer;

v1::SubscribeRequest After(uint64_t sequence) {
  v1::SubscribeRequest r;
  r.set_after_sequence(sequence);
  return r;
}

v1::SubscribeRequest FromOrigin(v1::Origin origin) {
  v1::SubscribeRequest r;
  r.set_origin(origin);
  return r;
}

// Appends evt_<first>..evt_<last> and returns them as appended.
std::vector<v1::Event> AppendRange(MemoryStore& store, int first, int last) {
  std::vector<v1::Event> events;
  for (int n = first; n <= last; ++n) {
    events.push_back(MakeEvent(n));
    AppendOrDie(store, events.back());
  }
  return events;
}

std::vector<uint64_t> Sequences(const std::vector<v1::Event>& events) {
  std::vector<uint64_t> out;
  for (const v1::Event& e : events) out.push_back(e.sequence());
  return out;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

// Decodes the rich details the way a client in any language does: a
// google.rpc.Status whose details hold an Any(Gap).
std::optional<v1::Gap> DecodeGapDetails(const grpc::Status& status) {
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return std::nullopt;
  EXPECT_EQ(rich.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(rich.message(), status.error_message());
  for (const google::protobuf::Any& any : rich.details()) {
    v1::Gap gap;
    if (any.UnpackTo(&gap)) return gap;
  }
  return std::nullopt;
}

// Verifies the first message is a heartbeat even on an empty ring, carrying
// the epoch, position 0, head 0, oldest 1 and the server's clock.
TEST(SubscribeStreamTest, FirstMessageIsHeartbeatOnEmptyRing) {
  TestServer server;
  Stream stream(server.stub(), v1::SubscribeRequest());
  const v1::Heartbeat hb = stream.NextHeartbeat();
  EXPECT_EQ(hb.stream_epoch(), kTestEpoch);
  EXPECT_EQ(hb.position(), 0u);
  EXPECT_EQ(hb.head_sequence(), 0u);
  EXPECT_EQ(hb.oldest_sequence(), 1u);
  EXPECT_EQ(FromProtoTimestamp(hb.server_time()), server.clock().Now());
}

// Verifies after_sequence delivers from sequence + 1, every field of every
// event as appended (typed), without raw JSON by default.
TEST(SubscribeStreamTest, StartAfterSequence) {
  TestServer server;
  const std::vector<v1::Event> appended = AppendRange(server.store(), 1, 5);
  Stream stream(server.stub(), After(2));
  const v1::Heartbeat hb = stream.NextHeartbeat();
  EXPECT_EQ(hb.position(), 2u);
  EXPECT_EQ(hb.head_sequence(), 5u);
  EXPECT_EQ(hb.oldest_sequence(), 1u);
  const std::vector<v1::Event> got = stream.ReadEvents(3);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const v1::Event want = Expected(appended[i + 2], i + 3, kTestEpoch, false);
    EXPECT_TRUE(MessageDifferencer::Equals(got[i], want))
        << got[i].DebugString() << " vs " << want.DebugString();
  }
}

// Verifies after_event_id delivers the events that follow that event.
TEST(SubscribeStreamTest, StartAfterEventId) {
  TestServer server;
  AppendRange(server.store(), 1, 5);
  v1::SubscribeRequest r;
  r.set_after_event_id("evt_3");
  Stream stream(server.stub(), r);
  EXPECT_EQ(stream.NextHeartbeat().position(), 3u);
  EXPECT_EQ(Sequences(stream.ReadEvents(2)), Range(4, 5));
}

// Verifies ORIGIN_OLDEST delivers everything held, from the oldest.
TEST(SubscribeStreamTest, StartOriginOldest) {
  TestServer server({.max_events = 4, .max_bytes = 1 << 20});
  AppendRange(server.store(), 1, 10);  // holds 7..10
  Stream stream(server.stub(), FromOrigin(v1::ORIGIN_OLDEST));
  const v1::Heartbeat hb = stream.NextHeartbeat();
  EXPECT_EQ(hb.position(), 6u);
  EXPECT_EQ(hb.oldest_sequence(), 7u);
  EXPECT_EQ(Sequences(stream.ReadEvents(4)), Range(7, 10));
}

// Verifies ORIGIN_LATEST and no start deliver only events appended after the
// subscription (live delivery: subscribe, then Append, then receive).
TEST(SubscribeStreamTest, StartLatestAndNoneDeliverLiveEvents) {
  TestServer server;
  AppendRange(server.store(), 1, 3);
  Stream latest(server.stub(), FromOrigin(v1::ORIGIN_LATEST));
  Stream none(server.stub(), v1::SubscribeRequest());
  EXPECT_EQ(latest.NextHeartbeat().position(), 3u);
  EXPECT_EQ(none.NextHeartbeat().position(), 3u);
  const v1::Event live = MakeEvent(4);
  AppendOrDie(server.store(), live);
  for (Stream* s : {&latest, &none}) {
    const std::vector<v1::Event> got = s->ReadEvents(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(MessageDifferencer::Equals(
        got[0], Expected(live, 4, kTestEpoch, false)));
  }
}

// Verifies from_time delivers from the first event received at or after it.
TEST(SubscribeStreamTest, StartFromTime) {
  TestServer server;
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  for (int n = 1; n <= 5; ++n) {
    AppendOrDie(server.store(), MakeEvent(n, "customer.created", "acm_1",
                                          t0 + absl::Seconds(n)));
  }
  v1::SubscribeRequest r;
  *r.mutable_from_time() = ToProtoTimestamp(t0 + absl::Milliseconds(3500));
  Stream stream(server.stub(), r);
  EXPECT_EQ(stream.NextHeartbeat().position(), 3u);
  EXPECT_EQ(Sequences(stream.ReadEvents(2)), Range(4, 5));
}

// Verifies type patterns and accounts filter server-side, in order.
TEST(SubscribeStreamTest, TypePatternAndAccountFilters) {
  TestServer server;
  const char* types[] = {"customer.created", "refund.created", "refund.updated",
                         "customer.updated"};
  for (int n = 1; n <= 16; ++n) {
    AppendOrDie(server.store(), MakeEvent(n, types[n % 4],
                                          n % 2 == 0 ? "acm_even" : "acm_odd"));
  }
  v1::SubscribeRequest r = FromOrigin(v1::ORIGIN_OLDEST);
  r.mutable_filter()->add_types("refund.*");
  Stream refunds(server.stub(), r);
  r.mutable_filter()->add_accounts("acm_even");
  Stream even_refunds(server.stub(), r);
  v1::SubscribeRequest by_account = FromOrigin(v1::ORIGIN_OLDEST);
  by_account.mutable_filter()->add_types("customer.updated");
  by_account.mutable_filter()->add_types("refund.created");
  by_account.mutable_filter()->add_accounts("acm_odd");
  Stream odd(server.stub(), by_account);

  refunds.NextHeartbeat();
  even_refunds.NextHeartbeat();
  odd.NextHeartbeat();
  // n % 4 == 1 → refund.created (odd n), n % 4 == 2 → refund.updated (even).
  EXPECT_EQ(Sequences(refunds.ReadEvents(8)),
            (std::vector<uint64_t>{1, 2, 5, 6, 9, 10, 13, 14}));
  EXPECT_EQ(Sequences(even_refunds.ReadEvents(4)),
            (std::vector<uint64_t>{2, 6, 10, 14}));
  // n % 4 == 3 → customer.updated (odd), 1 → refund.created (odd).
  EXPECT_EQ(Sequences(odd.ReadEvents(8)),
            (std::vector<uint64_t>{1, 3, 5, 7, 9, 11, 13, 15}));
}

// Verifies an invalid filter or heartbeat interval ends the stream with
// INVALID_ARGUMENT before any message.
TEST(SubscribeStreamTest, InvalidArgumentsEndTheStream) {
  TestServer server;
  v1::SubscribeRequest bad_filter;
  bad_filter.mutable_filter()->add_types("cust*omer");
  Stream s1(server.stub(), bad_filter);
  grpc::Status status = s1.ExpectEnd();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("cust*omer"));

  v1::SubscribeRequest fast;
  fast.mutable_heartbeat_interval()->set_nanos(500'000'000);
  Stream s2(server.stub(), fast);
  EXPECT_EQ(s2.ExpectEnd().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Verifies heartbeats advance `position` past events the filter skipped, and
// come when the stream was idle for the interval (on the server's fake
// clock: no test time passes).
TEST(SubscribeStreamTest, HeartbeatsAdvancePositionUnderFilter) {
  TestServer server;
  AppendRange(server.store(), 1, 5);  // customer.created
  v1::SubscribeRequest r = FromOrigin(v1::ORIGIN_OLDEST);
  r.mutable_filter()->add_types("refund.*");
  r.mutable_heartbeat_interval()->set_seconds(1);
  Stream stream(server.stub(), r);
  EXPECT_EQ(stream.NextHeartbeat().position(), 0u);
  // Nothing matched: after an idle interval comes a heartbeat past all five.
  server.clock().Advance(absl::Seconds(1));
  v1::Heartbeat hb = stream.NextHeartbeat();
  EXPECT_EQ(hb.position(), 5u);
  EXPECT_EQ(hb.head_sequence(), 5u);

  AppendOrDie(server.store(), MakeEvent(6, "refund.created"));
  const std::vector<v1::Event> got = stream.ReadEvents(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sequence(), 6u);

  AppendOrDie(server.store(), MakeEvent(7, "customer.updated"));
  AppendOrDie(server.store(), MakeEvent(8, "customer.updated"));
  // The skipped events were scanned when they were applied (the stream was
  // woken); the next idle heartbeat reports the position past them.
  server.clock().Advance(absl::Seconds(1));
  hb = stream.NextHeartbeat();
  EXPECT_EQ(hb.position(), 8u);
  EXPECT_EQ(hb.head_sequence(), 8u);
}

// Verifies raw JSON is delivered only to subscribers that ask for it.
TEST(SubscribeStreamTest, RawJsonOnlyWhenAsked) {
  TestServer server;
  const std::vector<v1::Event> appended = AppendRange(server.store(), 1, 3);
  v1::SubscribeRequest with_raw = FromOrigin(v1::ORIGIN_OLDEST);
  with_raw.set_include_raw_json(true);
  Stream raw(server.stub(), with_raw);
  Stream plain(server.stub(), FromOrigin(v1::ORIGIN_OLDEST));
  raw.NextHeartbeat();
  plain.NextHeartbeat();
  const std::vector<v1::Event> raw_events = raw.ReadEvents(3);
  const std::vector<v1::Event> plain_events = plain.ReadEvents(3);
  ASSERT_EQ(raw_events.size(), 3u);
  ASSERT_EQ(plain_events.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(raw_events[i].raw_json().empty());
    EXPECT_TRUE(MessageDifferencer::Equals(
        raw_events[i], Expected(appended[i], i + 1, kTestEpoch, true)));
    EXPECT_TRUE(plain_events[i].raw_json().empty());
    EXPECT_TRUE(MessageDifferencer::Equals(
        plain_events[i], Expected(appended[i], i + 1, kTestEpoch, false)));
  }
}

// Verifies a subscriber far behind receives 1,000 events in order, batched
// into fewer than 1,000 messages.
TEST(SubscribeStreamTest, BatchesWhenBehind) {
  TestServer server;
  AppendRange(server.store(), 1, 1000);
  Stream stream(server.stub(), FromOrigin(v1::ORIGIN_OLDEST));
  stream.NextHeartbeat();
  int messages = 0;
  EXPECT_EQ(Sequences(stream.ReadEvents(1000, &messages)), Range(1, 1000));
  EXPECT_LT(messages, 1000);
  EXPECT_GT(messages, 1);  // bounded batches, not one giant message
}

// Verifies an evicted start under GAP_POLICY_FAIL ends with OUT_OF_RANGE
// whose message names the oldest sequence and whose rich details decode to
// the Gap.
TEST(SubscribeStreamTest, EvictedStartFails) {
  TestServer server({.max_events = 4, .max_bytes = 1 << 20});
  AppendRange(server.store(), 1, 10);
  v1::SubscribeRequest r = After(2);
  r.set_gap_policy(v1::GAP_POLICY_FAIL);
  Stream stream(server.stub(), r);
  const grpc::Status status = stream.ExpectEnd();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(),
              HasSubstr("oldest available sequence is 7"));
  const std::optional<v1::Gap> gap = DecodeGapDetails(status);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->stream_epoch(), kTestEpoch);
  EXPECT_EQ(gap->requested_after_sequence(), 2u);
  EXPECT_EQ(gap->oldest_sequence(), 7u);
  EXPECT_EQ(gap->missed_count(), 4u);
  EXPECT_EQ(gap->reason(), v1::GAP_REASON_EVICTED);
}

// Verifies an evicted start under RESUME_FROM_OLDEST: heartbeat, Gap, then
// every held event from the oldest.
TEST(SubscribeStreamTest, EvictedStartResumesFromOldest) {
  TestServer server({.max_events = 4, .max_bytes = 1 << 20});
  AppendRange(server.store(), 1, 10);
  v1::SubscribeRequest r = After(2);
  r.set_gap_policy(v1::GAP_POLICY_RESUME_FROM_OLDEST);
  Stream stream(server.stub(), r);
  EXPECT_EQ(stream.NextHeartbeat().position(), 6u);
  const v1::Gap gap = stream.NextGap();
  EXPECT_EQ(gap.requested_after_sequence(), 2u);
  EXPECT_EQ(gap.oldest_sequence(), 7u);
  EXPECT_EQ(gap.missed_count(), 4u);
  EXPECT_EQ(gap.reason(), v1::GAP_REASON_EVICTED);
  EXPECT_EQ(Sequences(stream.ReadEvents(4)), Range(7, 10));
}

// Applies MakeEvent(n) at `sequence` directly, as a follower fills its ring
// (holes allowed).
void ApplyAt(EventRing& ring, uint64_t sequence) {
  v1::Event event = MakeEvent(static_cast<int>(sequence));
  auto stored = std::make_shared<StoredEvent>();
  stored->Encode(event, ring.stream_epoch());
  stored->SetSequence(sequence);
  stored->log_time = absl::FromUnixSeconds(1'733'267'345);
  ASSERT_TRUE(ring.Apply(std::move(stored)).ok());
}

// Verifies the gap contract on a stream with holes (a follower's ring): a
// position inside a hole, or at the eviction floor, misses nothing; one
// below the floor gets the Gap (missed counts sequences); live events after
// a hole arrive; heartbeats report positions in the holes' terms.
TEST(SubscribeStreamTest, GapContractAcrossHoles) {
  TestServer server({.max_events = 2, .max_bytes = 1 << 20});
  for (uint64_t seq : {3, 5, 9, 10}) ApplyAt(server.ring(), seq);
  // 3 and 5 evicted: the floor is 5, 9 and 10 held, 6..8 a hole.
  Stream in_hole(server.stub(), After(7));
  EXPECT_EQ(in_hole.NextHeartbeat().oldest_sequence(), 6u);
  EXPECT_EQ(Sequences(in_hole.ReadEvents(2)), (std::vector<uint64_t>{9, 10}));
  Stream at_floor(server.stub(), After(5));
  at_floor.NextHeartbeat();
  EXPECT_EQ(Sequences(at_floor.ReadEvents(2)), (std::vector<uint64_t>{9, 10}));

  v1::SubscribeRequest below = After(3);
  below.set_gap_policy(v1::GAP_POLICY_FAIL);
  Stream failed(server.stub(), below);
  const grpc::Status status = failed.ExpectEnd();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  const std::optional<v1::Gap> gap = DecodeGapDetails(status);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->oldest_sequence(), 6u);
  EXPECT_EQ(gap->missed_count(), 2u);  // sequences 4 and 5

  below.set_gap_policy(v1::GAP_POLICY_RESUME_FROM_OLDEST);
  Stream resumed(server.stub(), below);
  resumed.NextHeartbeat();
  EXPECT_EQ(resumed.NextGap().oldest_sequence(), 6u);
  EXPECT_EQ(Sequences(resumed.ReadEvents(2)), (std::vector<uint64_t>{9, 10}));

  ApplyAt(server.ring(), 20);  // another hole, then a live event
  EXPECT_EQ(Sequences(in_hole.ReadEvents(1)), (std::vector<uint64_t>{20}));
  server.clock().Advance(absl::Seconds(15));
  const v1::Heartbeat hb = in_hole.NextHeartbeat();
  EXPECT_EQ(hb.position(), 20u);
  EXPECT_EQ(hb.head_sequence(), 20u);
  EXPECT_EQ(hb.oldest_sequence(), 10u);
}

// Verifies an epoch mismatch: FAILED_PRECONDITION with Gap details under
// FAIL; a Gap{EPOCH_CHANGED} then everything from the oldest under RESUME.
TEST(SubscribeStreamTest, EpochMismatchUnderBothPolicies) {
  TestServer server({.max_events = 4, .max_bytes = 1 << 20});
  AppendRange(server.store(), 1, 6);  // holds 3..6
  v1::SubscribeRequest r = After(5);
  r.set_stream_epoch("an-older-epoch");
  Stream failing(server.stub(), r);
  const grpc::Status status = failing.ExpectEnd();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const std::optional<v1::Gap> detail = DecodeGapDetails(status);
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->reason(), v1::GAP_REASON_EPOCH_CHANGED);
  EXPECT_EQ(detail->stream_epoch(), kTestEpoch);
  EXPECT_EQ(detail->oldest_sequence(), 3u);

  r.set_gap_policy(v1::GAP_POLICY_RESUME_FROM_OLDEST);
  Stream resuming(server.stub(), r);
  EXPECT_EQ(resuming.NextHeartbeat().stream_epoch(), kTestEpoch);
  const v1::Gap gap = resuming.NextGap();
  EXPECT_EQ(gap.reason(), v1::GAP_REASON_EPOCH_CHANGED);
  EXPECT_EQ(gap.requested_after_sequence(), 5u);
  EXPECT_EQ(gap.oldest_sequence(), 3u);
  EXPECT_EQ(gap.missed_count(), 0u);
  EXPECT_EQ(Sequences(resuming.ReadEvents(4)), Range(3, 6));
}

// Verifies an event id never seen is NOT_FOUND, and one seen but evicted is
// an evicted position (OUT_OF_RANGE with a Gap).
TEST(SubscribeStreamTest, UnknownAndEvictedEventIds) {
  TestServer server({.max_events = 4, .max_bytes = 1 << 20});
  AppendRange(server.store(), 1, 10);
  v1::SubscribeRequest r;
  r.set_after_event_id("evt_never");
  Stream unknown(server.stub(), r);
  EXPECT_EQ(unknown.ExpectEnd().error_code(), grpc::StatusCode::NOT_FOUND);

  r.set_after_event_id("evt_2");
  Stream evicted(server.stub(), r);
  const grpc::Status status = evicted.ExpectEnd();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  ASSERT_TRUE(DecodeGapDetails(status));
  EXPECT_EQ(DecodeGapDetails(status)->requested_after_sequence(), 2u);
}

// Verifies a position beyond the head in the same epoch is OUT_OF_RANGE.
TEST(SubscribeStreamTest, PositionBeyondHead) {
  TestServer server;
  AppendRange(server.store(), 1, 3);
  v1::SubscribeRequest r = After(9);
  r.set_stream_epoch(kTestEpoch);
  Stream stream(server.stub(), r);
  const grpc::Status status = stream.ExpectEnd();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(), HasSubstr("beyond the head"));
  EXPECT_TRUE(status.error_details().empty());
}

// Verifies Shutdown ends every stream with a last heartbeat carrying its
// position, then UNAVAILABLE (later subscribers are refused:
// ShutdownContractWithAStalledStream).
TEST(SubscribeStreamTest, ShutdownSendsLastHeartbeatThenUnavailable) {
  TestServer server;
  Stream idle(server.stub(), v1::SubscribeRequest());
  Stream reading(server.stub(), FromOrigin(v1::ORIGIN_OLDEST));
  idle.NextHeartbeat();
  reading.NextHeartbeat();
  AppendRange(server.store(), 1, 3);
  EXPECT_EQ(Sequences(reading.ReadEvents(3)), Range(1, 3));
  EXPECT_EQ(Sequences(idle.ReadEvents(3)), Range(1, 3));

  // Shutdown waits for the streams to finish, which needs these reads.
  std::thread stopper(
      [&server] { server.server().Shutdown(absl::Seconds(20)); });
  for (Stream* s : {&idle, &reading}) {
    const v1::Heartbeat last = s->NextHeartbeat();
    EXPECT_EQ(last.position(), 3u);
    EXPECT_EQ(last.head_sequence(), 3u);
    const grpc::Status status = s->ExpectEnd();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << status.error_message();
  }
  stopper.join();
  server.server().Shutdown(absl::Seconds(1));  // idempotent
}

// grpc.health.v1.Health/Check's answer: 1 SERVING, 2 NOT_SERVING, or -1
// with the status when the call failed.
int HealthStatus(grpc::Channel& channel) {
  grpc::GenericStub generic(channel.shared_from_this());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  const grpc::Slice empty;
  const grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check",
                    grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes.size() == 2 && bytes[0] == '\x08' ? bytes[1] : -1;
}

// Verifies the shutdown contract while a stalled stream (its client reads
// nothing; ~20 MB wait for it behind HTTP/2 flow control) holds Shutdown up
// to its grace: health answers NOT_SERVING meanwhile, a new Subscribe is
// UNAVAILABLE at once (not queued until the end), and the stalled stream is
// ended by the server at the grace deadline, not by its own (far) client
// deadline.
TEST(SubscribeStreamTest, ShutdownContractWithAStalledStream) {
  TestServer server({.max_events = 10'000, .max_bytes = 256 << 20});
  ASSERT_EQ(HealthStatus(server.channel()), 1);
  std::unique_ptr<v1::EventStream::Stub> stalled_stub =
      v1::EventStream::NewStub(server.NewChannel(1));
  Stream stalled(*stalled_stub, FromOrigin(v1::ORIGIN_OLDEST),
                 absl::Seconds(240));
  stalled.NextHeartbeat();
  const std::string padding(4000, 'p');
  for (int n = 1; n <= 5000; ++n) {
    v1::Event event = MakeEvent(n);
    event.mutable_customer()->set_description(padding);
    AppendOrDie(server.store(), std::move(event));
  }

  absl::Notification stopped;
  std::thread stopper([&] {
    server.server().Shutdown(absl::Seconds(10));
    stopped.Notify();
  });
  // Health turns NOT_SERVING while the stalled stream holds Shutdown up.
  int health = 1;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (health == 1 && absl::Now() < deadline) {
    health = HealthStatus(server.channel());
  }
  EXPECT_EQ(health, 2) << "health during shutdown";
  EXPECT_FALSE(stopped.HasBeenNotified()) << "the stalled stream did not hold "
                                             "Shutdown up: the test proves "
                                             "nothing";
  Stream late(server.stub(), v1::SubscribeRequest());
  const grpc::Status late_status = late.ExpectEnd();
  EXPECT_EQ(late_status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << late_status.error_message();
  EXPECT_FALSE(stopped.HasBeenNotified());

  stopper.join();
  while (stalled.Next()) {
  }
  const grpc::Status end = stalled.Finish();
  EXPECT_NE(end.error_code(), grpc::StatusCode::OK);
  EXPECT_NE(end.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << "ended by its own deadline, not by the server's grace";
}

// Verifies a client that cancels its stream is cleaned up (the subscriber
// count drops back to zero).
TEST(SubscribeStreamTest, ClientCancelEndsStream) {
  TestServer server;
  {
    Stream stream(server.stub(), v1::SubscribeRequest());
    stream.NextHeartbeat();
    stream.Cancel();
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // OnDone runs after the client saw the end; poll GetStreamInfo until then.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (server.server_subscriber_count() != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));  // polling the registry
  }
  EXPECT_EQ(server.server_subscriber_count(), 0u)
      << "subscriber never unregistered";
}

}  // namespace
}  // namespace hookstream::distribution
