// The unary methods (GetEvent, ListEvents, GetStreamInfo) and the services
// the server adds (health), over a real channel.
#include "server/distribution/event_stream_service.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/base/proto_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/client_callback.h"
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
using testing::Stream;
using testing::TestServer;

class EventStreamServiceTest : public ::testing::Test {
 protected:
  // Bounded by a deadline so a hang fails instead of blocking the suite.
  static void SetDeadline(grpc::ClientContext* context) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  }

  grpc::Status GetEvent(const v1::GetEventRequest& request,
                        v1::GetEventResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return server_.stub().GetEvent(&context, request, response);
  }

  grpc::Status List(const v1::ListEventsRequest& request,
                    v1::ListEventsResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context);
    return server_.stub().ListEvents(&context, request, response);
  }

  v1::GetStreamInfoResponse Info() {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::GetStreamInfoResponse info;
    EXPECT_TRUE(server_.stub()
                    .GetStreamInfo(&context, v1::GetStreamInfoRequest(), &info)
                    .ok());
    return info;
  }

  TestServer server_{{.max_events = 1200, .max_bytes = 64 << 20}};
};

std::vector<uint64_t> Sequences(const v1::ListEventsResponse& response) {
  std::vector<uint64_t> out;
  for (const v1::Event& e : response.events()) out.push_back(e.sequence());
  return out;
}

// Verifies GetEvent by sequence and by id returns the whole event with its
// raw JSON.
TEST_F(EventStreamServiceTest, GetEventBySequenceAndId) {
  const v1::Event appended = MakeEvent(1);
  AppendOrDie(server_.store(), appended);
  AppendOrDie(server_.store(), MakeEvent(2));
  const v1::Event want = Expected(appended, 1, kTestEpoch, true);

  v1::GetEventRequest by_sequence;
  by_sequence.set_sequence(1);
  v1::GetEventResponse response;
  ASSERT_TRUE(GetEvent(by_sequence, &response).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(response.event(), want))
      << response.event().DebugString();

  v1::GetEventRequest by_id;
  by_id.set_event_id("evt_1");
  response.Clear();
  ASSERT_TRUE(GetEvent(by_id, &response).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(response.event(), want));
}

// Verifies GetEvent is NOT_FOUND for a sequence or id not held (evicted or
// never appended), and INVALID_ARGUMENT without a key.
TEST_F(EventStreamServiceTest, GetEventNotFound) {
  AppendOrDie(server_.store(), MakeEvent(1));
  v1::GetEventRequest request;
  v1::GetEventResponse response;
  request.set_sequence(2);
  grpc::Status status = GetEvent(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("sequence 2"));
  request.set_event_id("evt_404");
  EXPECT_EQ(GetEvent(request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(GetEvent(v1::GetEventRequest(), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Verifies ListEvents pages through held events in order with the default
// page size, and next_after_sequence resumes exactly and ends at the head.
TEST_F(EventStreamServiceTest, ListEventsPages) {
  for (int n = 1; n <= 250; ++n) AppendOrDie(server_.store(), MakeEvent(n));
  v1::ListEventsRequest request;
  std::vector<uint64_t> seen;
  for (int page = 0; page < 10; ++page) {
    v1::ListEventsResponse response;
    ASSERT_TRUE(List(request, &response).ok());
    EXPECT_EQ(response.stream_epoch(), kTestEpoch);
    EXPECT_LE(response.events_size(), 100);
    for (const v1::Event& e : response.events()) {
      seen.push_back(e.sequence());
      EXPECT_TRUE(e.raw_json().empty());
    }
    if (response.events().empty()) {
      EXPECT_EQ(response.next_after_sequence(), 250u);
      break;
    }
    request.set_after_sequence(response.next_after_sequence());
  }
  ASSERT_EQ(seen.size(), 250u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
}

// Verifies page_size is clamped to 1,000 and raw JSON is included on request.
TEST_F(EventStreamServiceTest, ListEventsClampsPageSizeAndIncludesRawJson) {
  for (int n = 1; n <= 1100; ++n) AppendOrDie(server_.store(), MakeEvent(n));
  v1::ListEventsRequest request;
  request.set_page_size(5000);
  request.set_include_raw_json(true);
  v1::ListEventsResponse response;
  ASSERT_TRUE(List(request, &response).ok());
  ASSERT_EQ(response.events_size(), 1000);
  EXPECT_EQ(response.next_after_sequence(), 1000u);
  EXPECT_FALSE(response.events(0).raw_json().empty());
  EXPECT_TRUE(MessageDifferencer::Equals(
      response.events(999), Expected(MakeEvent(1000), 1000, kTestEpoch, true)));
}

// Verifies ListEvents applies the filter, reports how far it scanned when
// the page is not full, and rejects a bad pattern.
TEST_F(EventStreamServiceTest, ListEventsFilters) {
  for (int n = 1; n <= 20; ++n) {
    AppendOrDie(server_.store(), MakeEvent(n, n % 5 == 0 ? "refund.created"
                                                         : "customer.created"));
  }
  v1::ListEventsRequest request;
  request.mutable_filter()->add_types("refund.*");
  request.set_page_size(3);
  v1::ListEventsResponse response;
  ASSERT_TRUE(List(request, &response).ok());
  EXPECT_EQ(Sequences(response), (std::vector<uint64_t>{5, 10, 15}));
  // The page filled at 20 (a fourth match): 16..19 were scanned and skipped.
  EXPECT_EQ(response.next_after_sequence(), 19u);
  request.set_after_sequence(19);
  ASSERT_TRUE(List(request, &response).ok());
  EXPECT_EQ(Sequences(response), (std::vector<uint64_t>{20}));
  EXPECT_EQ(response.next_after_sequence(), 20u);

  request.mutable_filter()->add_types("re*fund");
  EXPECT_EQ(List(request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Verifies GetStreamInfo reports the ring's state and live subscribers.
TEST_F(EventStreamServiceTest, GetStreamInfo) {
  for (int n = 1; n <= 3; ++n) AppendOrDie(server_.store(), MakeEvent(n));
  v1::GetStreamInfoResponse info = Info();
  EXPECT_EQ(info.stream_epoch(), kTestEpoch);
  EXPECT_EQ(info.oldest_sequence(), 1u);
  EXPECT_EQ(info.head_sequence(), 3u);
  EXPECT_EQ(info.event_count(), 3u);
  EXPECT_EQ(info.byte_count(), server_.ring().GetInfo().byte_count);
  EXPECT_GT(info.byte_count(), 0u);
  EXPECT_EQ(info.event_capacity(), 1200u);
  EXPECT_EQ(info.byte_capacity(), 64u << 20);
  EXPECT_EQ(info.dedup_count(), 3u);
  EXPECT_EQ(FromProtoTimestamp(info.start_time()),
            server_.ring().GetInfo().start_time);
  EXPECT_EQ(info.subscriber_count(), 0u);

  Stream a(server_.stub(), v1::SubscribeRequest());
  Stream b(server_.stub(), v1::SubscribeRequest());
  a.NextHeartbeat();  // registered before its first message
  b.NextHeartbeat();
  EXPECT_EQ(Info().subscriber_count(), 2u);
}

// Verifies the server answers grpc.health.v1.Health/Check with SERVING.
TEST_F(EventStreamServiceTest, HealthServing) {
  grpc::GenericStub generic(server_.channel().shared_from_this());
  grpc::ClientContext context;
  SetDeadline(&context);
  // HealthCheckRequest{service: ""} is the empty message.
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
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  // HealthCheckResponse{status: SERVING (1)}: field 1, varint 1.
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

// Verifies Start refuses a stream scheduler without threads (or absurdly
// many) before listening.
TEST(DistributionServerTest, RejectsStreamThreadsOutOfRange) {
  ::hookstream::testing::FakeClock clock;
  EventRing ring({.max_events = 16, .max_bytes = 1 << 20}, clock,
                 {.epoch = kTestEpoch});
  for (const int threads : {0, 257}) {
    const absl::StatusOr<std::unique_ptr<DistributionServer>> server =
        DistributionServer::Start(
            {.address = "127.0.0.1:0", .stream_threads = threads}, ring, clock);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument)
        << threads;
  }
}

// One reflection exchange: writes a request, reads one response, closes.
class ReflectionCall final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  ReflectionCall(grpc::GenericStub& stub, const std::string& request_bytes) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    const grpc::Slice slice(request_bytes);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub.PrepareBidiStreamingCall(
        &context_,
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        grpc::StubOptions(), this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool /*ok*/) override { StartWritesDone(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    std::vector<grpc::Slice> slices;
    if (response_.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        bytes_.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }
  // The concatenated response bytes once the call ended.
  std::string Await() {
    done_.WaitForNotification();
    return bytes_;
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::string bytes_;
  grpc::Status status_;
  absl::Notification done_;
};

// Verifies server reflection lists hookstream.v1.EventStream.
TEST_F(EventStreamServiceTest, ReflectionListsTheService) {
  grpc::GenericStub generic(server_.channel().shared_from_this());
  // ServerReflectionRequest{list_services: "*"}: field 7, length 1.
  ReflectionCall call(generic, std::string("\x3a\x01*", 3));
  const std::string bytes = call.Await();
  EXPECT_THAT(bytes, HasSubstr("hookstream.v1.EventStream"));
  EXPECT_THAT(bytes, HasSubstr("grpc.health.v1.Health"));
}

}  // namespace
}  // namespace hookstream::distribution
