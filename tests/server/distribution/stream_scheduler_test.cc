#include "server/distribution/stream_scheduler.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace hookstream::distribution {
namespace {

// Counts its runs and the threads they ran on; can be made to block in its
// next run until released.
class CountingTask : public ScheduledTask {
 public:
  void RunScheduled() override {
    EXPECT_FALSE(in_run_.exchange(true)) << "two runs at once";
    thread_ = std::this_thread::get_id();
    if (block_next_.exchange(false)) {
      entered_.Notify();
      release_.WaitForNotification();
    }
    const int runs = runs_.fetch_add(1) + 1;
    in_run_.store(false);
    absl::MutexLock lock(&mu_);
    ran_ = runs;
  }

  // Waits until RunScheduled has completed `n` runs.
  void AwaitRuns(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return ran_ >= n; };
    mu_.Await(absl::Condition(&enough));
  }

  void BlockNextRun() { block_next_ = true; }
  void AwaitBlocked() { entered_.WaitForNotification(); }
  void Release() { release_.Notify(); }

  int runs() const { return runs_.load(); }
  std::thread::id thread() const { return thread_; }

 private:
  std::atomic<bool> in_run_{false};
  std::atomic<bool> block_next_{false};
  absl::Notification entered_;
  absl::Notification release_;
  std::atomic<int> runs_{0};
  std::thread::id thread_;
  absl::Mutex mu_;
  int ran_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(StreamSchedulerTest, PostRunsOnASchedulerThread) {
  StreamScheduler scheduler(1);
  CountingTask task;
  scheduler.Post(&task);
  task.AwaitRuns(1);
  EXPECT_NE(task.thread(), std::this_thread::get_id());
  scheduler.Forget(&task);
}

TEST(StreamSchedulerTest, PostingAQueuedTaskRunsItOnce) {
  StreamScheduler scheduler(1);
  CountingTask blocker, task, last;
  blocker.BlockNextRun();
  scheduler.Post(&blocker);
  blocker.AwaitBlocked();  // the only thread is busy: `task` stays queued
  scheduler.Post(&task);
  scheduler.Post(&task);
  scheduler.Post(&last);
  blocker.Release();
  last.AwaitRuns(1);  // FIFO: `task` ran before `last`
  EXPECT_EQ(task.runs(), 1);
  for (CountingTask* t : {&blocker, &task, &last}) scheduler.Forget(t);
}

TEST(StreamSchedulerTest, PostingARunningTaskRunsItOnceMoreAfterwards) {
  StreamScheduler scheduler(2);
  CountingTask task;
  task.BlockNextRun();
  scheduler.Post(&task);
  task.AwaitBlocked();
  scheduler.Post(&task);  // not on the second thread while the first runs it
  scheduler.Post(&task);
  task.Release();
  task.AwaitRuns(2);
  CountingTask last;
  scheduler.Post(&last);
  last.AwaitRuns(1);
  scheduler.Forget(&task);
  EXPECT_EQ(task.runs(), 2);
  scheduler.Forget(&last);
}

TEST(StreamSchedulerTest, RunAtInThePastRunsAndALaterRunAtReplacesTheTime) {
  StreamScheduler scheduler(1);
  CountingTask task;
  scheduler.RunAt(&task, absl::Now() + absl::Hours(1));
  EXPECT_EQ(scheduler.timers(), 1u);
  scheduler.RunAt(&task, absl::Now() - absl::Seconds(1));  // replaces
  EXPECT_LE(scheduler.timers(), 1u);
  task.AwaitRuns(1);
  EXPECT_EQ(scheduler.timers(), 0u);
  scheduler.Forget(&task);
}

TEST(StreamSchedulerTest, ForgetDropsTimeAndQueuedRun) {
  StreamScheduler scheduler(1);
  CountingTask blocker, timed, queued, last;
  scheduler.RunAt(&timed, absl::Now() + absl::Hours(1));
  scheduler.Forget(&timed);
  EXPECT_EQ(scheduler.timers(), 0u);

  blocker.BlockNextRun();
  scheduler.Post(&blocker);
  blocker.AwaitBlocked();
  scheduler.Post(&queued);
  scheduler.Forget(&queued);  // queued behind the blocker: never runs
  scheduler.Post(&last);
  blocker.Release();
  last.AwaitRuns(1);
  EXPECT_EQ(queued.runs(), 0);
  EXPECT_EQ(timed.runs(), 0);
  scheduler.Forget(&blocker);
  scheduler.Forget(&last);
}

// Verifies Forget waits for a run in progress: it returns only after the
// run did (a handshake, not a sleep: when Forget returns, the run counter
// says whether the run had finished).
TEST(StreamSchedulerTest, ForgetWaitsForARunInProgress) {
  StreamScheduler scheduler(1);
  CountingTask task;
  task.BlockNextRun();
  scheduler.Post(&task);
  task.AwaitBlocked();
  absl::Notification about_to_forget;
  absl::Notification forget_returned;
  int runs_when_forget_returned = -1;
  std::thread forgetter([&] {
    about_to_forget.Notify();
    scheduler.Forget(&task);
    runs_when_forget_returned = task.runs();
    forget_returned.Notify();
  });
  about_to_forget.WaitForNotification();
  // Not a timing assertion: a correct Forget never returns here, whatever
  // the delay; the delay only gives a broken one the chance to show it.
  EXPECT_FALSE(
      forget_returned.WaitForNotificationWithTimeout(absl::Milliseconds(20)));
  task.Release();
  forget_returned.WaitForNotification();
  forgetter.join();
  EXPECT_EQ(runs_when_forget_returned, 1);
  EXPECT_EQ(task.runs(), 1);
}

// Verifies timers on an injected clock: nothing runs before the clock
// reaches the due time (however long real time passes: the due time is an
// hour away on the fake clock), it runs once the clock moves there (Wake),
// and a timer that falls due while its task runs makes it run once more
// afterwards, never concurrently.
TEST(StreamSchedulerTest, TimersFollowTheInjectedClock) {
  testing::FakeClock clock;
  StreamScheduler scheduler(2, clock);
  clock.OnChange([&scheduler] { scheduler.Wake(); });
  CountingTask task;
  scheduler.RunAt(&task, clock.Now() + absl::Hours(1));
  EXPECT_EQ(scheduler.timers(), 1u);
  clock.Advance(absl::Minutes(59));
  // The timer thread has been woken and must have gone back to sleep: a
  // Post of another task proves the scheduler went round its loop.
  CountingTask probe;
  scheduler.Post(&probe);
  probe.AwaitRuns(1);
  EXPECT_EQ(task.runs(), 0);
  EXPECT_EQ(scheduler.timers(), 1u);
  clock.Advance(absl::Minutes(1));
  task.AwaitRuns(1);
  EXPECT_EQ(scheduler.timers(), 0u);

  // Due while running: blocked in its run, the task's new timer fires; it
  // runs again once, after the blocked run returns.
  task.BlockNextRun();
  scheduler.Post(&task);
  task.AwaitBlocked();
  scheduler.RunAt(&task, clock.Now() + absl::Seconds(1));
  clock.Advance(absl::Seconds(1));
  // The timer fires (it leaves the set) though the task is still running.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (scheduler.timers() != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));  // polling the timer thread
  }
  EXPECT_EQ(scheduler.timers(), 0u);
  EXPECT_EQ(task.runs(), 1);
  task.Release();
  task.AwaitRuns(3);
  EXPECT_EQ(task.runs(), 3);
  scheduler.Forget(&task);
  scheduler.Forget(&probe);
}

// Verifies destroying the scheduler with work still pending (a queued task,
// a timer far in the future) joins its threads without running or touching
// them afterwards.
TEST(StreamSchedulerTest, DestructorWithPendingWork) {
  testing::FakeClock clock;
  CountingTask blocker;
  CountingTask queued;
  CountingTask timed;
  {
    StreamScheduler scheduler(1, clock);
    blocker.BlockNextRun();
    scheduler.Post(&blocker);
    blocker.AwaitBlocked();
    scheduler.Post(&queued);  // waits behind the blocked run
    scheduler.RunAt(&timed, clock.Now() + absl::Hours(1));
    blocker.Release();
    blocker.AwaitRuns(1);
  }
  EXPECT_EQ(timed.runs(), 0);
  EXPECT_LE(queued.runs(), 1);
}

// A task that forgets and destroys itself inside its own run, as a stream
// does when it finishes from RunScheduled.
class SelfDestroyingTask : public ScheduledTask {
 public:
  SelfDestroyingTask(StreamScheduler& scheduler, absl::Notification& done)
      : scheduler_(scheduler), done_(done) {}
  void RunScheduled() override {
    scheduler_.RunAt(this, absl::Now() + absl::Hours(1));
    scheduler_.Post(this);
    scheduler_.Forget(this);  // does not wait for itself
    absl::Notification& done = done_;
    delete this;
    done.Notify();
  }

 private:
  StreamScheduler& scheduler_;
  absl::Notification& done_;
};

TEST(StreamSchedulerTest, ForgetFromInsideTheRunLetsTheTaskGo) {
  StreamScheduler scheduler(1);
  absl::Notification done;
  scheduler.Post(new SelfDestroyingTask(scheduler, done));
  done.WaitForNotification();
  EXPECT_EQ(scheduler.timers(), 0u);
  // The thread still works (it did not touch the deleted task).
  CountingTask task;
  scheduler.Post(&task);
  task.AwaitRuns(1);
  scheduler.Forget(&task);
}

// Verifies a backlog longer than kTasksPerAwakeThread wakes another thread:
// the tasks run while the only awake thread is blocked.
TEST(StreamSchedulerTest, ABacklogWakesAnotherThread) {
  StreamScheduler scheduler(2);
  CountingTask blocker;
  blocker.BlockNextRun();
  scheduler.Post(&blocker);
  blocker.AwaitBlocked();
  // The other thread must be asleep before the backlog is posted. Still awake
  // (not started yet, or back from the blocker's wake-up), it would take the
  // first task, find the queue empty, and sleep while the other
  // kTasksPerAwakeThread wait, by design, for the (here forever) busy thread.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (scheduler.idle_threads() != 1) {
    ASSERT_LT(absl::Now(), deadline) << "the second thread never went to sleep";
    absl::SleepFor(absl::Milliseconds(1));
  }
  std::vector<std::unique_ptr<CountingTask>> backlog;
  for (size_t i = 0; i <= StreamScheduler::kTasksPerAwakeThread; ++i) {
    backlog.push_back(std::make_unique<CountingTask>());
    scheduler.Post(backlog.back().get());
  }
  for (auto& t : backlog) t->AwaitRuns(1);
  EXPECT_EQ(blocker.runs(), 0);  // still blocked: another thread ran them
  blocker.Release();
  blocker.AwaitRuns(1);
  for (auto& t : backlog) scheduler.Forget(t.get());
  scheduler.Forget(&blocker);
}

TEST(StreamSchedulerTest, ManyPostersNeverRunATaskTwiceAtOnce) {
  StreamScheduler scheduler(3);
  std::vector<std::unique_ptr<CountingTask>> tasks;
  for (int i = 0; i < 16; ++i)
    tasks.push_back(std::make_unique<CountingTask>());
  std::vector<std::thread> posters;
  for (int p = 0; p < 4; ++p) {
    posters.emplace_back([&] {
      for (int round = 0; round < 500; ++round) {
        for (auto& t : tasks) scheduler.Post(t.get());
      }
    });
  }
  for (auto& p : posters) p.join();
  // Every task was posted after its last run started or before it ran: each
  // ran at least once; CountingTask fails the test on overlapping runs.
  for (auto& t : tasks) t->AwaitRuns(1);
  for (auto& t : tasks) scheduler.Forget(t.get());
}

}  // namespace
}  // namespace hookstream::distribution
