// -----------------------------------------------------------------------------
// File: publisher.h
// -----------------------------------------------------------------------------
// Publisher is the JetStream backend's EventAppender: it publishes each event
// asynchronously (js_PublishMsgAsync; no caller ever waits on NATS) on
// `hookstream.events.<source>.<type>` with Nats-Msg-Id `<source>:<event id>`,
// and completes the append from JetStream's PubAck:
//   - PubAck            -> {sequence, duplicate = false}, once the local
//     ring has applied that sequence (set_ring); if this replica has not
//     applied it by the append's deadline (its follower is stuck or far
//     behind), UNAVAILABLE instead: the event is stored, so the provider's
//     retry is answered as a duplicate with that sequence. No completion
//     waits past the deadline.
//   - duplicate PubAck  -> {the original sequence, duplicate = true}
//     (JetStream's duplicate window decides; nothing new is stored)
//   - no answer, no leader, no connection: the same message (same id) is
//     published again after a short pause until publish_timeout has passed
//     since Append, then UNAVAILABLE (the ingress answers 503 + Retry-After;
//     the provider's retry is then a duplicate or the first copy, never two).
// The message body is the event's logged form (StoredEvent::RawJsonField()
// then Fields()), which every replica's follower turns back into the same
// bytes with FromLogged.
//
// Thread-safety: Append is thread-safe. Completions run on a nats.c thread
// or on the publisher's retry thread, never inline except for refusals.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/jetstream/jetstream_options.h"
#include "common/ring/event_ring.h"
#include "common/store/event_appender.h"
#include "nats/nats.h"

namespace hookstream::jetstream {

struct PublisherStats {
  std::atomic<uint64_t> published{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> unavailable{0};
  // Acknowledged by JetStream but not applied here by the deadline (503).
  std::atomic<uint64_t> unapplied{0};
  // The highest sequence a PubAck named.
  std::atomic<uint64_t> last_acked_sequence{0};
};

// The subject an event of `source` and `type` is published on; characters
// NATS does not allow in a subject token (space, '*', '>') become '_'.
std::string SubjectOf(absl::string_view source, absl::string_view type);

class Publisher final : public EventAppender {
 public:
  // `js` must have been created with AckHandler = Publisher::OnAck and
  // AckHandlerClosure = this publisher (see JetStreamBackend) and outlive it;
  // `clock` too. `epoch` is the stream's (for encoding).
  Publisher(const JetStreamOptions& options, const Clock& clock,
            std::string epoch);
  ~Publisher() override;

  // Set once, before the first Append.
  void set_js(jsCtx* js) { js_ = js; }
  // When set, a PubAck completes the append only once this replica's ring
  // has applied its sequence (read-your-writes on the replica that answered
  // 200: a subscriber arriving after the 200 finds the event here).
  void set_ring(EventRing* ring) { ring_ = ring; }

  void Append(v1::Event event, AppendCallback done) override;

  // Refuses new appends, waits up to publish_timeout for the PubAcks of
  // what was published, and completes everything still pending with
  // UNAVAILABLE. Idempotent.
  void Close();

  const PublisherStats& stats() const { return stats_; }

  // nats.c's jsPubAckHandler.
  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae,
                    void* closure);

 private:
  struct Pending {
    std::string subject;
    std::string msg_id;
    std::string data;
    absl::Time deadline;
    AppendCallback done;
    int attempts = 0;
  };

  // Publishes `pending` once; on a refusal by the library, schedules a retry.
  void Send(std::unique_ptr<Pending> pending);
  void Ack(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae);
  // One PubAck waiting for this replica's ring to apply its sequence:
  // exactly one of the ring's wake-up and the deadline completes it.
  struct ApplyWait {
    std::atomic<bool> claimed{false};
    AppendCallback done;
    AppendResult result;
    std::optional<EventReader::WaitToken> token;  // guarded by Publisher::mu_
  };

  // Runs `done` with `result` once the ring (if any) has applied it, or
  // UNAVAILABLE at `deadline`.
  void Complete(AppendCallback done, AppendResult result, absl::Time deadline);
  // The ring applied the wait's sequence (on the follower's thread).
  void Applied(const std::shared_ptr<ApplyWait>& wait);
  // The deadline passed first (on the retry thread).
  void NotApplied(const std::shared_ptr<ApplyWait>& wait);
  // Retries later, or completes with UNAVAILABLE past the deadline.
  void RetryOrFail(std::unique_ptr<Pending> pending, std::string why);
  void RetryLoop();

  const JetStreamOptions options_;
  const Clock& clock_;
  const std::string epoch_;
  jsCtx* js_ = nullptr;
  EventRing* ring_ = nullptr;
  PublisherStats stats_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;  // guarded by mu_
  // The destructor's: the retry thread ends once nothing is left to time.
  bool stopping_ = false;  // guarded by mu_
  // Published and not yet acknowledged, by the message nats.c owns (the
  // pointer the ack handler gets). Guarded by mu_.
  absl::flat_hash_map<natsMsg*, std::unique_ptr<Pending>> in_flight_;
  // Waiting for their next attempt, by due time. Guarded by mu_.
  std::multimap<absl::Time, std::unique_ptr<Pending>> retries_;
  // PubAcks waiting for the ring, by deadline (an entry stays until its
  // deadline even when the ring completed it first). Guarded by mu_.
  std::multimap<absl::Time, std::shared_ptr<ApplyWait>> apply_waits_;
  // How many of them the ring has not completed yet. Guarded by mu_.
  size_t unapplied_ = 0;
  std::thread retry_thread_;
};

}  // namespace hookstream::jetstream
