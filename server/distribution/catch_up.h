// -----------------------------------------------------------------------------
// File: catch_up.h
// -----------------------------------------------------------------------------
// CatchUp lets a call wait, without holding a gRPC thread, until this
// replica has applied everything the shared log had when the call asked:
// an event id a lagging replica does not know yet may be in the log
// (GetEvent by id, Subscribe after_event_id), so such a call asks here
// before it answers NOT_FOUND.
//
// Await(deadline, done): on CatchUp's own thread, the log's last sequence
// is read (EventReader::LogLastSequence: for JetStream a short request to
// the stream, which is why no request thread does it; requests that arrive
// while one is in flight share the next one), then `done(true)` runs once
// the reader's head reaches it, or `done(false)` at the deadline (at most
// kMaxCatchUpWait away); Stop runs every pending one at once (true only if
// it had caught up). A reader that follows no log answers
// its own head, so `done(true)` runs at once.
//
// Example:
//   std::optional<CatchUp::Token> token = catch_up.Await(
//       deadline, [](bool caught_up) { /* look the id up again */ });
//   if (!token) { /* stopped: answer from what is held */ }
//   catch_up.Cancel(*token);  // the call ended first
//
// Thread-safety: thread-safe. `done` runs on CatchUp's thread, outside its
// lock; it must not block for long (it delays the others) and must not
// Cancel its own token.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "common/store/event_reader.h"

namespace hookstream::distribution {

// The longest any call waits for its replica to catch up, whatever its
// deadline: a replica further behind than this answers from what it holds.
inline constexpr absl::Duration kMaxCatchUpWait = absl::Seconds(30);

class CatchUp {
 public:
  using Token = uint64_t;
  // true: applied up to the log's last sequence as of Await; false: the
  // deadline or Stop came first.
  using Callback = absl::AnyInvocable<void(bool caught_up) &&>;

  // `reader` must outlive the CatchUp.
  explicit CatchUp(EventReader& reader);
  ~CatchUp();  // Stop

  CatchUp(const CatchUp&) = delete;
  CatchUp& operator=(const CatchUp&) = delete;

  // Registers `done` (see above). nullopt after Stop: `done` is dropped
  // without running.
  std::optional<Token> Await(absl::Time deadline, Callback done);

  // True if `token`'s callback will never run; false if it ran or is
  // running, in which case Cancel first waits for it to return.
  bool Cancel(Token token);

  // Runs every pending callback (see above), refuses new ones, ends the
  // thread. Idempotent.
  void Stop();

 private:
  struct Request {
    absl::Time deadline;
    Callback done;
    // Set once the log's last sequence was read for it.
    std::optional<uint64_t> target;
  };

  void Run();
  // Under mu_: registers a wake-up on the reader's next apply after `head`
  // unless one is registered; false when it applied meanwhile.
  bool WaitForApply(uint64_t head);

  EventReader& reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Token, Request> pending_;  // guarded by mu_
  Token next_token_ = 1;              // guarded by mu_
  Token running_ = 0;                 // guarded by mu_ (0: none)
  bool changed_ = false;              // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::optional<EventReader::WaitToken> apply_wait_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace hookstream::distribution
