#include "server/storage.h"

#include <utility>

#include "absl/memory/memory.h"
#include "common/store/stream_identity.h"

namespace hookstream {

absl::StatusOr<std::unique_ptr<Storage>> Storage::Open(
    const ServerConfig& config, const Clock& clock,
    absl::AnyInvocable<void(absl::Status)> on_fatal) {
  const EventRing::Options ring_options{
      .max_events = config.ring.max_events,
      .max_bytes = config.ring.max_bytes,
      .dedup = {.window = config.ring.dedup_window,
                .max_ids = config.ring.dedup_max_ids,
                .max_bytes = config.ring.dedup_max_bytes}};
  // Private constructor: Open builds every Storage.
  std::unique_ptr<Storage> storage = absl::WrapUnique(new Storage());
  storage->backend_ = config.storage.backend;
  if (config.storage.backend == "journal") {
    absl::StatusOr<std::unique_ptr<journal::Journal>> journal =
        journal::Journal::Open(
            {.dir = config.storage.journal_dir,
             .sync = config.storage.journal_sync == "none"
                         ? journal::JournalOptions::Sync::kNone
                         : journal::JournalOptions::Sync::kFsync,
             .repair = config.storage.journal_repair,
             .segment_bytes = config.storage.journal_segment_bytes,
             .ring = ring_options},
            clock, std::move(on_fatal));
    if (!journal.ok()) return journal.status();
    storage->journal_ = *std::move(journal);
    storage->ring_ = &storage->journal_->ring();
    storage->appender_ = storage->journal_.get();
    return storage;
  }
  storage->owned_ring_ = std::make_unique<EventRing>(
      ring_options, clock, NewStreamIdentity(clock.Now()));
  storage->memory_ =
      std::make_unique<MemoryBackend>(*storage->owned_ring_, clock);
  storage->ring_ = storage->owned_ring_.get();
  storage->appender_ = storage->memory_.get();
  return storage;
}

void Storage::Close() {
  if (journal_ != nullptr) journal_->Close();
}

}  // namespace hookstream
