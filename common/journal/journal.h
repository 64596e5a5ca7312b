// -----------------------------------------------------------------------------
// File: journal.h
// -----------------------------------------------------------------------------
// Journal is the durable storage backend (`--backend=journal`): every event is
// written to an append-only, segmented log and fdatasynced before it is
// acknowledged or shown to any reader, and a restart restores the stream
// (identity, sequences, the ring as far as its bounds hold, the dedup index)
// from it. It owns the sequences; reads are served by its EventRing.
//
// Write path (Append):
//   encode (caller's thread) → lock: dedup against the ring and the events
//   not yet durable, next sequence and log time → queue → the writer thread
//   takes everything queued as one batch: one pwrite, one fdatasync (group
//   commit: records that arrive during an fsync share the next one) → apply
//   the batch to the ring (readers see it now) → free the segment for the
//   next batch → run the completions. Under Sync::kNone, where durability
//   is the write itself, the appending thread writes the queue itself (no
//   hand-off either way), on an event loop's thread once that loop has run
//   what it had queued (common/base/thread_deferral.h), so that the appends
//   of one loop iteration share one pwrite; only a batch that starts a new
//   segment goes to the writer thread. A journal appended to from event
//   loops must outlive them, or be closed while they still run.
//   A retry of an event still in flight completes with `duplicate` once the
//   first delivery is durable.
//
// Failures (never a retried fsync: after a failed one, a retry can report
// success for data that is gone):
//   - fdatasync fails, or a write fails other than for space: every waiting
//     append gets UNAVAILABLE, the journal stops taking appends, and
//     `on_fatal` is called once (the server then exits non-zero). After a
//     restart nothing acknowledged is missing.
//   - a write fails with ENOSPC/EDQUOT: the segment is cut back to before
//     the batch, the batch and everything queued get UNAVAILABLE (nothing of
//     it is acknowledged or visible, and its sequences are given again), and
//     the journal goes on: the next batch tries again, so it accepts again
//     as soon as a write succeeds. Readers are unaffected.
//
// Recovery (Open): segments are read in order, each record's checksum and
// sequence checked. A torn tail of the last segment (a partial or bad record
// after which no valid record follows, or a stretch with a whole zero page:
// an unfinished write) is cut off, logged with the bytes dropped, and
// counted: it was never acknowledged. A bad record anywhere else refuses the
// start with one line naming the file and offset, unless `repair`: then the
// damaged stretch is dropped (the segment rewritten, the original kept as
// `<name>.corrupt-<time>`) and the report says exactly what was dropped.
// The STATE file (journal_state.h) decides whether the epoch is kept.
//
// Preallocation (Sync::kFsync): a thread keeps the segment being written
// zero-filled and synced a few MiB ahead of the writer, so that the
// fdatasync after each batch overwrites blocks the file already has and
// commits no metadata (on ext4 about half the latency of one that extends
// the file: docs/benchmarks.md, "Durability"). The zeros after the last
// record read as the log's end (record_format.h); a closed segment is cut
// to its records before the next one is created.
//
// Page cache: the journal is read back only by a restart, so what is on
// disk is dropped from the page cache every 4 MiB and when a segment
// closes (DropCachedPages, docs/journal.md); the ring is the only copy of
// the events in memory.
//
// Retention: a closed segment is deleted once the ring holds none of its
// events; the ids of its events still inside the dedup window are first
// kept in a compact `.ids` file (ids_file.h), deleted in turn when they all
// left the window. Disk use is about the ring's bytes plus one segment plus
// the ids of the window (docs/journal.md).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Journal> journal,
//                    Journal::Open({.dir = "/var/lib/hookstream"}, clock,
//                                  [](absl::Status s) { Die(s); }));
//   journal->Append(std::move(event), done);  // done after the fdatasync
//   EventReader& reader = journal->ring();
//   journal->Close();
//
// Thread-safety: Append, ring(), stats() and Close() may be called from any
// thread. One process at a time: Open locks the directory.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/journal/file_util.h"
#include "common/ring/event_ring.h"
#include "common/store/event_appender.h"
#include "common/store/stored_event.h"
#include "common/store/stream_identity.h"

namespace hookstream::journal {

struct JournalOptions {
  // Created (mode 0700) when missing.
  std::string dir;
  enum class Sync {
    // The 200 goes out after an fdatasync that covers the record: survives
    // a process crash, an OS crash and a power loss.
    kFsync,
    // After write(2) only: survives a process crash, not an OS crash or a
    // power loss (after such a stop the next start begins a new epoch).
    kNone,
  };
  Sync sync = Sync::kFsync;
  // Start despite damaged records, dropping them (and saying which).
  bool repair = false;
  // A segment is closed once it holds this many bytes.
  size_t segment_bytes = size_t{64} << 20;
  // How often closed segments are checked for deletion.
  absl::Duration retention_interval = absl::Seconds(10);
  // The ring the journal fills (its bounds also bound what is restored).
  EventRing::Options ring = {};
};

// What Open found and did; logged, and kept for tests and operators.
struct RecoveryReport {
  bool created = false;  // an empty directory: a new stream
  bool epoch_changed = false;
  std::string previous_epoch;
  size_t segments = 0;
  uint64_t records = 0;
  uint64_t record_bytes = 0;
  size_t carried_ids = 0;
  // A torn tail cut off the last segment.
  uint64_t torn_bytes = 0;
  std::string torn_file;
  uint64_t torn_offset = 0;
  // One line per damaged stretch dropped under `repair`.
  std::vector<std::string> repairs;
  absl::Duration duration;
};

// Counters and gauges for metrics (read with relaxed loads).
struct JournalStats {
  std::atomic<uint64_t> records_written{0};
  std::atomic<uint64_t> bytes_written{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> fsyncs{0};
  std::atomic<uint64_t> fsync_nanos_total{0};
  std::atomic<uint64_t> fsync_nanos_max{0};
  std::atomic<uint64_t> disk_full_failures{0};
  // Appends queued for the writer thread (every one under Sync::kFsync;
  // under kNone only those that arrive while it starts a new segment).
  std::atomic<uint64_t> handed_to_writer{0};
  std::atomic<uint64_t> segments_created{0};
  std::atomic<uint64_t> segments_deleted{0};
  std::atomic<uint64_t> ids_files_written{0};
  std::atomic<uint64_t> torn_tails_truncated{0};
  // Gauges.
  std::atomic<uint64_t> segments{0};
  std::atomic<uint64_t> disk_bytes{0};
};

class Journal final : public EventAppender {
 public:
  using FatalCallback = absl::AnyInvocable<void(absl::Status)>;

  // Opens (or creates) the journal in `options.dir`, recovers it and starts
  // writing. Errors, one line each: FAILED_PRECONDITION (the directory is
  // locked by another process; a damaged record or file not at the tail,
  // naming the file and offset, without `repair`), UNIMPLEMENTED (another
  // format version), the errno-derived codes of file_util.h. `clock` must
  // outlive the journal; `on_fatal` (may be empty) runs once, on the writer
  // thread, after a failure the journal must not recover from.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(JournalOptions options,
                                                       const Clock& clock,
                                                       FatalCallback on_fatal);

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal() override;

  // EventAppender: `done` runs on the writer thread after the fdatasync
  // covering the event; under Sync::kNone after its write, on the appending
  // thread before Append returns (on the writer thread when the event
  // starts a new segment); inline for a refusal and for a duplicate of an
  // event already durable.
  void Append(v1::Event event, AppendCallback done) override;

  // Stops taking appends (they get UNAVAILABLE), writes and syncs what it
  // was given, runs every pending completion, marks the journal cleanly
  // closed (unless it failed), and stops its threads. Idempotent.
  void Close();

  // Runs a retention pass now (normally every retention_interval).
  absl::Status RunRetention();

  EventRing& ring() { return *ring_; }
  const StreamIdentity& identity() const { return ring_->identity(); }
  const RecoveryReport& recovery() const { return recovery_; }
  const JournalStats& stats() const { return stats_; }
  const JournalOptions& options() const { return options_; }

 private:
  struct Pending {
    std::shared_ptr<StoredEvent> event;  // sequence and log_time set
    AppendCallback done;
  };
  // An event given a sequence but not durable yet, and the retries of it
  // that wait for it.
  struct InFlight {
    uint64_t sequence = 0;
    std::vector<AppendCallback> duplicates = {};
  };
  struct Segment {
    std::string name;
    uint64_t first_sequence = 0;
    uint64_t last_sequence = 0;  // first - 1 while empty
    uint64_t bytes = 0;
  };
  struct IdsFile {
    std::string name;
    absl::Time newest = absl::InfinitePast();
    uint64_t bytes = 0;
  };
  enum class State { kOpen, kClosing, kFailed };

  Journal(JournalOptions options, const Clock& clock, FatalCallback on_fatal);

  // Recovery (Open), in order.
  absl::Status LockDirectory();
  absl::Status Recover();
  absl::Status LoadIdsFile(const std::string& name);
  absl::Status LoadSegment(const std::string& name, bool is_last,
                           uint64_t& previous_last);
  absl::Status OpenActiveSegment();
  absl::Status WriteState(bool clean);

  // The writer thread.
  void WriterLoop();
  // Sync::kNone: writes what is queued on the calling thread, and what is
  // queued meanwhile, unless a writer is at it or the batch is the writer
  // thread's (a new segment, Close); then runs the answers. `lock` holds mu_
  // and is released.
  void WriteQueued(std::unique_lock<std::mutex>& lock);
  // A successful append's answer, run once the segment is free again.
  struct Completion {
    AppendCallback done;
    AppendResult result;
  };
  // Writes `batch` and applies it to the ring; on success adds its answers
  // (and those of the retries that waited for it) to `completions`, to be
  // run by the caller after it cleared writing_. Failures answer at once.
  void WriteBatch(std::vector<Pending>& batch,
                  std::vector<Completion>& completions);
  static void RunCompletions(std::vector<Completion>& completions);
  // Closes the active segment (synced) and starts one at `first_sequence`.
  absl::Status Rotate(uint64_t first_sequence);
  // Fails `batch` and everything queued with `status`; the sequences from
  // the batch's first on are given again.
  void FailQueued(std::vector<Pending>& batch, const absl::Status& status);
  void Fail(std::vector<Pending>& batch, absl::Status status);

  // Preallocation: Attach hands the preallocator the active segment (after
  // Open or Rotate set segment_fd_); Detach takes it back and waits for a
  // step in progress, so the file no longer grows after it returns.
  // RequestPreallocation, by whoever writes, asks for space ahead of
  // segment_offset_.
  void AttachPreallocation(const std::string& path);
  void DetachPreallocation();
  void RequestPreallocation();
  void PreallocatorLoop();

  // The retention thread.
  void RetentionLoop();
  void UpdateDiskBytes();

  std::string PathOf(const std::string& name) const;

  const JournalOptions options_;
  const Clock& clock_;
  FatalCallback on_fatal_;
  const std::string boot_id_;
  UniqueFd lock_fd_;
  std::unique_ptr<EventRing> ring_;
  RecoveryReport recovery_;
  JournalStats stats_;

  // std::mutex and std::condition_variable rather than absl's: visible to
  // ThreadSanitizer with Debian's uninstrumented Abseil (docs/adr/0002).
  // Lock order: mu_, then the ring's own lock (SequenceOfEventId under mu_);
  // the writer applies to the ring without holding mu_.
  std::mutex mu_;
  std::condition_variable work_cv_;
  State state_ = State::kOpen;  // guarded by mu_
  bool stop_writer_ = false;    // guarded by mu_
  // A batch is being written, by the writer thread or (Sync::kNone) by an
  // appending thread: the segment, write_buffer_ and segment_offset_ belong
  // to that writer. Guarded by mu_.
  bool writing_ = false;
  // Sync::kNone: a WriteQueued is deferred to an appending thread's event
  // loop; appends meanwhile only queue. Guarded by mu_.
  bool flush_deferred_ = false;
  // Appending threads (Sync::kNone) still running the completions of the
  // batch they wrote; Close waits for none. Incremented under mu_ while
  // !stop_writer_. Shared with each such thread: once the count reaches 0,
  // Close may return and the journal be destroyed while that thread still
  // calls notify_all, so the counter must outlive the journal until then.
  const std::shared_ptr<std::atomic<int>> completing_ =
      std::make_shared<std::atomic<int>>(0);
  std::vector<Pending> pending_;                          // guarded by mu_
  absl::flat_hash_map<std::string, InFlight> in_flight_;  // guarded by mu_
  uint64_t next_sequence_ = 1;                            // guarded by mu_
  absl::Time last_log_time_ = absl::InfinitePast();       // guarded by mu_

  // Owned by the segment's owner (see writing_; and by Open, before any
  // append).
  UniqueFd segment_fd_;
  off_t segment_offset_ = 0;
  // The offset of the last write-back step (kWritebackBytes apart): under
  // Sync::kNone write-back was started up to here; in both modes the pages
  // before were dropped from the page cache.
  off_t writeback_offset_ = 0;
  std::string write_buffer_;

  // Owned by the segment's owner: how far ahead preallocation was asked.
  off_t prealloc_requested_ = 0;

  // The preallocator's state. It holds prealloc_mu_ for each step (one
  // zero-filled extension and its fsync), so Detach waits at most a step.
  std::mutex prealloc_mu_;
  std::condition_variable prealloc_cv_;
  UniqueFd prealloc_fd_;          // the active segment, O_APPEND; guarded
  off_t prealloc_end_ = 0;        // its size; guarded by prealloc_mu_
  off_t prealloc_wanted_ = 0;     // guarded by prealloc_mu_
  bool stop_prealloc_ = false;    // guarded by prealloc_mu_
  bool prealloc_failed_ = false;  // guarded: logged once per segment

  // Segments and ids files on disk, oldest first (the last segment is the
  // one being written). Shared by the writer and retention.
  std::mutex files_mu_;
  std::deque<Segment> segments_;   // guarded by files_mu_
  std::deque<IdsFile> ids_files_;  // guarded by files_mu_

  std::mutex retention_pass_mu_;
  std::mutex retention_mu_;
  std::condition_variable retention_cv_;
  bool stop_retention_ = false;  // guarded by retention_mu_

  std::thread writer_;
  std::thread retention_;
  std::thread preallocator_;
  bool closed_ = false;  // guarded by close_mu_
  std::mutex close_mu_;
};

}  // namespace hookstream::journal
