#include "server/distribution/catch_up.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "common/base/thread_name.h"

namespace hookstream::distribution {

CatchUp::CatchUp(EventReader& reader) : reader_(reader) {
  thread_ = std::thread([this] {
    NameCurrentThread("hs-catch-up");
    Run();
  });
}

CatchUp::~CatchUp() { Stop(); }

std::optional<CatchUp::Token> CatchUp::Await(absl::Time deadline,
                                             Callback done) {
  std::lock_guard lock(mu_);
  if (stopping_) return std::nullopt;
  const Token token = next_token_++;
  pending_.emplace(token, Request{.deadline = std::min(
                                      deadline, absl::Now() + kMaxCatchUpWait),
                                  .done = std::move(done),
                                  .target = std::nullopt});
  changed_ = true;
  cv_.notify_all();
  return token;
}

bool CatchUp::Cancel(Token token) {
  std::unique_lock lock(mu_);
  if (pending_.erase(token) > 0) return true;
  cv_.wait(lock, [&] { return running_ != token; });
  return false;
}

void CatchUp::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    changed_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool CatchUp::WaitForApply(uint64_t head) {
  if (apply_wait_.has_value()) return true;
  // Under mu_: the callback takes it, so it cannot run before the token is
  // recorded (the reader runs callbacks after releasing its own lock, so
  // this order, mu_ then the reader's lock, is the only one).
  apply_wait_ = reader_.Wait(head, [this] {
    std::lock_guard lock(mu_);
    apply_wait_.reset();
    changed_ = true;
    cv_.notify_all();
  });
  return apply_wait_.has_value();
}

void CatchUp::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    // Requests without a target share one read of the log's last sequence,
    // taken after they arrived (so it is "as of" each of them).
    std::vector<Token> untargeted;
    for (const auto& [token, request] : pending_) {
      if (!request.target.has_value()) untargeted.push_back(token);
    }
    if (!untargeted.empty() && !stopping_) {
      lock.unlock();
      const uint64_t target = reader_.LogLastSequence();  // may ask the log
      lock.lock();
      for (Token token : untargeted) {
        if (auto it = pending_.find(token); it != pending_.end()) {
          it->second.target = target;
        }
      }
      continue;  // more may have arrived meanwhile
    }

    const uint64_t head = reader_.GetInfo().head_sequence;
    const absl::Time now = absl::Now();
    auto ready = std::find_if(pending_.begin(), pending_.end(), [&](auto& p) {
      const Request& r = p.second;
      return stopping_ || r.deadline <= now ||
             (r.target.has_value() && *r.target <= head);
    });
    if (ready != pending_.end()) {
      const Token token = ready->first;
      Request request = std::move(ready->second);
      pending_.erase(ready);
      const bool caught_up =
          request.target.has_value() && *request.target <= head;
      running_ = token;
      lock.unlock();
      std::move(request.done)(caught_up);
      lock.lock();
      running_ = 0;
      cv_.notify_all();  // a Cancel waiting for it
      continue;
    }
    if (stopping_) break;

    absl::Time wake = absl::InfiniteFuture();
    for (const auto& [token, request] : pending_) {
      wake = std::min(wake, request.deadline);
    }
    if (!pending_.empty() && !WaitForApply(head)) continue;  // applied
    changed_ = false;
    if (wake == absl::InfiniteFuture()) {
      cv_.wait(lock, [this] { return changed_; });
    } else {
      cv_.wait_until(lock, absl::ToChronoTime(wake),
                     [this] { return changed_; });
    }
  }
  // Not under mu_: CancelWait waits for a running callback, which takes it.
  const std::optional<EventReader::WaitToken> wait =
      std::exchange(apply_wait_, std::nullopt);
  lock.unlock();
  if (wait.has_value()) reader_.CancelWait(*wait);
}

}  // namespace hookstream::distribution
