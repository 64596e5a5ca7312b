#include "common/jetstream/follower.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/base/log.h"
#include "common/store/stored_event.h"

namespace hookstream::jetstream {

Follower::Follower(const JetStreamOptions& options, EventRing& ring)
    : options_(options), ring_(ring) {}

Follower::~Follower() { Stop(); }

absl::Status Follower::Start(jsCtx* js) {
  const uint64_t next = ring_.GetInfo().head_sequence + 1;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.stream.c_str();
  so.Ordered = true;
  if (next > 1) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = next;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  natsSubscription* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_Subscribe(&raw, js, kStreamSubjects, &Follower::OnMessage,
                              this, nullptr, &so, &code);
  if (s != NATS_OK) {
    return NatsError(
        absl::StrCat("jetstream: following stream ", options_.stream), s, code);
  }
  sub_.reset(raw);
  // The ring may hold more than the default pending limits allow while a
  // replica catches up: let the consumer's flow control do the pacing.
  natsSubscription_SetPendingLimits(sub_.get(), -1, -1);
  return absl::OkStatus();
}

void Follower::Stop() {
  if (sub_ == nullptr) return;
  natsSubscription_Unsubscribe(sub_.get());
  sub_.reset();
}

void Follower::OnMessage(natsConnection* /*nc*/, natsSubscription* /*sub*/,
                         natsMsg* msg, void* closure) {
  static_cast<Follower*>(closure)->Apply(msg);
  natsMsg_Destroy(msg);
}

void Follower::Apply(natsMsg* msg) {
  jsMsgMetaData* raw_meta = nullptr;
  if (natsMsg_GetMetaData(&raw_meta, msg) != NATS_OK) return;  // not a JS msg
  MetaDataPtr meta(raw_meta);
  const uint64_t sequence = meta->Sequence.Stream;
  uint64_t last = stats_.stream_last_sequence.load();
  const uint64_t known = sequence + meta->NumPending;
  while (known > last &&
         !stats_.stream_last_sequence.compare_exchange_weak(last, known)) {
  }
  if (sequence <= ring_.GetInfo().head_sequence) return;  // a redelivery
  const absl::string_view data(natsMsg_GetData(msg),
                               static_cast<size_t>(natsMsg_GetDataLength(msg)));
  absl::StatusOr<StoredEvent> event =
      StoredEvent::FromLogged(data, ring_.stream_epoch(), sequence,
                              absl::FromUnixNanos(meta->Timestamp));
  if (!event.ok()) {
    ++stats_.skipped;
    LogRecord(LogLevel::kWarning, "jetstream message skipped")
        .Add("sequence", sequence)
        .Add("subject", natsMsg_GetSubject(msg))
        .Add("error", event.status().message());
    return;
  }
  absl::Status applied =
      ring_.Apply(std::make_shared<StoredEvent>(*std::move(event)));
  if (!applied.ok()) {
    ++stats_.skipped;
    LogRecord(LogLevel::kError, "jetstream apply failed")
        .Add("sequence", sequence)
        .Add("error", applied.message());
    return;
  }
  ++stats_.applied;
}

}  // namespace hookstream::jetstream
