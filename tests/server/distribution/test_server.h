// An in-process DistributionServer on 127.0.0.1:0 over a real, small
// EventRing filled by the real memory backend, with a generated client stub
// over a real channel, and a blocking stream reader bounded by a context
// deadline (no sleeps).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/ring/event_ring.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "server/distribution/distribution_server.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/memory_store.h"

namespace hookstream::distribution::testing {

inline constexpr char kTestEpoch[] = "epoch-test";

class TestServer {
 public:
  explicit TestServer(EventRing::Options ring_options = {.max_events = 4096,
                                                         .max_bytes = 64 << 20})
      : store_(ring_options, clock_, kTestEpoch) {
    absl::StatusOr<std::unique_ptr<DistributionServer>> server =
        DistributionServer::Start({.address = "127.0.0.1:0"}, store_.ring(),
                                  clock_);
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) server_ = *std::move(server);
    // Heartbeats run on this fake clock: moving it sends what became due.
    clock_.OnChange([this] {
      if (server_ != nullptr) server_->WakeTimers();
    });
    channel_ = NewChannel(0);
    stub_ = v1::EventStream::NewStub(channel_);
  }

  // A channel with its own connection (`i` distinguishes them).
  std::shared_ptr<grpc::Channel> NewChannel(int i) const {
    grpc::ChannelArguments args;
    args.SetInt("hookstream.test.connection", i);
    return grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_ ? server_->port() : 1),
        grpc::InsecureChannelCredentials(), args);
  }

  // Live Subscribe streams, as GetStreamInfo reports them.
  uint64_t server_subscriber_count() {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStreamInfoResponse info;
    const grpc::Status status =
        stub_->GetStreamInfo(&context, v1::GetStreamInfoRequest(), &info);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return info.subscriber_count();
  }

  ::hookstream::testing::FakeClock& clock() { return clock_; }
  EventRing& ring() { return store_.ring(); }
  // Appends the way the server does (AppendOrDie(server.store(), event)).
  ::hookstream::testing::MemoryStore& store() { return store_; }
  DistributionServer& server() { return *server_; }
  v1::EventStream::Stub& stub() { return *stub_; }
  grpc::Channel& channel() { return *channel_; }

 private:
  ::hookstream::testing::FakeClock clock_;
  ::hookstream::testing::MemoryStore store_;
  std::unique_ptr<DistributionServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
};

// One Subscribe call read with the blocking API.
class Stream {
 public:
  Stream(v1::EventStream::Stub& stub, const v1::SubscribeRequest& request,
         absl::Duration timeout = absl::Seconds(30)) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    reader_ = stub.Subscribe(&context_, request);
  }

  ~Stream() {
    if (!finished_) {
      context_.TryCancel();
      Finish();
    }
  }

  // The next message, or nullopt once the stream has ended.
  std::optional<v1::SubscribeResponse> Next() {
    v1::SubscribeResponse response;
    if (!reader_->Read(&response)) return std::nullopt;
    return response;
  }

  // Reads the next message and expects a heartbeat.
  v1::Heartbeat NextHeartbeat() {
    std::optional<v1::SubscribeResponse> r = Next();
    EXPECT_TRUE(r && r->has_heartbeat())
        << (r ? r->DebugString() : "stream ended: " + FinishMessage());
    return r ? r->heartbeat() : v1::Heartbeat();
  }

  // Reads the next message and expects a gap.
  v1::Gap NextGap() {
    std::optional<v1::SubscribeResponse> r = Next();
    EXPECT_TRUE(r && r->has_gap())
        << (r ? r->DebugString() : "stream ended: " + FinishMessage());
    return r ? r->gap() : v1::Gap();
  }

  // Reads until `count` events arrived (skipping heartbeats, failing on a
  // gap or an end), counting the event messages in `messages`.
  std::vector<v1::Event> ReadEvents(size_t count, int* messages = nullptr) {
    std::vector<v1::Event> events;
    while (events.size() < count) {
      std::optional<v1::SubscribeResponse> r = Next();
      if (!r) {
        ADD_FAILURE() << "stream ended after " << events.size()
                      << " events: " << FinishMessage();
        break;
      }
      if (r->has_gap()) {
        ADD_FAILURE() << "unexpected gap " << r->DebugString();
        break;
      }
      if (!r->has_events()) continue;
      if (messages != nullptr) ++*messages;
      for (const v1::Event& e : r->events().events()) events.push_back(e);
    }
    return events;
  }

  // After Next returned nullopt: the final status.
  grpc::Status Finish() {
    if (!finished_) {
      status_ = reader_->Finish();
      finished_ = true;
    }
    return status_;
  }

  // Reads what is left (expecting nothing) and returns the final status.
  grpc::Status ExpectEnd() {
    if (std::optional<v1::SubscribeResponse> r = Next()) {
      ADD_FAILURE() << "expected the stream to end, got " << r->DebugString();
    }
    return Finish();
  }

  void Cancel() { context_.TryCancel(); }
  grpc::ClientContext& context() { return context_; }

 private:
  std::string FinishMessage() {
    const grpc::Status s = Finish();
    return absl::StrCat(s.error_code(), " ", s.error_message());
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader_;
  bool finished_ = false;
  grpc::Status status_;
};

}  // namespace hookstream::distribution::testing
