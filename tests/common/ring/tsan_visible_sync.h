// Test orchestration that ThreadSanitizer can see. Debian's Abseil is not
// built with TSan, so absl::Notification and absl::Mutex synchronize
// invisibly and TSan reports false races; these use std::mutex and
// std::condition_variable (pthread, intercepted by TSan) instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"

namespace hookstream::testing {

// absl::Notification's interface.
class Notification {
 public:
  void Notify() {
    {
      std::lock_guard lock(mu_);
      notified_ = true;
    }
    cv_.notify_all();
  }
  void WaitForNotification() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }
  // True if notified within `timeout`.
  bool WaitForNotificationWithTimeout(absl::Duration timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                        [this] { return notified_; });
  }
  bool HasBeenNotified() {
    std::lock_guard lock(mu_);
    return notified_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace hookstream::testing
