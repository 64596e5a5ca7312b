#include "common/jetstream/publisher.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/base/thread_name.h"
#include "common/jetstream/nats_handles.h"
#include "common/store/stored_event.h"

namespace hookstream::jetstream {
namespace {

void AppendToken(std::string& subject, absl::string_view token) {
  if (token.empty()) {
    subject += '_';
    return;
  }
  for (char c : token) {
    const bool bad = c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
                     c == '*' || c == '>' || c == '\0';
    subject += bad ? '_' : c;
  }
}

// Worth another attempt with the same message id: nothing says the stream
// refused it for good.
bool Retryable(natsStatus s) {
  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_SERVER:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string SubjectOf(absl::string_view source, absl::string_view type) {
  std::string subject = kSubjectPrefix;
  AppendToken(subject, source);
  subject += '.';
  // Dots inside the type stay: they make tokens NATS consumers can filter.
  AppendToken(subject, type);
  return subject;
}

Publisher::Publisher(const JetStreamOptions& options, const Clock& clock,
                     std::string epoch)
    : options_(options), clock_(clock), epoch_(std::move(epoch)) {
  retry_thread_ = std::thread([this] {
    NameCurrentThread("hs-js-retry");
    RetryLoop();
  });
}

Publisher::~Publisher() {
  Close();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (retry_thread_.joinable()) retry_thread_.join();
}

void Publisher::Append(v1::Event event, AppendCallback done) {
  const std::string source = event.source();
  absl::StatusOr<EncodedEvent> encoded =
      EncodeForAppend(event, epoch_, clock_.Now());
  if (!encoded.ok()) {
    std::move(done)(encoded.status());
    return;
  }
  const StoredEvent& stored = *encoded->event;
  if (!stored.encoded()) {
    std::move(done)(absl::ResourceExhaustedError(
        absl::StrCat("event ", stored.id, " is too large to encode")));
    return;
  }
  auto pending = std::make_unique<Pending>();
  pending->subject = SubjectOf(source, stored.type);
  pending->msg_id = absl::StrCat(source, ":", stored.id);
  pending->data = absl::StrCat(stored.RawJsonField(), stored.Fields());
  pending->deadline = absl::Now() + options_.publish_timeout;
  pending->done = std::move(done);
  Send(std::move(pending));
}

void Publisher::Send(std::unique_ptr<Pending> pending) {
  ++pending->attempts;
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, pending->subject.c_str(), nullptr,
                                pending->data.data(),
                                static_cast<int>(pending->data.size()));
  if (s != NATS_OK) {
    absl::Status error = NatsError("jetstream: message", s);
    ++stats_.unavailable;
    std::move(pending->done)(absl::UnavailableError(error.message()));
    return;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = pending->msg_id.c_str();
  po.ExpectStream = options_.stream.c_str();
  const absl::Duration left = pending->deadline - absl::Now();
  po.MaxWait = std::max<int64_t>(
      absl::ToInt64Milliseconds(std::min(left, options_.attempt_timeout)), 50);

  std::unique_lock lock(mu_);
  if (closed_) {
    lock.unlock();
    natsMsg_Destroy(raw);
    ++stats_.unavailable;
    std::move(pending->done)(
        absl::UnavailableError("jetstream backend is closing"));
    return;
  }
  // Registered before the publish: its ack may arrive before it returns. The
  // ack handler takes mu_, so it waits until this publish is accounted for.
  in_flight_.emplace(raw, std::move(pending));
  natsMsg* msg = raw;
  s = js_PublishMsgAsync(js_, &msg, &po);
  if (s == NATS_OK) return;  // nats.c owns the message now
  // Not taken: nothing is in flight for it.
  auto node = in_flight_.extract(raw);
  lock.unlock();
  natsMsg_Destroy(msg);
  if (node.empty()) return;  // cannot happen: only an ack removes it
  std::unique_ptr<Pending> back = std::move(node.mapped());
  if (Retryable(s)) {
    RetryOrFail(std::move(back), natsStatus_GetText(s));
  } else {
    ++stats_.unavailable;
    std::move(back->done)(absl::UnavailableError(
        absl::StrCat("jetstream publish: ", natsStatus_GetText(s))));
  }
}

void Publisher::OnAck(jsCtx* /*js*/, natsMsg* msg, jsPubAck* pa,
                      jsPubAckErr* pae, void* closure) {
  static_cast<Publisher*>(closure)->Ack(msg, pa, pae);
  // The handler owns the published message (nats.h, jsPubAckHandler); a
  // retry publishes a new one.
  natsMsg_Destroy(msg);
}

void Publisher::Ack(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae) {
  std::unique_ptr<Pending> pending;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(msg);
    if (it == in_flight_.end()) return;  // completed by Close
    pending = std::move(it->second);
    in_flight_.erase(it);
  }
  if (pa != nullptr && pae == nullptr) {
    if (pa->Duplicate) {
      ++stats_.duplicates;
    } else {
      ++stats_.published;
    }
    uint64_t last = stats_.last_acked_sequence.load();
    while (
        pa->Sequence > last &&
        !stats_.last_acked_sequence.compare_exchange_weak(last, pa->Sequence)) {
    }
    Complete(std::move(pending->done),
             AppendResult{.sequence = pa->Sequence, .duplicate = pa->Duplicate},
             pending->deadline);
    return;
  }
  const natsStatus err = pae != nullptr ? pae->Err : NATS_ERR;
  std::string why = natsStatus_GetText(err);
  if (pae != nullptr && pae->ErrText != nullptr) {
    absl::StrAppend(&why, ": ", pae->ErrText);
  }
  // A JetStream error code (wrong stream, message too large) is final;
  // silence, no responders and a lost connection are what an election or a
  // node's restart look like.
  if (pae != nullptr && pae->ErrCode == 0 && Retryable(err)) {
    RetryOrFail(std::move(pending), std::move(why));
    return;
  }
  ++stats_.unavailable;
  std::move(pending->done)(
      absl::UnavailableError(absl::StrCat("jetstream publish: ", why)));
}

void Publisher::Complete(AppendCallback done, AppendResult result,
                         absl::Time deadline) {
  if (ring_ == nullptr || result.sequence == 0 ||
      ring_->GetInfo().head_sequence >= result.sequence) {
    std::move(done)(result);
    return;
  }
  auto wait = std::make_shared<ApplyWait>();
  wait->done = std::move(done);
  wait->result = result;
  {
    std::lock_guard lock(mu_);
    // An ack that arrives at the very end of its deadline still gives the
    // follower one attempt's time to apply it.
    apply_waits_.emplace(
        std::max(deadline, absl::Now() + options_.attempt_timeout), wait);
    ++unapplied_;
  }
  cv_.notify_all();
  std::optional<EventReader::WaitToken> token = ring_->Wait(
      result.sequence - 1, [this, wait]() mutable { Applied(wait); });
  if (!token.has_value()) {
    Applied(wait);  // visible already: nothing was registered
    return;
  }
  std::lock_guard lock(mu_);
  wait->token = token;
}

void Publisher::Applied(const std::shared_ptr<ApplyWait>& wait) {
  if (wait->claimed.exchange(true)) return;
  // Moved out: what it holds goes now, not when the deadline entry does.
  AppendCallback done = std::move(wait->done);
  std::move(done)(wait->result);
  {
    std::lock_guard lock(mu_);
    --unapplied_;
  }
  cv_.notify_all();
}

void Publisher::NotApplied(const std::shared_ptr<ApplyWait>& wait) {
  if (wait->claimed.exchange(true)) return;
  std::optional<EventReader::WaitToken> token;
  {
    std::lock_guard lock(mu_);
    token = wait->token;
  }
  // Not under mu_: CancelWait waits for a running callback, which takes it.
  if (token.has_value()) ring_->CancelWait(*token);
  ++stats_.unapplied;
  LogRecord(LogLevel::kWarning, "jetstream ack not applied by this replica")
      .Add("sequence", wait->result.sequence)
      .Add("applied", ring_->GetInfo().head_sequence);
  AppendCallback done = std::move(wait->done);
  std::move(done)(absl::UnavailableError(absl::StrCat(
      "jetstream stored the event at sequence ", wait->result.sequence,
      " but this replica has not applied it in time (a retry is answered as "
      "a duplicate)")));
  {
    std::lock_guard lock(mu_);
    --unapplied_;
  }
  cv_.notify_all();
}

void Publisher::RetryOrFail(std::unique_ptr<Pending> pending, std::string why) {
  const absl::Time due = absl::Now() + options_.retry_pause;
  if (due >= pending->deadline) {
    ++stats_.unavailable;
    std::move(pending->done)(absl::UnavailableError(
        absl::StrCat("jetstream did not acknowledge within ",
                     absl::FormatDuration(options_.publish_timeout), " (",
                     pending->attempts, " attempts; last: ", why, ")")));
    return;
  }
  ++stats_.retries;
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      retries_.emplace(due, std::move(pending));
      cv_.notify_all();
      return;
    }
  }
  ++stats_.unavailable;
  std::move(pending->done)(
      absl::UnavailableError("jetstream backend is closing"));
}

void Publisher::RetryLoop() {
  absl::Time next_sweep = absl::Now();
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_ && retries_.empty() && apply_waits_.empty()) return;
    absl::Time due = absl::InfiniteFuture();
    if (!retries_.empty()) due = retries_.begin()->first;
    if (!apply_waits_.empty()) due = std::min(due, apply_waits_.begin()->first);
    // A publish whose ack nats.c never reports (its own timer should) is
    // still answered: swept past its deadline plus one attempt.
    if (!in_flight_.empty()) due = std::min(due, next_sweep);
    const absl::Time now = absl::Now();
    if (!in_flight_.empty() && next_sweep <= now) {
      next_sweep = now + options_.retry_pause;
      std::vector<std::unique_ptr<Pending>> lost;
      for (auto it = in_flight_.begin(); it != in_flight_.end();) {
        if (it->second->deadline + options_.attempt_timeout < now) {
          lost.push_back(std::move(it->second));
          in_flight_.erase(it++);
        } else {
          ++it;
        }
      }
      lock.unlock();
      for (std::unique_ptr<Pending>& pending : lost) {
        ++stats_.unavailable;
        std::move(pending->done)(absl::UnavailableError(
            absl::StrCat("jetstream did not acknowledge within ",
                         absl::FormatDuration(options_.publish_timeout))));
      }
      lock.lock();
      continue;
    }
    if (due == absl::InfiniteFuture()) {
      cv_.wait(lock);
      continue;
    }
    if (due > now) {
      cv_.wait_for(lock, absl::ToChronoNanoseconds(due - now));
      continue;
    }
    if (!apply_waits_.empty() && apply_waits_.begin()->first <= now) {
      std::shared_ptr<ApplyWait> wait = std::move(apply_waits_.begin()->second);
      apply_waits_.erase(apply_waits_.begin());
      lock.unlock();
      NotApplied(wait);
      lock.lock();
      continue;
    }
    std::unique_ptr<Pending> pending = std::move(retries_.begin()->second);
    retries_.erase(retries_.begin());
    lock.unlock();
    Send(std::move(pending));
    lock.lock();
  }
}

void Publisher::Close() {
  std::vector<std::unique_ptr<Pending>> left;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
  }
  cv_.notify_all();
  if (js_ != nullptr) {
    // What was published gets its ack (or not) within the timeout.
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = absl::ToInt64Milliseconds(options_.publish_timeout);
    js_PublishAsyncComplete(js_, &po);
  }
  {
    std::unique_lock lock(mu_);
    // Acknowledged events the follower has not applied yet: each is
    // completed by the ring or, at its deadline, by the retry thread.
    cv_.wait(lock, [this] { return unapplied_ == 0; });
    for (auto& [msg, pending] : in_flight_) left.push_back(std::move(pending));
    in_flight_.clear();
    for (auto& [due, pending] : retries_) left.push_back(std::move(pending));
    retries_.clear();
  }
  for (std::unique_ptr<Pending>& pending : left) {
    ++stats_.unavailable;
    std::move(pending->done)(
        absl::UnavailableError("jetstream backend closed before the ack"));
  }
}

}  // namespace hookstream::jetstream
