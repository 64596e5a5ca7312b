#include "common/ring/append_notifier.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace hookstream {

std::optional<AppendNotifier::Token> AppendNotifier::Wait(
    uint64_t after_sequence, Callback callback) {
  std::unique_lock lock(mu_);
  // Checked under mu_: Notify publishes head_ under mu_ before collecting
  // waiters, so either we see the new head or Notify sees our registration.
  if (head_.load(std::memory_order_relaxed) > after_sequence) {
    return std::nullopt;
  }
  const Token token = next_token_++;
  waiters_.emplace(token, Waiter{after_sequence, std::move(callback)});
  return token;
}

bool AppendNotifier::Cancel(Token token) {
  // Declared before the lock so that the callback's captures are destroyed
  // after mu_ is released (their destructors may take other locks).
  Callback removed;
  std::unique_lock lock(mu_);
  if (auto it = waiters_.find(token); it != waiters_.end()) {
    removed = std::move(it->second.callback);
    waiters_.erase(it);
    return true;
  }
  callback_done_.wait(lock, [&] { return !running_.contains(token); });
  return false;
}

void AppendNotifier::Notify(uint64_t head) {
  std::vector<Token> due;
  {
    std::unique_lock lock(mu_);
    if (head > head_.load(std::memory_order_relaxed)) {
      head_.store(head, std::memory_order_release);
    }
    head = head_.load(std::memory_order_relaxed);
    if (waiters_.empty()) return;
    for (const auto& [token, waiter] : waiters_) {
      if (waiter.after_sequence < head) due.push_back(token);
    }
  }
  // Oldest registration first, for fairness between readers.
  std::sort(due.begin(), due.end());
  for (const Token token : due) {
    Callback callback;
    {
      // Claimed one at a time, so that a callback that cancels another
      // reader's not-yet-run wait gets `true` instead of waiting on us.
      std::unique_lock lock(mu_);
      auto it = waiters_.find(token);
      // Gone: cancelled, or claimed by a concurrent Notify.
      if (it == waiters_.end()) continue;
      callback = std::move(it->second.callback);
      waiters_.erase(it);
      running_.insert(token);
    }
    // Outside mu_: the callback may call Wait (re-arm) or read the ring.
    std::move(callback)();
    // Destroy its captures before a Cancel'er is told it has finished.
    callback = nullptr;
    {
      std::unique_lock lock(mu_);
      running_.erase(token);
    }
    callback_done_.notify_all();
  }
}

size_t AppendNotifier::waiting() const {
  std::unique_lock lock(mu_);
  return waiters_.size();
}

}  // namespace hookstream
