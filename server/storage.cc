#include "server/storage.h"

#include <utility>

#include "absl/memory/memory.h"
#include "absl/strings/str_split.h"
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
                .max_bytes = config.ring.dedup_max_bytes},
      .backend = config.storage.backend};
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
    storage->reader_ = storage->ring_;
    return storage;
  }
  if (config.storage.backend == "jetstream") {
    absl::StatusOr<std::unique_ptr<jetstream::JetStreamBackend>> backend =
        jetstream::JetStreamBackend::Open(
            {.urls = absl::StrSplit(config.storage.nats_url, ',',
                                    absl::SkipWhitespace()),
             .creds_file = config.storage.nats_creds,
             .tls_ca_file = config.storage.nats_tls_ca,
             .stream = config.storage.nats_stream,
             .replicas = config.storage.nats_replicas,
             .duplicate_window = config.ring.dedup_window,
             .max_age = config.storage.nats_max_age,
             .max_msgs = config.storage.nats_max_msgs,
             .max_bytes = config.storage.nats_max_bytes,
             .publish_timeout = config.storage.nats_publish_timeout,
             .stream_info_interval = config.storage.nats_stream_info_interval,
             .max_event_bytes = config.ingress.max_event_bytes,
             .ring = ring_options},
            clock);
    if (!backend.ok()) return backend.status();
    storage->jetstream_ = *std::move(backend);
    storage->ring_ = &storage->jetstream_->ring();
    storage->reader_ = &storage->jetstream_->reader();
    storage->appender_ = &storage->jetstream_->appender();
    return storage;
  }
  storage->owned_ring_ = std::make_unique<EventRing>(
      ring_options, clock, NewStreamIdentity(clock.Now()));
  storage->memory_ =
      std::make_unique<MemoryBackend>(*storage->owned_ring_, clock);
  storage->ring_ = storage->owned_ring_.get();
  storage->appender_ = storage->memory_.get();
  storage->reader_ = storage->ring_;
  return storage;
}

void Storage::Close() {
  if (journal_ != nullptr) journal_->Close();
  if (jetstream_ != nullptr) jetstream_->Close();
}

}  // namespace hookstream
