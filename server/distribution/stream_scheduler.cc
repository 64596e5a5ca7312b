#include "server/distribution/stream_scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/base/thread_name.h"

namespace hookstream::distribution {

StreamScheduler::StreamScheduler(int threads, const Clock& clock)
    : clock_(clock) {
  const size_t n = static_cast<size_t>(std::max(1, threads));
  {
    absl::MutexLock lock(&mu_);
    running_.assign(n, nullptr);
  }
  threads_.reserve(n + 1);
  for (size_t i = 0; i < n; ++i) {
    threads_.emplace_back([this, i] {
      NameCurrentThread(absl::StrCat("hs-stream-", i));
      WorkerLoop(i);
    });
  }
  threads_.emplace_back([this] {
    NameCurrentThread("hs-stream-timer");
    TimerLoop();
  });
}

StreamScheduler::~StreamScheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    work_.SignalAll();
    timer_.SignalAll();
  }
  for (std::thread& thread : threads_) thread.join();
}

void StreamScheduler::Post(ScheduledTask* task) {
  absl::MutexLock lock(&mu_);
  if (task->running_) {
    task->run_again_ = true;  // the thread running it queues it afterwards
    return;
  }
  Enqueue(task);
}

void StreamScheduler::RunAt(ScheduledTask* task, absl::Time due) {
  absl::MutexLock lock(&mu_);
  DropTimer(task);
  task->due_ = due;
  timers_.emplace(due, task);
  // The timer thread waits until the earliest time; an earlier one must wake
  // it.
  if (timers_.begin()->second == task) timer_.Signal();
}

void StreamScheduler::Forget(ScheduledTask* task) {
  absl::MutexLock lock(&mu_);
  DropTimer(task);
  if (task->queued_) Unlink(task);
  task->run_again_ = false;
  if (!task->running_) return;
  for (size_t i = 0; i < running_.size(); ++i) {
    if (running_[i] == task &&
        threads_[i].get_id() == std::this_thread::get_id()) {
      // Called from inside the run: the thread must not touch the task once
      // RunScheduled returns (it may be destroyed by then).
      running_[i] = nullptr;
      task->running_ = false;
      return;
    }
  }
  mu_.Await(absl::Condition(
      +[](ScheduledTask* t) { return !t->running_; }, task));
}

void StreamScheduler::Wake() {
  absl::MutexLock lock(&mu_);
  timer_.Signal();
}

size_t StreamScheduler::timers() const {
  absl::MutexLock lock(&mu_);
  return timers_.size();
}

size_t StreamScheduler::idle_threads() const {
  absl::MutexLock lock(&mu_);
  return static_cast<size_t>(sleeping_);
}

void StreamScheduler::WorkerLoop(size_t worker) {
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (head_ != nullptr) {
      ScheduledTask* task = head_;
      Unlink(task);
      MaybeWakeWorker();  // a backlog too long for the threads awake
      task->running_ = true;
      running_[worker] = task;
      mu_.Unlock();
      task->RunScheduled();
      mu_.Lock();
      if (running_[worker] == task) {  // not forgotten from inside the run
        running_[worker] = nullptr;
        task->running_ = false;
        if (task->run_again_) {
          task->run_again_ = false;
          Enqueue(task);
        }
      }
      continue;
    }
    if (stopping_) return;
    ++sleeping_;
    while (wakeups_ == 0 && !stopping_) work_.Wait(&mu_);
    if (wakeups_ > 0) {
      --wakeups_;
    } else {
      --sleeping_;  // stopping
    }
  }
}

void StreamScheduler::TimerLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const absl::Time now = clock_.Now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      ScheduledTask* task = timers_.begin()->second;
      timers_.erase(timers_.begin());
      task->due_ = absl::InfiniteFuture();
      if (task->running_) {
        task->run_again_ = true;
      } else {
        Enqueue(task);
      }
    }
    if (timers_.empty()) {
      timer_.Wait(&mu_);
    } else {
      // Sleeps for the time left on clock_ (which need not be real time).
      timer_.WaitWithTimeout(&mu_, timers_.begin()->first - now);
    }
  }
}

void StreamScheduler::Enqueue(ScheduledTask* task) {
  if (task->queued_) return;
  task->queued_ = true;
  task->prev_ = tail_;
  task->next_ = nullptr;
  if (tail_ == nullptr) {
    head_ = task;
  } else {
    tail_->next_ = task;
  }
  tail_ = task;
  ++queued_;
  MaybeWakeWorker();
}

void StreamScheduler::MaybeWakeWorker() {
  if (sleeping_ == 0) return;
  const size_t awake = running_.size() - static_cast<size_t>(sleeping_);
  if (awake > 0 && queued_ <= kTasksPerAwakeThread * awake) return;
  --sleeping_;
  ++wakeups_;
  work_.Signal();
}

void StreamScheduler::Unlink(ScheduledTask* task) {
  (task->prev_ == nullptr ? head_ : task->prev_->next_) = task->next_;
  (task->next_ == nullptr ? tail_ : task->next_->prev_) = task->prev_;
  task->prev_ = nullptr;
  task->next_ = nullptr;
  task->queued_ = false;
  --queued_;
}

void StreamScheduler::DropTimer(ScheduledTask* task) {
  if (task->due_ == absl::InfiniteFuture()) return;
  timers_.erase({task->due_, task});
  task->due_ = absl::InfiniteFuture();
}

}  // namespace hookstream::distribution
