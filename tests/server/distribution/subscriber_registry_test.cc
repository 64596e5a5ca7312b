#include "server/distribution/subscriber_registry.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace hookstream::distribution {
namespace {

class FakeStream : public ShutdownTarget {
 public:
  void RequestShutdown() override { ++requests_; }
  int requests() const { return requests_.load(); }

 private:
  std::atomic<int> requests_{0};
};

// Verifies Add/Remove keep the count, Remove of an unknown stream is a
// no-op, and a stream added twice counts once.
TEST(SubscriberRegistryTest, CountsLiveStreams) {
  SubscriberRegistry registry;
  FakeStream a, b, never_added;
  EXPECT_EQ(registry.count(), 0u);
  ASSERT_TRUE(registry.Add(&a).ok());
  ASSERT_TRUE(registry.Add(&b).ok());
  ASSERT_TRUE(registry.Add(&b).ok());
  EXPECT_EQ(registry.count(), 2u);
  registry.Remove(&never_added);
  EXPECT_EQ(registry.count(), 2u);
  registry.Remove(&a);
  registry.Remove(&a);
  EXPECT_EQ(registry.count(), 1u);
  registry.Remove(&b);
  EXPECT_EQ(registry.count(), 0u);
}

// Verifies the cap: RESOURCE_EXHAUSTED at max_streams, room again after a
// Remove.
TEST(SubscriberRegistryTest, CapIsResourceExhausted) {
  SubscriberRegistry registry(2);
  FakeStream a, b, c;
  ASSERT_TRUE(registry.Add(&a).ok());
  ASSERT_TRUE(registry.Add(&b).ok());
  const absl::Status over = registry.Add(&c);
  EXPECT_TRUE(absl::IsResourceExhausted(over)) << over;
  EXPECT_EQ(registry.count(), 2u);
  registry.Remove(&a);
  EXPECT_TRUE(registry.Add(&c).ok());
}

// Verifies Shutdown asks every live stream once (also when called again),
// refuses later ones with UNAVAILABLE, and WaitUntilEmpty returns true only
// once the last stream is removed (false at its deadline before that).
TEST(SubscriberRegistryTest, ShutdownAsksEachStreamAndRefusesNewOnes) {
  SubscriberRegistry registry;
  FakeStream a, b, late;
  ASSERT_TRUE(registry.Add(&a).ok());
  ASSERT_TRUE(registry.Add(&b).ok());
  EXPECT_FALSE(registry.shutting_down());
  registry.Shutdown();
  registry.Shutdown();
  EXPECT_TRUE(registry.shutting_down());
  EXPECT_EQ(a.requests(), 1);
  EXPECT_EQ(b.requests(), 1);
  const absl::Status refused = registry.Add(&late);
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_EQ(late.requests(), 0);
  EXPECT_EQ(registry.count(), 2u);

  EXPECT_FALSE(registry.WaitUntilEmpty(absl::Now()));  // a deadline passed
  absl::Notification waiting;
  std::atomic<bool> emptied{false};
  std::thread waiter([&] {
    waiting.Notify();
    emptied = registry.WaitUntilEmpty(absl::InfiniteFuture());
  });
  waiting.WaitForNotification();
  registry.Remove(&a);
  registry.Remove(&b);
  waiter.join();
  EXPECT_TRUE(emptied.load());
  EXPECT_TRUE(registry.WaitUntilEmpty(absl::Now()));
}

// Verifies concurrent Add/Remove from many threads with a Shutdown in the
// middle: every stream added before the Shutdown is asked exactly once,
// none after it, and the count ends at zero.
TEST(SubscriberRegistryTest, ConcurrentAddRemoveAndShutdown) {
  SubscriberRegistry registry;
  constexpr int kThreads = 8;
  constexpr int kStreams = 200;
  std::vector<std::vector<FakeStream>> streams(kThreads);
  for (auto& v : streams) v = std::vector<FakeStream>(kStreams);
  std::vector<std::vector<bool>> added(kThreads,
                                       std::vector<bool>(kStreams, false));
  std::vector<std::thread> threads;
  absl::Notification go;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      go.WaitForNotification();
      for (int i = 0; i < kStreams; ++i) {
        added[t][i] = registry.Add(&streams[t][i]).ok();
      }
    });
  }
  go.Notify();
  registry.Shutdown();
  for (std::thread& t : threads) t.join();
  size_t live = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kStreams; ++i) {
      // Added before Shutdown: asked once. Refused: never asked.
      EXPECT_EQ(streams[t][i].requests(), added[t][i] ? 1 : 0);
      if (added[t][i]) ++live;
    }
  }
  EXPECT_EQ(registry.count(), live);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kStreams; ++i) registry.Remove(&streams[t][i]);
  }
  EXPECT_EQ(registry.count(), 0u);
}

}  // namespace
}  // namespace hookstream::distribution
