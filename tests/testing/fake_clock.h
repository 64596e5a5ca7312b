// A Clock that moves only when a test says so. Parts that sleep until a time
// on the clock (the distribution's StreamScheduler) are told it moved through
// OnChange listeners.
#pragma once

#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/base/clock.h"

namespace hookstream::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1733267345))
      : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    {
      absl::MutexLock lock(&mu_);
      now_ += d;
    }
    NotifyListeners();
  }
  void Set(absl::Time t) {
    {
      absl::MutexLock lock(&mu_);
      now_ = t;
    }
    NotifyListeners();
  }

  // Runs `listener` after every Advance or Set (on the test's thread, outside
  // the clock's lock). Listeners live as long as the clock.
  void OnChange(absl::AnyInvocable<void()> listener) {
    absl::MutexLock lock(&listeners_mu_);
    listeners_.push_back(std::move(listener));
  }

 private:
  void NotifyListeners() {
    absl::MutexLock lock(&listeners_mu_);
    for (auto& listener : listeners_) listener();
  }

  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Mutex listeners_mu_;
  std::vector<absl::AnyInvocable<void()>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace hookstream::testing
