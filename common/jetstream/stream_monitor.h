// -----------------------------------------------------------------------------
// File: stream_monitor.h
// -----------------------------------------------------------------------------
// StreamMonitor reads the JetStream stream's info (js_GetStreamInfo) on its
// own thread every `interval`, so that /metrics can report the stream's
// state without a scrape, an ingress request or a gRPC call ever waiting on
// NATS: readers get the latest snapshot, however old (its age is exported).
//
// It also watches what issue 10 warns about: after a full cluster restart
// JetStream rebuilds its duplicate map only from the messages it still
// stores, so a stream that dropped messages (MaxMsgs/MaxBytes) younger than
// the duplicate window can take a late retry as new. The first read that
// finds it so logs a warning (and one more each time it changes).
//
// And that the identity stored in the stream (stored_identity.h) is still
// the one this replica serves: if not (someone edited the Description, or,
// in nats-server 2.9.10, two creates proposed at the same moment both
// succeeded and the later one's Description replaced the one this replica
// read), an error is logged once per change and the snapshot says so.
//
// Example:
//   StreamMonitor monitor(js, "HOOKSTREAM", epoch, absl::Seconds(10), clock);
//   monitor.Start();
//   StreamSnapshot s = monitor.Latest();   // any thread, never blocks on NATS
//   monitor.Stop();                        // before the connection closes
//
// Thread-safety: Latest is thread-safe; Start and Stop from one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "common/base/clock.h"
#include "nats/nats.h"

namespace hookstream::jetstream {

// The stream as the last successful read saw it.
struct StreamSnapshot {
  // False until a read succeeded (the other fields are then zero).
  bool valid = false;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  // The oldest stored message's timestamp; InfinitePast when none is stored.
  absl::Time first_time = absl::InfinitePast();
  // The stream's duplicate window (its config, which may exceed ours).
  absl::Duration duplicate_window = absl::ZeroDuration();
  // When that read finished.
  absl::Time read_at = absl::InfinitePast();
  // The stream's Description holds another epoch than the replica serves
  // (or none): restart the replicas, which then read the stored one.
  bool identity_differs = false;
};

// Whether `s` keeps less history than its duplicate window at `now`: it has
// dropped messages (its first sequence is above 1) and its oldest stored one
// is younger than the window. A stream younger than the window that never
// dropped anything still holds every id its window covers.
bool HistoryShorterThanDedupWindow(const StreamSnapshot& s, absl::Time now);

class StreamMonitor {
 public:
  // `js` and `clock` must outlive the monitor. `interval` > 0. `epoch`: the
  // one this replica serves.
  StreamMonitor(jsCtx* js, std::string stream, std::string epoch,
                absl::Duration interval, const Clock& clock);
  ~StreamMonitor();

  StreamMonitor(const StreamMonitor&) = delete;
  StreamMonitor& operator=(const StreamMonitor&) = delete;

  // Starts the poller; its first read is at once.
  void Start();
  // Ends the poller (a read in progress finishes first, bounded by the
  // context's wait). Idempotent.
  void Stop();

  StreamSnapshot Latest() const;
  // Latest().last_sequence without the lock (read on request paths).
  uint64_t last_sequence() const { return last_sequence_.load(); }
  // When the poller started (the age of "no read yet").
  absl::Time started_at() const { return started_at_; }
  uint64_t reads() const { return reads_.load(); }
  uint64_t read_failures() const { return read_failures_.load(); }

 private:
  void Run();
  void ReadOnce();

  jsCtx* const js_;
  const std::string stream_;
  const std::string epoch_;
  const absl::Duration interval_;
  const Clock& clock_;
  absl::Time started_at_ = absl::InfinitePast();
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> read_failures_{0};
  std::atomic<uint64_t> last_sequence_{0};
  // Only the poller's thread reads and writes it.
  bool warned_short_history_ = false;
  bool warned_identity_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  StreamSnapshot latest_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace hookstream::jetstream
