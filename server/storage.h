// -----------------------------------------------------------------------------
// File: storage.h
// -----------------------------------------------------------------------------
// Storage is the configured backend as the composition root holds it: the
// appender the ingress hands events to, the reader the distribution serves
// from, the stream identity, and the stop that loses nothing acknowledged.
// It is the one place that knows the backends
// (`--backend=memory|journal|jetstream`).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Storage> storage,
//                    Storage::Open(config, clock, on_fatal));
//   ingress uses storage->appender(), distribution storage->reader();
//   storage->Close();  // after the ingress drained, before it stops
//
// Thread-safety: the accessors are; Close is called once, from the root.
#pragma once

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/backend/memory_backend.h"
#include "common/base/clock.h"
#include "common/jetstream/jetstream_backend.h"
#include "common/journal/journal.h"
#include "common/ring/event_ring.h"
#include "common/store/event_appender.h"
#include "common/store/event_reader.h"
#include "server/server_config.h"

namespace hookstream {

class Storage {
 public:
  // Opens the backend config.storage names (the journal recovers here).
  // `on_fatal` runs once if the backend fails for good (journal: an fsync).
  static absl::StatusOr<std::unique_ptr<Storage>> Open(
      const ServerConfig& config, const Clock& clock,
      absl::AnyInvocable<void(absl::Status)> on_fatal);

  EventAppender& appender() { return *appender_; }
  EventReader& reader() { return *reader_; }
  const StreamIdentity& identity() const { return ring_->identity(); }
  const std::string& backend() const { return backend_; }
  // The journal, when that is the backend (for its stats), else nullptr.
  journal::Journal* journal() { return journal_.get(); }
  // The JetStream backend, when that is the backend, else nullptr.
  jetstream::JetStreamBackend* jetstream() { return jetstream_.get(); }

  // Finishes what the backend was given (the journal writes, syncs and
  // completes every pending append) and refuses more. Idempotent.
  void Close();

 private:
  Storage() = default;

  std::string backend_;
  // memory: owns the ring and its appender; journal: the journal owns both.
  std::unique_ptr<EventRing> owned_ring_;
  std::unique_ptr<MemoryBackend> memory_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<jetstream::JetStreamBackend> jetstream_;
  EventRing* ring_ = nullptr;
  EventReader* reader_ = nullptr;
  EventAppender* appender_ = nullptr;
};

}  // namespace hookstream
