#include "common/ring/append_notifier.h"

#include <atomic>
#include <latch>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/common/ring/tsan_visible_sync.h"

namespace hookstream {
namespace {

TEST(AppendNotifierTest, WaitReturnsNulloptWhenHeadIsAlreadyPast) {
  // Verifies that Wait registers nothing and never runs the callback when
  // something past `after_sequence` was already published.
  AppendNotifier notifier;
  notifier.Notify(3);
  bool ran = false;
  EXPECT_EQ(notifier.Wait(2, [&ran] { ran = true; }), std::nullopt);
  EXPECT_EQ(notifier.waiting(), 0u);
  notifier.Notify(4);
  EXPECT_FALSE(ran);
  // At the head: registers.
  EXPECT_NE(notifier.Wait(4, [] {}), std::nullopt);
  EXPECT_EQ(notifier.waiting(), 1u);
}

TEST(AppendNotifierTest, CallbackRunsOnceOnNotify) {
  // Verifies that a registered callback runs on the first Notify past its
  // position, exactly once.
  AppendNotifier notifier;
  int runs = 0;
  ASSERT_NE(notifier.Wait(0, [&runs] { ++runs; }), std::nullopt);
  notifier.Notify(1);
  EXPECT_EQ(runs, 1);
  notifier.Notify(2);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(notifier.waiting(), 0u);
}

TEST(AppendNotifierTest, NotifyWakesOnlyWaitersBelowTheHead) {
  // Verifies that a waiter that has read past the published head (the ring
  // publishes after unlocking) is not woken by an older head.
  AppendNotifier notifier;
  int runs = 0;
  ASSERT_NE(notifier.Wait(5, [&runs] { ++runs; }), std::nullopt);
  notifier.Notify(5);
  EXPECT_EQ(runs, 0);
  notifier.Notify(6);
  EXPECT_EQ(runs, 1);
}

TEST(AppendNotifierTest, HeadOnlyMovesForward) {
  // Verifies that out-of-order Notify calls cannot move the head back.
  AppendNotifier notifier;
  notifier.Notify(5);
  notifier.Notify(3);
  EXPECT_EQ(notifier.head(), 5u);
  EXPECT_EQ(notifier.Wait(4, [] {}), std::nullopt);
}

TEST(AppendNotifierTest, CancelBeforeNotifyRemovesTheCallback) {
  // Verifies that Cancel before Notify returns true, the callback never runs
  // and its captured state is released by Cancel.
  AppendNotifier notifier;
  auto state = std::make_shared<int>(0);
  std::optional<AppendNotifier::Token> token =
      notifier.Wait(0, [state] { ++*state; });
  ASSERT_NE(token, std::nullopt);
  EXPECT_EQ(state.use_count(), 2);
  EXPECT_TRUE(notifier.Cancel(*token));
  EXPECT_EQ(state.use_count(), 1);
  notifier.Notify(1);
  EXPECT_EQ(*state, 0);
  // Unknown (already cancelled) token: nothing to wait for.
  EXPECT_FALSE(notifier.Cancel(*token));
}

TEST(AppendNotifierTest, CancelAfterTheCallbackRanReturnsFalse) {
  // Verifies that Cancel of a callback that already ran returns false.
  AppendNotifier notifier;
  int runs = 0;
  std::optional<AppendNotifier::Token> token =
      notifier.Wait(0, [&runs] { ++runs; });
  ASSERT_NE(token, std::nullopt);
  notifier.Notify(1);
  EXPECT_FALSE(notifier.Cancel(*token));
  EXPECT_EQ(runs, 1);
}

TEST(AppendNotifierTest, CancelDuringARunningCallbackWaitsForItToReturn) {
  // Verifies that Cancel of a running callback returns false only after the
  // callback has returned.
  AppendNotifier notifier;
  testing::Notification started;
  testing::Notification release;
  std::atomic<bool> finished{false};
  std::optional<AppendNotifier::Token> token = notifier.Wait(0, [&] {
    started.Notify();
    release.WaitForNotification();
    finished.store(true);
  });
  ASSERT_NE(token, std::nullopt);

  std::thread appender([&notifier] { notifier.Notify(1); });
  started.WaitForNotification();

  testing::Notification about_to_cancel;
  testing::Notification cancel_returned;
  bool cancel_result = true;
  bool finished_when_cancel_returned = false;
  std::thread canceller([&] {
    about_to_cancel.Notify();
    cancel_result = notifier.Cancel(*token);
    finished_when_cancel_returned = finished.load();
    cancel_returned.Notify();
  });
  about_to_cancel.WaitForNotification();
  // Not a timing assertion: a correct Cancel never returns here, whatever
  // the delay; the delay only gives a broken one the chance to show it.
  EXPECT_FALSE(
      cancel_returned.WaitForNotificationWithTimeout(absl::Milliseconds(20)));
  release.Notify();
  cancel_returned.WaitForNotification();
  canceller.join();
  appender.join();
  EXPECT_FALSE(cancel_result);
  EXPECT_TRUE(finished_when_cancel_returned);
}

TEST(AppendNotifierTest, CallbackCanReArm) {
  // Verifies that a callback may call Wait again (no self-deadlock) and that
  // the new registration is woken by the next Notify.
  AppendNotifier notifier;
  int first_runs = 0;
  int second_runs = 0;
  std::optional<AppendNotifier::Token> rearmed;
  bool rearm_behind_head = false;
  ASSERT_NE(notifier.Wait(0,
                          [&] {
                            ++first_runs;
                            // Already behind: nullopt, and no deadlock.
                            rearm_behind_head =
                                !notifier.Wait(0, [] {}).has_value();
                            rearmed = notifier.Wait(1, [&] { ++second_runs; });
                          }),
            std::nullopt);
  notifier.Notify(1);
  EXPECT_EQ(first_runs, 1);
  EXPECT_TRUE(rearm_behind_head);
  ASSERT_NE(rearmed, std::nullopt);
  EXPECT_EQ(second_runs, 0);
  EXPECT_EQ(notifier.waiting(), 1u);
  notifier.Notify(2);
  EXPECT_EQ(second_runs, 1);
  EXPECT_EQ(notifier.waiting(), 0u);
}

TEST(AppendNotifierTest, CallbackCanCancelAnotherWaiterNotYetRun) {
  // Verifies that a callback cancelling another waiter due in the same
  // Notify gets true (no deadlock) and that waiter never runs.
  AppendNotifier notifier;
  std::optional<AppendNotifier::Token> second;
  bool cancel_result = false;
  int second_runs = 0;
  ASSERT_NE(notifier.Wait(0, [&] { cancel_result = notifier.Cancel(*second); }),
            std::nullopt);
  second = notifier.Wait(0, [&] { ++second_runs; });
  ASSERT_NE(second, std::nullopt);
  notifier.Notify(1);
  EXPECT_TRUE(cancel_result);
  EXPECT_EQ(second_runs, 0);
}

TEST(AppendNotifierTest, ConcurrentNotifiesRunEachCallbackExactlyOnce) {
  // Verifies that callbacks are claimed once even when several threads
  // notify at the same time.
  AppendNotifier notifier;
  constexpr int kWaiters = 200;
  std::vector<std::atomic<int>> runs(kWaiters);
  for (int i = 0; i < kWaiters; ++i) {
    ASSERT_NE(notifier.Wait(0, [&runs, i] { runs[i].fetch_add(1); }),
              std::nullopt);
  }
  constexpr int kThreads = 4;
  std::latch ready(kThreads);
  testing::Notification go;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.count_down();
      go.WaitForNotification();
      notifier.Notify(t + 1);
    });
  }
  ready.wait();
  go.Notify();
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kWaiters; ++i) EXPECT_EQ(runs[i].load(), 1) << i;
  EXPECT_EQ(notifier.head(), static_cast<uint64_t>(kThreads));
  EXPECT_EQ(notifier.waiting(), 0u);
}

}  // namespace
}  // namespace hookstream
