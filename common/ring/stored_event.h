// -----------------------------------------------------------------------------
// File: stored_event.h
// -----------------------------------------------------------------------------
// StoredEvent is one event as the ring holds it: serialized once, immutable,
// and shared by every reader through a `StoredEventPtr`. Fan-out writes these
// bytes as they are; nobody re-serializes an event per subscriber.
//
// Wire layout: `event_bytes` is a serialized `hookstream.v1.Event` without
// `raw_json` (sequence and stream_epoch set). Its fields are not in field
// number order (stream_epoch, then the converted fields, then sequence, so
// that the ring's lock only covers appending the sequence); every protobuf
// parser accepts that, but do not compare it byte for byte with
// SerializeAsString(). `raw_json_field` is the encoded
// `raw_json` field alone (tag, length, bytes). Because protobuf messages
// concatenate, `event_bytes + raw_json_field` is the serialized Event with
// its raw JSON: the two variants a subscriber can ask for cost one copy.
//
// Thread-safety: immutable after construction; safe to share across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hookstream/v1/event.pb.h"

namespace hookstream {

struct StoredEvent {
  StoredEvent() = default;
  // Copies and moves re-point `id`, `type` and `account` into the new
  // object's `event_bytes` when they viewed the source's.
  StoredEvent(const StoredEvent& other);
  StoredEvent& operator=(const StoredEvent& other);
  StoredEvent(StoredEvent&& other) noexcept;
  StoredEvent& operator=(StoredEvent&& other) noexcept;

  uint64_t sequence = 0;
  // The Event's fields that readers filter and index on, so that no reader
  // parses `event_bytes`. In events the ring built they view the field's
  // bytes inside `event_bytes` (no copy: at a million events the three
  // copies cost ~0.09x of the bytes held); valid as long as this object.
  absl::string_view id;
  absl::string_view type;
  absl::string_view account;
  absl::Time received_at;
  // Non-decreasing along sequences (max of received_at and the previous
  // event's append_time): what `EventRing::FirstSequenceAtOrAfter` searches.
  absl::Time append_time;

  std::string event_bytes;
  std::string raw_json_field;

  // The bytes this event counts against the ring's byte budget.
  size_t ByteSize() const { return event_bytes.size() + raw_json_field.size(); }

  // The raw body as received (the payload of `raw_json_field`).
  absl::string_view RawJson() const;

  // Points `id`, `type` and `account` at those fields inside `event_bytes`
  // (a serialized Event); fields absent there become empty. Call again
  // whenever `event_bytes` is reallocated.
  void IndexFields();

  // Parses the stored bytes back into an Event (for unary RPCs and tests; the
  // streaming path writes the bytes as they are).
  v1::Event ToEvent(bool include_raw_json) const;
};

using StoredEventPtr = std::shared_ptr<const StoredEvent>;

}  // namespace hookstream
