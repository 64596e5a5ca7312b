// -----------------------------------------------------------------------------
// File: stream_scheduler.h
// -----------------------------------------------------------------------------
// StreamScheduler runs the Subscribe streams' own work on a few threads shared
// by all streams: work that is due at a time (a stream's next heartbeat
// check) and work handed over by a thread that must not do it itself (the
// ring's wake-up, on the appending ingress thread). One more thread only
// keeps the times.
//
// Why: a grpc::Alarm per idle stream (the heartbeat) held ~260 bytes of gRPC
// state per subscription; here a stream's timer is one ordered-set entry and a
// few fields of its ScheduledTask.
//
// A stream derives from ScheduledTask. Its RunScheduled() is called on a
// scheduler thread when it was posted (Post) or when its time came (RunAt),
// never on the thread that asked, never twice at the same time for one task.
// Posting a task that is already waiting to run does nothing more; posting a
// task while it runs makes it run once more afterwards. RunAt replaces the
// task's previous time. Before a task is destroyed, Forget(task) drops what is
// scheduled for it and waits for a run in progress, so that the scheduler
// never touches the task again.
//
// Example:
//   class Stream : public ScheduledTask {
//     void RunScheduled() override { ...; scheduler_.RunAt(this, next); }
//   };
//   StreamScheduler scheduler(/*threads=*/1);
//   scheduler.RunAt(&stream, absl::Now() + absl::Seconds(15));
//   scheduler.Post(&stream);      // run soon
//   scheduler.Forget(&stream);    // then `stream` may be destroyed
//
// Time: due times are read on the injected Clock. The timer thread sleeps
// for the time left by that clock; a clock that jumps (a test's FakeClock)
// must call Wake() after it moves, so that what became due runs now.
//
// Thread-safety: all methods are thread-safe. Post and RunAt never block
// beyond the scheduler's own short critical section and never call a task, so
// they may be called under a lock that RunScheduled takes. Forget may wait for
// a run in progress: it must not be called under such a lock, except from
// inside the task's own RunScheduled, where it does not wait.
#pragma once

#include <thread>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"

namespace hookstream::distribution {

class ScheduledTask {
 public:
  virtual ~ScheduledTask() = default;

  // Runs on a scheduler thread; may call Post, RunAt and Forget on itself.
  virtual void RunScheduled() = 0;

 private:
  friend class StreamScheduler;
  // Guarded by the scheduler's mutex (not expressible as an annotation here).
  ScheduledTask* prev_ = nullptr;  // in the FIFO of posted tasks
  ScheduledTask* next_ = nullptr;
  absl::Time due_ = absl::InfiniteFuture();  // InfiniteFuture: no timer
  bool queued_ = false;
  bool running_ = false;
  bool run_again_ = false;
};

class StreamScheduler {
 public:
  // A sleeping thread is woken for posted work when no thread is awake, or
  // when more than this many tasks wait per awake thread. So a few streams'
  // wake-ups are run by one thread one after the other (the later ones a
  // little later, with more events in their batch: fewer writes), and a
  // burst to thousands of streams by all threads (overlapping writes to one
  // connection are coalesced by gRPC).
  static constexpr size_t kTasksPerAwakeThread = 32;

  // Starts `threads` threads that run tasks (at least 1), and one that only
  // moves due tasks to the queue. `clock` must outlive the scheduler.
  explicit StreamScheduler(int threads, const Clock& clock = RealClock());
  StreamScheduler(const StreamScheduler&) = delete;
  StreamScheduler& operator=(const StreamScheduler&) = delete;
  // Stops the threads; every task must have been forgotten.
  ~StreamScheduler();

  // Runs `task` soon on a scheduler thread.
  void Post(ScheduledTask* task) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `task` at `due` (at once if it is past), replacing its earlier time.
  void RunAt(ScheduledTask* task, absl::Time due) ABSL_LOCKS_EXCLUDED(mu_);

  // Drops `task`'s time and pending run and waits for a run in progress
  // (unless called from inside that run). Afterwards the scheduler holds no
  // reference to `task` until it is posted or timed again.
  void Forget(ScheduledTask* task) ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks with a time (for tests and metrics).
  size_t timers() const ABSL_LOCKS_EXCLUDED(mu_);

  // Threads asleep with no wake-up handed to them (for tests and metrics).
  size_t idle_threads() const ABSL_LOCKS_EXCLUDED(mu_);

  // Re-reads the clock and runs what is due: for a clock that jumps.
  void Wake() ABSL_LOCKS_EXCLUDED(mu_);

  const Clock& clock() const { return clock_; }

 private:
  void WorkerLoop(size_t worker) ABSL_LOCKS_EXCLUDED(mu_);
  void TimerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void Enqueue(ScheduledTask* task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes one sleeping worker if the queue needs it (kTasksPerAwakeThread).
  void MaybeWakeWorker() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unlink(ScheduledTask* task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropTimer(ScheduledTask* task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  mutable absl::Mutex mu_;
  absl::CondVar work_;   // a worker may take a wake-up, or stop
  absl::CondVar timer_;  // an earlier time, or stop
  // FIFO of posted tasks, doubly linked through the tasks (Forget unlinks a
  // queued task in O(1)).
  ScheduledTask* head_ ABSL_GUARDED_BY(mu_) = nullptr;
  ScheduledTask* tail_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  // Workers asleep with no wake-up handed to them, and wake-ups handed out
  // but not yet taken (a woken worker counts as awake from the hand-out on,
  // so a run of posts does not wake every worker before one runs).
  int sleeping_ ABSL_GUARDED_BY(mu_) = 0;
  int wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  absl::btree_set<std::pair<absl::Time, ScheduledTask*>> timers_
      ABSL_GUARDED_BY(mu_);
  // What each thread runs now; a Forget from inside a run clears its slot, so
  // the thread does not touch the task after the run returns.
  std::vector<ScheduledTask*> running_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // workers, then the timer thread
};

}  // namespace hookstream::distribution
