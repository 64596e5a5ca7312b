#include "common/journal/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/log.h"
#include "common/base/status_macros.h"
#include "common/base/thread_deferral.h"
#include "common/base/thread_name.h"
#include "common/journal/ids_file.h"
#include "common/journal/journal_state.h"
#include "common/journal/record_format.h"

namespace hookstream::journal {
namespace {

constexpr absl::string_view kSegmentSuffix = ".seg";
// How much a segment grows between write-back steps (WriteBatch).
constexpr off_t kWritebackBytes = off_t{4} << 20;
// Under Sync::kFsync, how far ahead of the writer the segment is kept
// zero-filled, and how much the preallocator adds (and fsyncs) per step.
// One step is what a rotation may wait for (DetachPreallocation).
constexpr off_t kPreallocAhead = off_t{4} << 20;
constexpr size_t kPreallocStep = size_t{1} << 20;
constexpr absl::string_view kIdsSuffix = ".ids";
constexpr char kLockFileName[] = "LOCK";

// Segment and ids files are named after their first sequence, zero-padded
// so that names sort like sequences.
std::string FileName(uint64_t first_sequence, absl::string_view suffix) {
  return absl::StrFormat("%020u%s", first_sequence, suffix);
}

std::optional<uint64_t> SequenceOfName(absl::string_view name,
                                       absl::string_view suffix) {
  if (!absl::EndsWith(name, suffix) || name.size() != 20 + suffix.size()) {
    return std::nullopt;
  }
  uint64_t sequence = 0;
  if (!absl::SimpleAtoi(name.substr(0, 20), &sequence)) return std::nullopt;
  return sequence;
}

absl::string_view SyncName(JournalOptions::Sync sync) {
  return sync == JournalOptions::Sync::kFsync ? "fsync" : "none";
}

}  // namespace

Journal::Journal(JournalOptions options, const Clock& clock,
                 FatalCallback on_fatal)
    : options_(std::move(options)),
      clock_(clock),
      on_fatal_(std::move(on_fatal)),
      boot_id_(CurrentBootId()) {}

Journal::~Journal() { Close(); }

std::string Journal::PathOf(const std::string& name) const {
  return absl::StrCat(options_.dir, "/", name);
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(JournalOptions options,
                                                       const Clock& clock,
                                                       FatalCallback on_fatal) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("journal: no directory given");
  }
  if (options.segment_bytes < kSegmentHeaderSize + kRecordHeaderSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "journal: segment size ", options.segment_bytes, " is too small"));
  }
  // Private constructor: Open is the only way to get a recovered journal.
  std::unique_ptr<Journal> journal = absl::WrapUnique(
      new Journal(std::move(options), clock, std::move(on_fatal)));
  const absl::Time start = absl::Now();
  if (absl::Status s = journal->Recover(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("journal: ", s.message()));
  }
  journal->recovery_.duration = absl::Now() - start;
  journal->writer_ = std::thread([j = journal.get()] {
    NameCurrentThread("hs-jrnl-write");
    j->WriterLoop();
  });
  journal->preallocator_ = std::thread([j = journal.get()] {
    NameCurrentThread("hs-jrnl-zero");
    j->PreallocatorLoop();
  });
  journal->retention_ = std::thread([j = journal.get()] {
    NameCurrentThread("hs-jrnl-retain");
    j->RetentionLoop();
  });

  const RecoveryReport& r = journal->recovery_;
  const EventRing::Info info = journal->ring_->GetInfo();
  LogRecord(LogLevel::kInfo, "journal opened")
      .Add("dir", journal->options_.dir)
      .Add("sync", SyncName(journal->options_.sync))
      .Add("stream_epoch", info.stream_epoch)
      .Add("created", r.created)
      .Add("segments", r.segments)
      .Add("records", r.records)
      .Add("carried_ids", r.carried_ids)
      .Add("oldest_sequence", info.oldest_sequence)
      .Add("head_sequence", info.head_sequence)
      .Add("ring_events", info.event_count)
      .Add("recovery_ms", absl::ToInt64Milliseconds(r.duration));
  for (const std::string& repair : r.repairs) {
    LogRecord(LogLevel::kWarning, "journal repaired")
        .Add("dir", journal->options_.dir)
        .Add("dropped", repair);
  }
  return journal;
}

absl::Status Journal::LockDirectory() {
  RETURN_IF_ERROR(MakeDirectories(options_.dir));
  const std::string path = PathOf(kLockFileName);
  lock_fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_fd_.valid()) return ErrnoStatus(errno, absl::StrCat("open ", path));
  if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      absl::StatusOr<std::string> holder = ReadWholeFile(path);
      return absl::FailedPreconditionError(absl::StrCat(
          options_.dir, " is in use by another hookstream-server (pid ",
          holder.ok() ? *holder : "unknown", ")"));
    }
    return ErrnoStatus(errno, absl::StrCat("flock ", path));
  }
  const std::string pid = absl::StrCat(::getpid());
  if (::ftruncate(lock_fd_.get(), 0) == 0) {
    (void)WriteAllAt(lock_fd_.get(), pid, 0, "write LOCK");
  }
  return absl::OkStatus();
}

absl::Status Journal::Recover() {
  RETURN_IF_ERROR(LockDirectory());
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(options_.dir));
  std::vector<std::string> segment_names;
  std::vector<std::string> ids_names;
  bool has_state = false;
  for (const std::string& name : names) {
    if (SequenceOfName(name, kSegmentSuffix)) {
      segment_names.push_back(name);
    } else if (SequenceOfName(name, kIdsSuffix)) {
      ids_names.push_back(name);
    } else if (name == kStateFileName) {
      has_state = true;
    } else if (absl::EndsWith(name, ".tmp")) {
      // An atomic write that did not finish: never renamed, never used.
      ::unlink(PathOf(name).c_str());
    }
  }

  // The identity: from STATE; without it from the first segment; without
  // either a new stream.
  std::optional<JournalState> last_state;
  if (has_state) {
    ASSIGN_OR_RETURN(std::string text, ReadWholeFile(PathOf(kStateFileName)));
    absl::StatusOr<JournalState> state = DecodeJournalState(text);
    if (!state.ok() && !options_.repair) {
      return absl::FailedPreconditionError(absl::StrCat(
          PathOf(kStateFileName), ": ", state.status().message(),
          "; refusing to start (--journal_repair takes the identity from the "
          "first segment)"));
    }
    if (state.ok()) {
      last_state = *std::move(state);
    } else {
      recovery_.repairs.push_back(
          absl::StrCat("ignored a damaged ", kStateFileName, " file"));
    }
  }
  StreamIdentity identity;
  if (last_state) {
    identity = {.epoch = last_state->epoch,
                .start_time = last_state->epoch_start};
  } else if (!segment_names.empty()) {
    ASSIGN_OR_RETURN(std::string bytes,
                     ReadWholeFile(PathOf(segment_names.front())));
    absl::StatusOr<SegmentHeader> header = DecodeSegmentHeader(bytes);
    if (!header.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(PathOf(segment_names.front()), ": ",
                       header.status().message(), " (and no STATE file)"));
    }
    identity = {.epoch = header->epoch, .start_time = header->epoch_start};
  } else {
    identity = NewStreamIdentity(clock_.Now());
    recovery_.created = ids_names.empty();
  }
  if (last_state && NeedsNewEpoch(*last_state, boot_id_)) {
    recovery_.epoch_changed = true;
    recovery_.previous_epoch = identity.epoch;
    identity = NewStreamIdentity(clock_.Now());
    LogRecord(LogLevel::kWarning, "journal starts a new stream epoch")
        .Add("dir", options_.dir)
        .Add("previous_epoch", recovery_.previous_epoch)
        .Add("stream_epoch", identity.epoch)
        .Add("detail",
             "the last process stopped uncleanly under --journal_sync=none "
             "and the machine rebooted since: acknowledged writes may not "
             "have reached the disk, so old positions must not match new "
             "events; what survived is kept under the new epoch");
  }

  // The ring starts at the first segment's first sequence (the carried-over
  // ids are all below it).
  uint64_t first_sequence = 1;
  if (!segment_names.empty()) {
    first_sequence = *SequenceOfName(segment_names.front(), kSegmentSuffix);
  } else if (!ids_names.empty()) {
    // Every segment gone: continue after the newest carried-over id.
    ASSIGN_OR_RETURN(std::string bytes,
                     ReadWholeFile(PathOf(ids_names.back())));
    absl::StatusOr<std::vector<CarriedId>> ids = DecodeIdsFile(bytes);
    if (ids.ok() && !ids->empty()) first_sequence = ids->back().sequence + 1;
  }
  ring_ = std::make_unique<EventRing>(options_.ring, clock_, identity,
                                      first_sequence);

  for (const std::string& name : ids_names) RETURN_IF_ERROR(LoadIdsFile(name));
  uint64_t previous_last = first_sequence - 1;
  for (size_t i = 0; i < segment_names.size(); ++i) {
    RETURN_IF_ERROR(LoadSegment(segment_names[i], i + 1 == segment_names.size(),
                                previous_last));
  }
  {
    std::lock_guard lock(mu_);
    next_sequence_ = ring_->GetInfo().head_sequence + 1;
    if (StoredEventPtr head = ring_->Get(next_sequence_ - 1)) {
      last_log_time_ = head->log_time;
    }
  }
  RETURN_IF_ERROR(OpenActiveSegment());
  RETURN_IF_ERROR(WriteState(/*clean=*/false));
  UpdateDiskBytes();
  return absl::OkStatus();
}

absl::Status Journal::LoadIdsFile(const std::string& name) {
  const std::string path = PathOf(name);
  ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  absl::StatusOr<std::vector<CarriedId>> ids = DecodeIdsFile(bytes);
  if (!ids.ok()) {
    if (!options_.repair) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": ", ids.status().message(),
          "; refusing to start (--journal_repair drops the file)"));
    }
    const std::string aside =
        absl::StrCat(path, ".corrupt-", absl::ToUnixSeconds(clock_.Now()));
    ::rename(path.c_str(), aside.c_str());
    recovery_.repairs.push_back(absl::StrCat(
        "dropped ", path, " (", ids.status().message(), "), kept as ", aside));
    return absl::OkStatus();
  }
  const absl::Time now = clock_.Now();
  IdsFile file{.name = name, .bytes = bytes.size()};
  for (const CarriedId& c : *ids) {
    file.newest = std::max(file.newest, c.log_time);
    if (now - c.log_time >= options_.ring.dedup.window) continue;
    ring_->RememberEvictedId(c.id, c.sequence, c.log_time);
    ++recovery_.carried_ids;
  }
  std::lock_guard lock(files_mu_);
  ids_files_.push_back(std::move(file));
  return absl::OkStatus();
}

absl::Status Journal::LoadSegment(const std::string& name, bool is_last,
                                  uint64_t& previous_last) {
  const std::string path = PathOf(name);
  ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(path));
  const absl::string_view bytes = mapped.bytes();
  absl::StatusOr<SegmentScan> scanned = ScanSegment(bytes);
  if (!scanned.ok()) {
    if (absl::IsUnimplemented(scanned.status()) || !options_.repair) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": ", scanned.status().message(),
          absl::IsUnimplemented(scanned.status())
              ? ""
              : "; refusing to start (--journal_repair drops the segment)"));
    }
    const std::string aside =
        absl::StrCat(path, ".corrupt-", absl::ToUnixSeconds(clock_.Now()));
    ::rename(path.c_str(), aside.c_str());
    recovery_.repairs.push_back(absl::StrCat("dropped segment ", path, " (",
                                             scanned.status().message(),
                                             "), kept as ", aside));
    return absl::OkStatus();
  }
  SegmentScan& scan = *scanned;
  if (scan.header.first_sequence <= previous_last) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": first sequence ", scan.header.first_sequence,
        " is not after the previous segment's last ", previous_last));
  }

  // Where the log ends: the last segment may go on with zero-filled space
  // preallocated for it (Sync::kFsync); a closed segment was cut to its
  // records (Rotate), so zeros after them are damage there.
  const size_t end = is_last ? scan.data_end : bytes.size();
  const size_t torn = end - scan.valid_end;
  // Where good records end: at the first damage that is a torn write (the
  // last segment only), else after every record.
  size_t cut = end;
  bool rewrite = false;
  for (const SegmentScan::Damage& d : scan.damage) {
    if (is_last && d.zero_page) {
      cut = d.offset;  // an unfinished write: everything after it unacked
      break;
    }
    if (!options_.repair) {
      return absl::FailedPreconditionError(absl::StrCat(
          "bad record in ", path, " at offset ", d.offset, " (", d.reason,
          "), not at the tail; refusing to start (--journal_repair drops the "
          "damaged records and says which)"));
    }
    rewrite = true;
  }
  if (torn > 0 && !is_last) {
    if (!options_.repair) {
      return absl::FailedPreconditionError(absl::StrCat(
          "bad record in ", path, " at offset ", scan.valid_end,
          " (the rest of the segment, ", torn,
          " bytes, does not decode) in a segment that is not the last; "
          "refusing to start (--journal_repair drops it)"));
    }
    rewrite = true;
  }
  if (cut == end && torn > 0 && is_last) cut = scan.valid_end;

  std::string kept;  // the segment rewritten without damage (repair)
  if (rewrite) kept = EncodeSegmentHeader(scan.header);
  uint64_t last = previous_last;
  for (const Record& r : scan.records) {
    if (r.offset >= cut) break;
    absl::StatusOr<StoredEvent> event = StoredEvent::FromLogged(
        r.payload, ring_->stream_epoch(), r.sequence, r.log_time);
    absl::Status applied =
        event.ok()
            ? ring_->Apply(std::make_shared<StoredEvent>(*std::move(event)))
            : event.status();
    if (!applied.ok()) {
      // Checksummed, so not damage: an event this ring can no longer hold
      // (its byte budget shrank). Kept on disk, counted as a record.
      LogRecord(LogLevel::kWarning, "journal record not restored")
          .Add("file", path)
          .Add("sequence", r.sequence)
          .Add("error", applied.message());
    }
    if (rewrite) {
      kept.append(bytes.data() + r.offset, r.size);
    }
    last = r.sequence;
    ++recovery_.records;
    recovery_.record_bytes += r.size;
  }

  if (rewrite) {
    for (const SegmentScan::Damage& d : scan.damage) {
      recovery_.repairs.push_back(absl::StrCat("dropped bytes ", d.offset, "..",
                                               d.resume_offset, " of ", path,
                                               " (", d.reason, ")"));
    }
    if (torn > 0 && !is_last) {
      recovery_.repairs.push_back(
          absl::StrCat("dropped the last ", torn, " bytes of ", path,
                       " (from offset ", scan.valid_end, ")"));
    }
    const std::string aside =
        absl::StrCat(name, ".corrupt-", absl::ToUnixSeconds(clock_.Now()));
    if (::rename(path.c_str(), PathOf(aside).c_str()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("rename ", path));
    }
    RETURN_IF_ERROR(WriteFileAtomically(options_.dir, name, kept));
    cut = kept.size();
  } else if (cut < end) {
    // The torn tail of the last segment: never acknowledged. (Cutting the
    // file there also drops its preallocated space; Attach extends it again.)
    const uint64_t dropped = end - cut;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid() || ::ftruncate(fd.get(), static_cast<off_t>(cut)) != 0 ||
        ::fsync(fd.get()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("truncate ", path));
    }
    recovery_.torn_bytes += dropped;
    recovery_.torn_file = path;
    recovery_.torn_offset = cut;
    stats_.torn_tails_truncated.fetch_add(1, std::memory_order_relaxed);
    LogRecord(LogLevel::kWarning, "journal torn tail truncated")
        .Add("file", path)
        .Add("offset", cut)
        .Add("bytes_dropped", dropped)
        .Add("detail",
             "a partial or bad record at the end of the last segment: a write "
             "that did not finish, never acknowledged");
  }

  previous_last = std::max(last, scan.header.first_sequence - 1);
  ++recovery_.segments;
  std::lock_guard lock(files_mu_);
  segments_.push_back({.name = name,
                       .first_sequence = scan.header.first_sequence,
                       .last_sequence = previous_last,
                       .bytes = cut});
  return absl::OkStatus();
}

absl::Status Journal::OpenActiveSegment() {
  std::optional<Segment> last;
  {
    std::lock_guard lock(files_mu_);
    if (!segments_.empty()) last = segments_.back();
    // A new epoch starts a new segment (headers name the epoch they were
    // written in); an empty last segment is then simply replaced.
    if (last && recovery_.epoch_changed) {
      if (last->last_sequence < last->first_sequence) segments_.pop_back();
      last.reset();
    }
  }
  if (!last) return Rotate(next_sequence_);
  const std::string path = PathOf(last->name);
  segment_fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!segment_fd_.valid()) {
    return ErrnoStatus(errno, absl::StrCat("open ", path));
  }
  segment_offset_ = static_cast<off_t>(last->bytes);
  writeback_offset_ = segment_offset_;
  AttachPreallocation(path);
  return absl::OkStatus();
}

absl::Status Journal::WriteState(bool clean) {
  const StreamIdentity& identity = ring_->identity();
  return WriteFileAtomically(
      options_.dir, kStateFileName,
      EncodeJournalState({.epoch = identity.epoch,
                          .epoch_start = identity.start_time,
                          .boot_id = boot_id_,
                          .sync = std::string(SyncName(options_.sync)),
                          .clean = clean}));
}

void Journal::Append(v1::Event event, AppendCallback done) {
  // Serialization happens before the lock is taken.
  absl::StatusOr<EncodedEvent> encoded =
      EncodeForAppend(event, ring_->stream_epoch(), clock_.Now());
  if (!encoded.ok()) {
    std::move(done)(encoded.status());
    return;
  }
  std::shared_ptr<StoredEvent> stored = std::move(encoded->event);
  const absl::Time received_at = encoded->received_at;

  std::unique_lock lock(mu_);
  if (state_ != State::kOpen) {
    const bool failed = state_ == State::kFailed;
    lock.unlock();
    std::move(done)(
        absl::UnavailableError(failed ? "journal failed; the server is stopping"
                                      : "journal is closing"));
    return;
  }
  // Durable already (applied to the ring only after its write).
  if (std::optional<uint64_t> first = ring_->SequenceOfEventId(stored->id)) {
    lock.unlock();
    std::move(done)(AppendResult{.sequence = *first, .duplicate = true});
    return;
  }
  // Not durable yet: answered when the first delivery is.
  if (auto it = in_flight_.find(stored->id); it != in_flight_.end()) {
    it->second.duplicates.push_back(std::move(done));
    return;
  }
  const uint64_t sequence = next_sequence_;
  const size_t size =
      stored->ByteSize() + StoredEvent::SequenceFieldSize(sequence);
  if (!stored->encoded() || !ring_->CanHold(size) ||
      stored->ByteSize() > kMaxRecordPayload) {
    lock.unlock();
    std::move(done)(absl::ResourceExhaustedError(
        absl::StrCat("event ", stored->id, " is ", size,
                     " bytes, more than the ring's byte budget of ",
                     ring_->options().max_bytes)));
    return;
  }
  ++next_sequence_;
  stored->SetSequence(sequence);
  stored->log_time = std::max(received_at, last_log_time_);
  last_log_time_ = stored->log_time;
  in_flight_.emplace(std::string(stored->id), InFlight{.sequence = sequence});
  pending_.push_back({.event = std::move(stored), .done = std::move(done)});
  if (writing_) return;  // whoever writes takes it with its next batch
  if (options_.sync == JournalOptions::Sync::kFsync || stop_writer_ ||
      segment_offset_ >= static_cast<off_t>(options_.segment_bytes)) {
    // The writer thread: every fsync, and a batch that starts a new segment
    // (which fsyncs the closed one and the directory).
    work_cv_.notify_one();
    return;
  }
  // Sync::kNone: durable at write(2), a page-cache copy as quick as the
  // socket writes the appending thread makes anyway, so an appending thread
  // writes the queue itself (WriteQueued) rather than waking the writer
  // thread, whose wake-up and the answers' trip back cost more than the
  // write (docs/benchmarks.md, "Where the journal's `none` CPU goes"). On an
  // event loop's thread it does so once the loop has run what it already
  // queued (thread_deferral.h): the other requests of that iteration append
  // meanwhile and share the write(2), which costs mostly per call.
  if (flush_deferred_) return;  // that flush takes this one too
  if (ThreadDeferrer* deferrer = CurrentThreadDeferrer()) {
    flush_deferred_ = true;
    lock.unlock();
    // The journal outlives the loops that append to it (Close is called
    // while they run and writes what is queued; the server stops them
    // after); a flush that runs after Close finds nothing to write.
    deferrer->Defer([this] {
      std::unique_lock lock(mu_);
      flush_deferred_ = false;
      WriteQueued(lock);
    });
    return;
  }
  WriteQueued(lock);
}

void Journal::WriteQueued(std::unique_lock<std::mutex>& lock) {
  if (writing_ || pending_.empty()) return;
  if (state_ != State::kOpen || stop_writer_ ||
      segment_offset_ >= static_cast<off_t>(options_.segment_bytes)) {
    // A batch that starts a new segment (which fsyncs the closed one and the
    // directory), and Close's last one, are the writer thread's.
    work_cv_.notify_one();
    return;
  }
  writing_ = true;
  // Held by this thread until after its last touch of the counter (see
  // completing_).
  const std::shared_ptr<std::atomic<int>> completing = completing_;
  completing->fetch_add(1, std::memory_order_relaxed);
  std::vector<Pending> batch;
  std::vector<Completion> completions;
  // Appends that arrive while this thread writes join its next batch.
  for (;;) {
    batch.swap(pending_);
    lock.unlock();
    WriteBatch(batch, completions);
    batch.clear();
    lock.lock();
    if (pending_.empty() || state_ != State::kOpen ||
        segment_offset_ >= static_cast<off_t>(options_.segment_bytes)) {
      break;
    }
  }
  writing_ = false;
  // What is left (a new segment to start, or Close's last batch) is the
  // writer thread's.
  if (!pending_.empty() || stop_writer_) work_cv_.notify_one();
  lock.unlock();
  // Answered after the segment is free again: each completion writes an
  // HTTP response (a TLS write and a send(2) here, or a post to the
  // request's own loop), which another appending thread must not wait for.
  RunCompletions(completions);
  // No lock taken again. The wake-up costs nothing while nobody waits (only
  // Close does).
  if (completing->fetch_sub(1, std::memory_order_acq_rel) == 1) {
    completing->notify_all();
  }
}

void Journal::WriterLoop() {
  std::vector<Pending> batch;
  std::vector<Completion> completions;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [this] {
        return state_ == State::kFailed ||
               (!writing_ && (!pending_.empty() || stop_writer_));
      });
      if (state_ == State::kFailed) return;
      if (pending_.empty()) return;  // stop_writer_, and everything written
      writing_ = true;
      batch.swap(pending_);
    }
    stats_.handed_to_writer.fetch_add(batch.size(), std::memory_order_relaxed);
    WriteBatch(batch, completions);
    batch.clear();
    {
      std::lock_guard lock(mu_);
      writing_ = false;
    }
    RunCompletions(completions);
  }
}

void Journal::RunCompletions(std::vector<Completion>& completions) {
  for (Completion& c : completions) std::move(c.done)(c.result);
  completions.clear();
}

void Journal::WriteBatch(std::vector<Pending>& batch,
                         std::vector<Completion>& completions) {
  const uint64_t first = batch.front().event->sequence;
  if (segment_offset_ >= static_cast<off_t>(options_.segment_bytes)) {
    if (absl::Status s = Rotate(first); !s.ok()) {
      if (absl::IsResourceExhausted(s)) {
        FailQueued(batch, absl::UnavailableError(
                              absl::StrCat("disk full: ", s.message())));
      } else {
        Fail(batch, std::move(s));
      }
      return;
    }
  }
  write_buffer_.clear();
  for (const Pending& p : batch) {
    AppendRecord(p.event->sequence, p.event->log_time, p.event->RawJsonField(),
                 p.event->Fields(), write_buffer_);
  }
  const absl::Status written =
      WriteAllAt(segment_fd_.get(), write_buffer_, segment_offset_,
                 absl::StrCat("write ", options_.dir, "/journal segment"));
  if (!written.ok()) {
    if (absl::IsResourceExhausted(written)) {
      // Nothing of the batch may stay: a later batch would otherwise follow
      // records that were refused (and whose sequences are given again).
      if (::ftruncate(segment_fd_.get(), segment_offset_) != 0) {
        Fail(batch, ErrnoStatus(errno, "truncate after a failed write"));
        return;
      }
      stats_.disk_full_failures.fetch_add(1, std::memory_order_relaxed);
      LogRecord(LogLevel::kWarning, "journal write refused")
          .Add("error", written.message())
          .Add("events_refused", batch.size())
          .Add("detail", "answered 503; accepting again once a write works");
      FailQueued(batch, absl::UnavailableError(
                            absl::StrCat("disk full: ", written.message())));
      return;
    }
    Fail(batch, written);
    return;
  }
  if (options_.sync == JournalOptions::Sync::kFsync) {
    const absl::Time start = absl::Now();
    if (::fdatasync(segment_fd_.get()) != 0) {
      // Never retried: the kernel may have dropped the dirty pages, and a
      // second fdatasync would then report success for data that is gone.
      Fail(batch, ErrnoStatus(errno, "fdatasync of the journal segment"));
      return;
    }
    const uint64_t nanos =
        static_cast<uint64_t>(absl::ToInt64Nanoseconds(absl::Now() - start));
    stats_.fsyncs.fetch_add(1, std::memory_order_relaxed);
    stats_.fsync_nanos_total.fetch_add(nanos, std::memory_order_relaxed);
    uint64_t max = stats_.fsync_nanos_max.load(std::memory_order_relaxed);
    while (nanos > max && !stats_.fsync_nanos_max.compare_exchange_weak(
                              max, nanos, std::memory_order_relaxed)) {
    }
  }
  segment_offset_ += static_cast<off_t>(write_buffer_.size());
  RequestPreallocation();
  if (segment_offset_ - writeback_offset_ >= kWritebackBytes) {
    if (options_.sync == JournalOptions::Sync::kNone) {
      // Starts the write-back of what this segment has so far, without
      // waiting for it: otherwise the whole segment is still dirty when it
      // closes, and the fdatasync that closes it stalls every append behind
      // it for as long as 64 MiB take to reach the disk (~300 ms measured,
      // docs/benchmarks.md). Advisory: an error here is the closing
      // fdatasync's to report.
      (void)::sync_file_range(segment_fd_.get(), writeback_offset_,
                              segment_offset_ - writeback_offset_,
                              SYNC_FILE_RANGE_WRITE);
    }
    // The journal is read back only by a restart: pages on disk are dropped
    // from the page cache (as PostgreSQL drops its WAL's), where they only
    // hold memory the ring needs; kept, they cost 3-6 us of server CPU per
    // request here (docs/benchmarks.md). Under fsync everything before the
    // offset is on disk; under none what the step before wrote, whose
    // write-back began one step ago. The zeros ahead (fsync) stay cached.
    DropCachedPages(segment_fd_.get(),
                    options_.sync == JournalOptions::Sync::kNone
                        ? writeback_offset_
                        : segment_offset_);
    writeback_offset_ = segment_offset_;
  }
  stats_.records_written.fetch_add(batch.size(), std::memory_order_relaxed);
  stats_.bytes_written.fetch_add(write_buffer_.size(),
                                 std::memory_order_relaxed);
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  stats_.disk_bytes.fetch_add(write_buffer_.size(), std::memory_order_relaxed);
  {
    std::lock_guard lock(files_mu_);
    segments_.back().last_sequence = batch.back().event->sequence;
    segments_.back().bytes = static_cast<uint64_t>(segment_offset_);
  }

  // Durable: readers may see it now. Applied before the ids leave
  // in_flight_, so a retry finds each id in one or the other.
  for (Pending& p : batch) {
    if (absl::Status s = ring_->Apply(p.event); !s.ok()) {
      LogRecord(LogLevel::kError, "journal apply failed")
          .Add("sequence", p.event->sequence)
          .Add("error", s.message());
    }
  }
  std::vector<std::pair<uint64_t, std::vector<AppendCallback>>> retries;
  {
    std::lock_guard lock(mu_);
    for (const Pending& p : batch) {
      auto it = in_flight_.find(p.event->id);
      if (it == in_flight_.end()) continue;
      if (!it->second.duplicates.empty()) {
        retries.emplace_back(it->second.sequence,
                             std::move(it->second.duplicates));
      }
      in_flight_.erase(it);
    }
  }
  for (Pending& p : batch) {
    completions.push_back(
        {.done = std::move(p.done),
         .result = {.sequence = p.event->sequence, .duplicate = false}});
  }
  for (auto& [sequence, callbacks] : retries) {
    for (AppendCallback& done : callbacks) {
      completions.push_back(
          {.done = std::move(done),
           .result = {.sequence = sequence, .duplicate = true}});
    }
  }
}

absl::Status Journal::Rotate(uint64_t first_sequence) {
  if (segment_fd_.valid()) {
    DetachPreallocation();
    // The closed segment ends at its last record: zeros after it would read
    // as damage once it is not the last one (LoadSegment).
    struct stat st;
    if (::fstat(segment_fd_.get(), &st) != 0) {
      return ErrnoStatus(errno, "stat of the closed journal segment");
    }
    if (st.st_size > segment_offset_ &&
        ::ftruncate(segment_fd_.get(), segment_offset_) != 0) {
      return ErrnoStatus(errno, "truncate of the closed journal segment");
    }
    // The closed segment is complete on disk, whatever the sync mode (and
    // so is its size).
    if (::fdatasync(segment_fd_.get()) != 0) {
      return ErrnoStatus(errno, "fdatasync of the closed journal segment");
    }
    // All of it on disk now, and read again only by a restart.
    (void)::posix_fadvise(segment_fd_.get(), 0, 0, POSIX_FADV_DONTNEED);
    segment_fd_.reset();
  }
  const std::string name = FileName(first_sequence, kSegmentSuffix);
  const std::string header =
      EncodeSegmentHeader({.first_sequence = first_sequence,
                           .created = clock_.Now(),
                           .epoch = ring_->stream_epoch(),
                           .epoch_start = ring_->identity().start_time});
  // Created whole (temporary file, fsync, rename, fsync of the directory):
  // a segment never exists without its header.
  RETURN_IF_ERROR(WriteFileAtomically(options_.dir, name, header));
  const std::string path = PathOf(name);
  segment_fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!segment_fd_.valid()) {
    return ErrnoStatus(errno, absl::StrCat("open ", path));
  }
  segment_offset_ = static_cast<off_t>(header.size());
  writeback_offset_ = segment_offset_;
  AttachPreallocation(path);
  {
    std::lock_guard lock(files_mu_);
    segments_.push_back({.name = name,
                         .first_sequence = first_sequence,
                         .last_sequence = first_sequence - 1,
                         .bytes = header.size()});
    stats_.segments.store(segments_.size(), std::memory_order_relaxed);
  }
  stats_.segments_created.fetch_add(1, std::memory_order_relaxed);
  stats_.disk_bytes.fetch_add(header.size(), std::memory_order_relaxed);
  {
    std::lock_guard lock(retention_mu_);
    retention_cv_.notify_one();  // a segment closed: maybe one can go
  }
  return absl::OkStatus();
}

void Journal::AttachPreallocation(const std::string& path) {
  // Under Sync::kNone nothing waits for a flush, and overwriting zeros costs
  // the same CPU as extending the file: no preallocation.
  if (options_.sync != JournalOptions::Sync::kFsync) return;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    LogRecord(LogLevel::kWarning, "journal preallocation failed")
        .Add("file", path)
        .Add("error", ErrnoStatus(errno, "open").message())
        .Add("detail", "the segment is written without preallocation");
    return;
  }
  {
    std::lock_guard lock(prealloc_mu_);
    prealloc_fd_ = std::move(fd);
    prealloc_end_ = st.st_size;
    prealloc_wanted_ = 0;
    prealloc_failed_ = false;
  }
  prealloc_requested_ = 0;
  RequestPreallocation();
}

void Journal::DetachPreallocation() {
  std::lock_guard lock(prealloc_mu_);  // waits for a step in progress
  prealloc_fd_.reset();
  prealloc_wanted_ = 0;
}

void Journal::RequestPreallocation() {
  if (options_.sync != JournalOptions::Sync::kFsync) return;
  // Asked again once the writer has used half of what it asked for.
  const off_t limit = static_cast<off_t>(options_.segment_bytes);
  if (prealloc_requested_ >= limit ||
      segment_offset_ + kPreallocAhead / 2 < prealloc_requested_) {
    return;
  }
  prealloc_requested_ = std::min(limit, segment_offset_ + kPreallocAhead);
  {
    std::lock_guard lock(prealloc_mu_);
    prealloc_wanted_ = prealloc_requested_;
  }
  prealloc_cv_.notify_one();
}

void Journal::PreallocatorLoop() {
  const std::string zeros(kPreallocStep, '\0');
  std::unique_lock lock(prealloc_mu_);
  for (;;) {
    prealloc_cv_.wait(lock, [this] {
      return stop_prealloc_ || (prealloc_fd_.valid() && !prealloc_failed_ &&
                                prealloc_end_ < prealloc_wanted_);
    });
    if (stop_prealloc_) return;
    const int fd = prealloc_fd_.get();
    // The size now: the writer extends the file itself when it outruns
    // the preallocated space.
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_size != prealloc_end_) {
      prealloc_end_ = st.st_size;
      continue;
    }
    const size_t step = std::min(
        kPreallocStep, static_cast<size_t>(prealloc_wanted_ - prealloc_end_));
    // write(2) on an O_APPEND descriptor: the zeros go to the end of the
    // file as it is when they are written (the file's lock orders this
    // write with the writer's), so never over a record, even when the
    // writer has outrun the preallocated space. fsync, not fdatasync: the
    // file's size changes. (Neither is pwrite64 or fdatasync, the calls the
    // journal's failure tests inject errors into.)
    ssize_t written = 0;
    do {
      written = ::write(fd, zeros.data(), step);
    } while (written < 0 && errno == EINTR);
    if (written < 0 || ::fsync(fd) != 0 || ::fstat(fd, &st) != 0) {
      // Only slower: the writer extends the file itself, and a later
      // fdatasync reports what a real failure of the disk is.
      prealloc_failed_ = true;
      LogRecord(LogLevel::kWarning, "journal preallocation failed")
          .Add("dir", options_.dir)
          .Add("error", ErrnoStatus(errno, "zero-fill").message())
          .Add("detail",
               "the segment is written on without preallocation (slower "
               "fsyncs); the next segment tries again");
      continue;
    }
    prealloc_end_ = st.st_size;
  }
}

void Journal::FailQueued(std::vector<Pending>& batch,
                         const absl::Status& status) {
  std::vector<Pending> queued;
  std::vector<AppendCallback> retries;
  {
    std::lock_guard lock(mu_);
    queued.swap(pending_);
    for (const std::vector<Pending>* list : {&batch, &queued}) {
      for (const Pending& p : *list) {
        auto it = in_flight_.find(p.event->id);
        if (it == in_flight_.end()) continue;
        for (AppendCallback& done : it->second.duplicates) {
          retries.push_back(std::move(done));
        }
        in_flight_.erase(it);
      }
    }
    // Nothing from here on was written or shown: the sequences are free.
    next_sequence_ = batch.front().event->sequence;
  }
  for (std::vector<Pending>* list : {&batch, &queued}) {
    for (Pending& p : *list) std::move(p.done)(status);
  }
  for (AppendCallback& done : retries) std::move(done)(status);
}

void Journal::Fail(std::vector<Pending>& batch, absl::Status status) {
  LogRecord(LogLevel::kError, "journal failed")
      .Add("dir", options_.dir)
      .Add("error", status.message())
      .Add("detail",
           "every waiting request is answered 503; no fsync is retried; the "
           "server stops (exit 1) and recovers from the journal on restart");
  {
    std::lock_guard lock(mu_);
    state_ = State::kFailed;
  }
  const absl::Status answer = absl::UnavailableError(
      absl::StrCat("journal failed: ", status.message()));
  FailQueued(batch, answer);
  work_cv_.notify_all();
  if (on_fatal_) std::exchange(on_fatal_, nullptr)(std::move(status));
}

absl::Status Journal::RunRetention() {
  // One pass at a time (the retention thread, and callers of RunRetention).
  std::lock_guard pass(retention_pass_mu_);
  const uint64_t floor = ring_->GetInfo().oldest_sequence - 1;
  const absl::Time now = clock_.Now();
  const absl::Duration window = options_.ring.dedup.window;
  for (;;) {
    std::optional<Segment> oldest;
    {
      std::lock_guard lock(files_mu_);
      // Never the segment being written.
      if (segments_.size() >= 2 && segments_.front().last_sequence <= floor) {
        oldest = segments_.front();
      }
    }
    if (!oldest) break;
    const std::string path = PathOf(oldest->name);
    ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(path));
    ASSIGN_OR_RETURN(SegmentScan scan, ScanSegment(mapped.bytes()));
    // The ids the dedup index still remembers with this sequence: within
    // the window and not beyond its count.
    std::vector<CarriedId> keep;
    absl::Time newest = absl::InfinitePast();
    for (const Record& r : scan.records) {
      if (now - r.log_time >= window) continue;
      absl::StatusOr<StoredEvent> event = StoredEvent::FromLogged(
          r.payload, ring_->stream_epoch(), r.sequence, r.log_time);
      if (!event.ok()) continue;
      if (ring_->SequenceOfEventId(event->id) != r.sequence) continue;
      keep.push_back({std::string(event->id), r.sequence, r.log_time});
      newest = std::max(newest, r.log_time);
    }
    if (!keep.empty()) {
      const std::string ids_name = FileName(oldest->first_sequence, kIdsSuffix);
      const std::string ids = EncodeIdsFile(keep);
      RETURN_IF_ERROR(WriteFileAtomically(options_.dir, ids_name, ids));
      stats_.ids_files_written.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(files_mu_);
      ids_files_.push_back(
          {.name = ids_name, .newest = newest, .bytes = ids.size()});
    }
    if (::unlink(path.c_str()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("unlink ", path));
    }
    RETURN_IF_ERROR(SyncDirectory(options_.dir));
    stats_.segments_deleted.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(files_mu_);
      segments_.pop_front();
      stats_.segments.store(segments_.size(), std::memory_order_relaxed);
    }
    LogRecord(LogLevel::kInfo, "journal segment deleted")
        .Add("file", oldest->name)
        .Add("last_sequence", oldest->last_sequence)
        .Add("ids_carried", keep.size());
  }
  // Ids files whose every id left the window.
  for (;;) {
    std::optional<IdsFile> expired;
    {
      std::lock_guard lock(files_mu_);
      for (auto it = ids_files_.begin(); it != ids_files_.end(); ++it) {
        if (now - it->newest >= window) {
          expired = *it;
          ids_files_.erase(it);
          break;
        }
      }
    }
    if (!expired) break;
    if (::unlink(PathOf(expired->name).c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, absl::StrCat("unlink ", expired->name));
    }
  }
  UpdateDiskBytes();
  return absl::OkStatus();
}

void Journal::UpdateDiskBytes() {
  std::lock_guard lock(files_mu_);
  uint64_t total = 0;
  for (const Segment& s : segments_) total += s.bytes;
  for (const IdsFile& f : ids_files_) total += f.bytes;
  stats_.disk_bytes.store(total, std::memory_order_relaxed);
  stats_.segments.store(segments_.size(), std::memory_order_relaxed);
}

void Journal::RetentionLoop() {
  std::unique_lock lock(retention_mu_);
  while (!stop_retention_) {
    retention_cv_.wait_for(
        lock, absl::ToChronoNanoseconds(options_.retention_interval));
    if (stop_retention_) break;
    lock.unlock();
    if (absl::Status s = RunRetention(); !s.ok()) {
      LogRecord(LogLevel::kWarning, "journal retention failed")
          .Add("error", s.message())
          .Add("detail", "segments are kept; retried at the next pass");
    }
    lock.lock();
  }
}

void Journal::Close() {
  {
    std::lock_guard lock(close_mu_);
    if (closed_) return;
    closed_ = true;
  }
  // Only a journal that Open finished may be marked clean: a failed recovery
  // must leave STATE as it found it.
  const bool was_running = writer_.joinable();
  if (writer_.joinable()) {
    {
      std::lock_guard lock(mu_);
      if (state_ == State::kOpen) state_ = State::kClosing;
      stop_writer_ = true;
    }
    work_cv_.notify_all();
    writer_.join();  // writes and completes everything queued first
    // An appending thread may still be answering the batch it wrote (none
    // starts another: stop_writer_ is set).
    for (int n; (n = completing_->load(std::memory_order_acquire)) != 0;) {
      completing_->wait(n, std::memory_order_acquire);
    }
  }
  if (preallocator_.joinable()) {
    {
      std::lock_guard lock(prealloc_mu_);
      stop_prealloc_ = true;
    }
    prealloc_cv_.notify_all();
    preallocator_.join();
  }
  if (retention_.joinable()) {
    {
      std::lock_guard lock(retention_mu_);
      stop_retention_ = true;
    }
    retention_cv_.notify_all();
    retention_.join();
  }
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    failed = state_ == State::kFailed;
  }
  if (was_running && !failed && segment_fd_.valid()) {
    // Sync::kNone has not synced; a clean stop leaves everything on disk.
    if (::fdatasync(segment_fd_.get()) == 0) {
      if (absl::Status s = WriteState(/*clean=*/true); !s.ok()) {
        LogRecord(LogLevel::kWarning, "journal state not written")
            .Add("error", s.message());
      }
    }
  }
  segment_fd_.reset();
  lock_fd_.reset();
  if (was_running) {
    const uint64_t fsyncs = stats_.fsyncs.load(std::memory_order_relaxed);
    const uint64_t batches = stats_.batches.load(std::memory_order_relaxed);
    const uint64_t records =
        stats_.records_written.load(std::memory_order_relaxed);
    LogRecord(LogLevel::kInfo, "journal closed")
        .Add("dir", options_.dir)
        .Add("clean", !failed)
        .Add("records_written", records)
        .Add("batches", batches)
        .Add("records_per_batch",
             batches == 0 ? 0.0 : static_cast<double>(records) / batches)
        .Add("handed_to_writer",
             stats_.handed_to_writer.load(std::memory_order_relaxed))
        .Add("fsyncs", fsyncs)
        .Add("fsync_us_mean",
             fsyncs == 0 ? 0 : stats_.fsync_nanos_total.load() / fsyncs / 1000)
        .Add("fsync_us_max", stats_.fsync_nanos_max.load() / 1000);
  }
}

}  // namespace hookstream::journal
