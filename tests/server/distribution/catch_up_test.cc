// Tests of CatchUp: calls waiting for a lagging replica to apply the shared
// log up to its last sequence as of the call (server/distribution/
// catch_up.h), against a real EventRing whose "log" is a test knob.
#include "server/distribution/catch_up.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <mutex>

#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "server/distribution/distribution_server.h"
#include "tests/server/distribution/test_events.h"
#include "tests/server/distribution/test_server.h"
#include "tests/testing/fake_clock.h"

namespace hookstream::distribution {
namespace {

using testing::AppendOrDie;
using testing::MakeEvent;
using testing::MemoryStore;

// The ring as a follower of a log whose last sequence the test sets; its
// LogLastSequence can be held (a slow request to the log) and counts calls.
class LaggingReader final : public EventReader {
 public:
  explicit LaggingReader(EventRing& ring) : ring_(ring) {}

  void set_log_last(uint64_t last) { log_last_ = last; }
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  // Waits until LogLastSequence was entered `n` times.
  void AwaitCalls(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return calls_ >= n; });
  }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

  uint64_t LogLastSequence() const override {
    std::unique_lock lock(mu_);
    ++calls_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    return log_last_.load();
  }

  StoredEventPtr Get(uint64_t sequence) const override {
    return ring_.Get(sequence);
  }
  StoredEventPtr GetById(absl::string_view id) const override {
    return ring_.GetById(id);
  }
  std::optional<uint64_t> SequenceOfEventId(
      absl::string_view id) const override {
    return ring_.SequenceOfEventId(id);
  }
  uint64_t FirstSequenceAtOrAfter(absl::Time time) const override {
    return ring_.FirstSequenceAtOrAfter(time);
  }
  ReadResult Read(
      uint64_t after, const ReadOptions& options,
      absl::FunctionRef<bool(const StoredEvent&)> match) const override {
    return ring_.Read(after, options, match);
  }
  std::optional<WaitToken> Wait(uint64_t after,
                                WaitCallback callback) override {
    return ring_.Wait(after, std::move(callback));
  }
  bool CancelWait(WaitToken token) override { return ring_.CancelWait(token); }
  Info GetInfo() const override { return ring_.GetInfo(); }
  const std::string& stream_epoch() const override {
    return ring_.stream_epoch();
  }

 private:
  EventRing& ring_;
  std::atomic<uint64_t> log_last_{0};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int calls_ = 0;  // guarded by mu_
  bool held_ = false;      // guarded by mu_
};

class CatchUpTest : public ::testing::Test {
 protected:
  hookstream::testing::FakeClock clock_;
  MemoryStore store_{{.max_events = 100}, clock_};
  LaggingReader reader_{store_.ring()};
};

// A callback that hands its answer to the test.
struct Answer {
  std::promise<bool> promise;
  std::future<bool> future = promise.get_future();
  CatchUp::Callback Callback() {
    return [this](bool caught_up) { promise.set_value(caught_up); };
  }
};

// Verifies that a reader following no log (its head is its last sequence)
// is caught up at once.
TEST_F(CatchUpTest, AReaderWithoutALogIsCaughtUpAtOnce) {
  CatchUp catch_up(store_.ring());
  AppendOrDie(store_, MakeEvent(1));
  Answer answer;
  ASSERT_TRUE(catch_up.Await(absl::InfiniteFuture(), answer.Callback()));
  EXPECT_TRUE(answer.future.get());
}

// Verifies that a call waits until the reader applied the log's last
// sequence as of the call, and no longer.
TEST_F(CatchUpTest, WaitsUntilTheLogsLastSequenceIsApplied) {
  AppendOrDie(store_, MakeEvent(1));
  reader_.set_log_last(3);
  CatchUp catch_up(reader_);
  Answer answer;
  ASSERT_TRUE(catch_up.Await(absl::InfiniteFuture(), answer.Callback()));
  reader_.AwaitCalls(1);
  AppendOrDie(store_, MakeEvent(2));
  // Head 2 of 3: still waiting (only the deadline, an hour away, or head 3
  // can answer it).
  EXPECT_EQ(answer.future.wait_for(std::chrono::milliseconds(0)),
            std::future_status::timeout);
  reader_.set_log_last(10);  // later appends to the log do not matter
  AppendOrDie(store_, MakeEvent(3));
  EXPECT_TRUE(answer.future.get());
}

// Verifies that the deadline answers a call whose replica does not catch up.
TEST_F(CatchUpTest, TheDeadlineAnswersNotCaughtUp) {
  reader_.set_log_last(5);
  CatchUp catch_up(reader_);
  Answer answer;
  ASSERT_TRUE(
      catch_up.Await(absl::Now() + absl::Milliseconds(20), answer.Callback()));
  EXPECT_FALSE(answer.future.get());
}

// Verifies that calls arriving while the log is being asked share the next
// request (one per batch, not one per call).
TEST_F(CatchUpTest, CallsWaitingForTheLogShareOneRequest) {
  AppendOrDie(store_, MakeEvent(1));
  reader_.set_log_last(1);
  reader_.Hold();
  CatchUp catch_up(reader_);
  Answer first, second, third;
  ASSERT_TRUE(catch_up.Await(absl::InfiniteFuture(), first.Callback()));
  reader_.AwaitCalls(1);
  ASSERT_TRUE(catch_up.Await(absl::InfiniteFuture(), second.Callback()));
  ASSERT_TRUE(catch_up.Await(absl::InfiniteFuture(), third.Callback()));
  reader_.Release();
  EXPECT_TRUE(first.future.get());
  EXPECT_TRUE(second.future.get());
  EXPECT_TRUE(third.future.get());
  EXPECT_EQ(reader_.calls(), 2);
}

// Verifies Cancel (the callback never runs) and Stop (pending calls are
// answered, later ones refused).
TEST_F(CatchUpTest, CancelAndStop) {
  reader_.set_log_last(5);
  CatchUp catch_up(reader_);
  std::atomic<bool> ran{false};
  const std::optional<CatchUp::Token> cancelled =
      catch_up.Await(absl::InfiniteFuture(), [&ran](bool) { ran = true; });
  ASSERT_TRUE(cancelled);
  EXPECT_TRUE(catch_up.Cancel(*cancelled));
  Answer pending;
  ASSERT_TRUE(catch_up.Await(absl::InfiniteFuture(), pending.Callback()));
  reader_.AwaitCalls(1);
  catch_up.Stop();
  EXPECT_FALSE(pending.future.get());
  EXPECT_FALSE(ran);
  EXPECT_FALSE(catch_up.Await(absl::InfiniteFuture(), [](bool) {}));
}

// The server's live subscriptions, as `hookstream subscribers` asks.
v1::ListSubscribersResponse ListSubscribers(v1::EventStream::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::ListSubscribersResponse out;
  const grpc::Status s = stub.ListSubscribers(&ctx, {}, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

// Verifies that ListSubscribers shows a Subscribe whose after_event_id waits
// for the replica to catch up as waiting, with the start it asked for and no
// position or lag (not position 0 with the whole stream as its lag), and
// with its position once it started.
TEST_F(CatchUpTest, AWaitingSubscriberIsListedAsWaiting) {
  AppendOrDie(store_, MakeEvent(1));
  reader_.set_log_last(3);
  absl::StatusOr<std::unique_ptr<DistributionServer>> server =
      DistributionServer::Start({.address = "127.0.0.1:0"}, reader_, clock_);
  ASSERT_TRUE(server.ok()) << server.status();
  std::unique_ptr<v1::EventStream::Stub> stub = v1::EventStream::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));
  v1::SubscribeRequest request;
  request.set_after_event_id(MakeEvent(3).id());
  testing::Stream stream(*stub, request);
  reader_.AwaitCalls(1);  // the start is waiting in CatchUp

  v1::ListSubscribersResponse listed = ListSubscribers(*stub);
  ASSERT_EQ(listed.subscribers_size(), 1);
  EXPECT_TRUE(listed.subscribers(0).waiting());
  EXPECT_EQ(listed.subscribers(0).start(),
            absl::StrCat("after_event_id=", MakeEvent(3).id()));
  EXPECT_EQ(listed.subscribers(0).position(), 0u);
  EXPECT_EQ(listed.subscribers(0).lag_events(), 0u);

  AppendOrDie(store_, MakeEvent(2));
  AppendOrDie(store_, MakeEvent(3));
  EXPECT_EQ(stream.NextHeartbeat().position(), 3u);  // started after evt_3
  listed = ListSubscribers(*stub);
  ASSERT_EQ(listed.subscribers_size(), 1);
  EXPECT_FALSE(listed.subscribers(0).waiting());
  EXPECT_EQ(listed.subscribers(0).position(), 3u);
}

}  // namespace
}  // namespace hookstream::distribution
