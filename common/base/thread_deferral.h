// -----------------------------------------------------------------------------
// File: thread_deferral.h
// -----------------------------------------------------------------------------
// A thread that runs an event loop can say so, so that code it calls (which
// knows nothing of the loop) can leave work for "after what this loop has
// already queued" instead of doing it now. The journal uses it under
// --journal_sync=none to write the records of every request one loop
// iteration parsed with one write(2) (as Redis writes its AOF buffer once
// before it sleeps, not once per command), instead of one write(2) per
// request: see docs/journal.md, "The write path".
//
// Example:
//   // On the loop's thread, for as long as it runs the loop:
//   AsioDeferrer deferrer(io_context);         // implements ThreadDeferrer
//   ScopedThreadDeferrer scope(&deferrer);
//   io_context.run();
//
//   // In code called from the loop:
//   if (ThreadDeferrer* d = CurrentThreadDeferrer()) {
//     d->Defer([] { Flush(); });
//   } else {
//     Flush();  // no loop on this thread: now
//   }
//
// Contract: Defer runs the work later on the same thread, after the work the
// loop has already queued, or destroys it unrun if the loop stops first. Code
// that defers must therefore not depend on the work running for anything but
// speed, and must outlive the loop or guard what the work touches.
//
// Thread-safety: the current deferrer is per thread.
#pragma once

#include "absl/functional/any_invocable.h"

namespace hookstream {

class ThreadDeferrer {
 public:
  virtual ~ThreadDeferrer() = default;
  virtual void Defer(absl::AnyInvocable<void() &&> work) = 0;
};

// The calling thread's deferrer, or nullptr.
ThreadDeferrer* CurrentThreadDeferrer();

// Makes `deferrer` the calling thread's until destroyed (then the previous).
class ScopedThreadDeferrer {
 public:
  explicit ScopedThreadDeferrer(ThreadDeferrer* deferrer);
  ~ScopedThreadDeferrer();
  ScopedThreadDeferrer(const ScopedThreadDeferrer&) = delete;
  ScopedThreadDeferrer& operator=(const ScopedThreadDeferrer&) = delete;

 private:
  ThreadDeferrer* const previous_;
};

}  // namespace hookstream
