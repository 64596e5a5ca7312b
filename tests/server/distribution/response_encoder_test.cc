#include "server/distribution/response_encoder.h"

#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "tests/server/distribution/test_events.h"
#include "tests/testing/fake_clock.h"

namespace hookstream::distribution {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::hookstream::distribution::testing::AppendOrDie;
using ::hookstream::distribution::testing::Expected;
using ::hookstream::distribution::testing::MakeEvent;
using ::hookstream::testing::FakeClock;
using ::hookstream::testing::MemoryStore;

v1::SubscribeResponse Decode(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  v1::SubscribeResponse response;
  EXPECT_TRUE(response.ParseFromString(bytes));
  return response;
}

// Verifies a hand-encoded batch decodes with the generated types into the
// appended events, every field equal, with and without raw JSON, and that
// the stored bytes outlive the ring's eviction while a buffer holds them.
TEST(ResponseEncoderTest, BatchDecodesWithGeneratedTypes) {
  FakeClock clock;
  MemoryStore store({.max_events = 3, .max_bytes = 1 << 20}, clock, "e1");
  EventRing& ring = store.ring();
  std::vector<v1::Event> appended;
  for (int n = 1; n <= 3; ++n) {
    appended.push_back(MakeEvent(n, n == 2 ? "refund.created" : "customer.x"));
    AppendOrDie(store, appended.back());
  }
  // A larger event: its length needs a 2-byte varint.
  v1::Event big = MakeEvent(4);
  big.mutable_customer()->set_description(std::string(300, 'd'));
  appended.push_back(big);
  AppendOrDie(store, big);

  EventRing::ReadResult read = ring.Read(0, {.max_events = 10});
  ASSERT_EQ(read.events.size(), 3u);  // 2..4 held
  int next_id = 10;
  for (bool raw : {false, true}) {
    const grpc::ByteBuffer buffer = EncodeEventBatch(read.events, raw);
    // Drop every other reference (the ring's by eviction; the read's after
    // the last use): the buffer's slices must keep the bytes alive.
    if (raw) read.events.clear();
    for (int i = 0; i < 4; ++i) AppendOrDie(store, MakeEvent(next_id++));
    const v1::SubscribeResponse response = Decode(buffer);
    ASSERT_TRUE(response.has_events());
    ASSERT_EQ(response.events().events_size(), 3);
    for (int i = 0; i < 3; ++i) {
      const v1::Event want = Expected(appended[i + 1], i + 2, "e1", raw);
      EXPECT_TRUE(MessageDifferencer::Equals(response.events().events(i), want))
          << "raw=" << raw << " got "
          << response.events().events(i).DebugString() << " want "
          << want.DebugString();
    }
  }
}

// Verifies heartbeats and gaps round-trip through EncodeResponse.
TEST(ResponseEncoderTest, ResponseRoundTrips) {
  v1::SubscribeResponse heartbeat;
  heartbeat.mutable_heartbeat()->set_stream_epoch("e1");
  heartbeat.mutable_heartbeat()->set_position(42);
  const v1::SubscribeResponse decoded = Decode(EncodeResponse(heartbeat));
  EXPECT_TRUE(decoded.has_heartbeat());
  EXPECT_TRUE(MessageDifferencer::Equals(decoded, heartbeat));

  v1::SubscribeResponse gap;
  gap.mutable_gap()->set_stream_epoch("e1");
  gap.mutable_gap()->set_requested_after_sequence(3);
  gap.mutable_gap()->set_oldest_sequence(10);
  gap.mutable_gap()->set_missed_count(6);
  gap.mutable_gap()->set_reason(v1::GAP_REASON_EVICTED);
  const v1::SubscribeResponse decoded_gap = Decode(EncodeResponse(gap));
  ASSERT_TRUE(decoded_gap.has_gap());
  EXPECT_EQ(decoded_gap.gap().oldest_sequence(), 10u);
  EXPECT_EQ(decoded_gap.gap().missed_count(), 6u);
  EXPECT_TRUE(MessageDifferencer::Equals(decoded_gap, gap));
}

}  // namespace
}  // namespace hookstream::distribution
