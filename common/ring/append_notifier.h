// -----------------------------------------------------------------------------
// File: append_notifier.h
// -----------------------------------------------------------------------------
// AppendNotifier wakes readers that are waiting for events past a position,
// without a thread or a queue per reader: a reader registers a one-shot
// callback, and the next append runs it. This is the shape gRPC callback
// reactors need: the callback starts the next write (StartWrite), it never
// blocks.
//
// Example (inside a reactor that has read everything up to `position_`):
//   if (auto token = ring.Wait(position_, [this] { OnEventsAvailable(); })) {
//     wait_token_ = *token;  // woken on the next append
//   } else {
//     OnEventsAvailable();   // something was appended meanwhile: read now
//   }
//   ...
//   ring.CancelWait(wait_token_);  // before the reactor is destroyed
//
// Callbacks run on the appending thread, after the ring's lock is released,
// so they must be short and must not block: they delay the ingress request
// that appended. A callback may call Wait again (to re-arm) and may read the
// ring.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"

namespace hookstream {

class AppendNotifier {
 public:
  using Callback = absl::AnyInvocable<void() &&>;
  using Token = uint64_t;

  AppendNotifier() = default;
  AppendNotifier(const AppendNotifier&) = delete;
  AppendNotifier& operator=(const AppendNotifier&) = delete;

  // Registers `callback` to run once, on the first Notify(head) with
  // head > after_sequence. If `head() > after_sequence` already, registers
  // nothing and returns nullopt: the caller reads now instead.
  std::optional<Token> Wait(uint64_t after_sequence, Callback callback);

  // Removes a registration. Returns true if the callback was removed before
  // it ran (it will never run). Returns false if it already ran or is
  // running; in that case Cancel first waits until it has returned, so after
  // Cancel returns the callback is not running and never will. Must not be
  // called from inside that callback or while holding a lock it takes.
  bool Cancel(Token token);

  // Publishes `head` as the newest sequence (a lower head than one already
  // published is ignored: concurrent appenders may notify out of order) and
  // runs every callback waiting for a position below it, one at a time on
  // the calling thread. A callback is claimed just before it runs, so a
  // Cancel of a callback that has not started yet still returns true. Called
  // by the ring after each append, outside the ring's lock. O(waiting).

  void Notify(uint64_t head);

  // The newest sequence published by Notify.
  uint64_t head() const { return head_.load(std::memory_order_acquire); }

  // How many callbacks are registered (for tests and metrics).
  size_t waiting() const;

 private:
  struct Waiter {
    // Kept so that Notify(head) wakes only waiters below `head`: a reader may
    // have read past the published head (the ring publishes after unlocking).
    uint64_t after_sequence;
    Callback callback;
  };

  // std::mutex, not absl::Mutex: Debian's Abseil is not built with
  // ThreadSanitizer, which then cannot see absl::Mutex synchronize and
  // reports false races; pthread-based locks are intercepted by TSan.
  mutable std::mutex mu_;
  // Signalled whenever a callback has finished; Cancel waits on it.
  std::condition_variable callback_done_;
  // Written under mu_ (so Wait's check and Notify's collection cannot miss
  // each other), read lock-free by head().
  std::atomic<uint64_t> head_{0};
  Token next_token_ = 1;                        // guarded by mu_
  absl::flat_hash_map<Token, Waiter> waiters_;  // guarded by mu_
  // Tokens whose callbacks are running now; Cancel waits for them. Guarded
  // by mu_.
  absl::flat_hash_set<Token> running_;
};

}  // namespace hookstream
