// -----------------------------------------------------------------------------
// File: stored_event.h
// -----------------------------------------------------------------------------
// StoredEvent is one event as the ring holds it: serialized once, immutable,
// and shared by every reader through a `StoredEventPtr`. Fan-out writes these
// bytes as they are; nobody re-serializes an event per subscriber.
//
// Wire layout: one buffer holds a serialized `hookstream.v1.Event` in this
// field order: the encoded `raw_json` field (absent when empty), then
// stream_epoch, then the converted fields (`Fields()`), then sequence (last,
// so that whoever assigns sequences only appends a few bytes). Protobuf
// messages concatenate and parsers accept fields in any order, so the two
// variants a subscriber can ask for are both contiguous and cost nothing extra:
// the whole buffer is the Event with its raw JSON (`WithRawJson`), and the part
// after the `raw_json` field is the Event without it (`WithoutRawJson`). Do not
// compare either byte for byte with SerializeAsString().
//
// The logged form: what a durable backend writes and reads back is
// RawJsonField() followed by Fields(), i.e. the bytes without stream_epoch and
// sequence, which the log keeps beside them (a journal record's header, a
// segment's epoch). FromLogged rebuilds the same event from it without
// parsing the Event.
//
// Memory: one heap block for the bytes, sized to the encoded event plus the
// longest sequence field (reserved by Encode), plus this object (96 bytes,
// which with make_shared's control block fits a 128-byte allocator size
// class: keep it that small). At a million events each 8 bytes here cost
// ~0.005x of 1.7 KB events' bytes held.
//
// Thread-safety: immutable once the ring has published it; safe to share
// across threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "hookstream/v1/event.pb.h"

namespace hookstream {

// A struct: readers use its indexed fields directly. The bytes are private so
// that their layout (and the views into them) stays consistent.
struct StoredEvent {
  // The largest event Encode encodes (with room for its sequence field):
  // protobuf refuses to parse larger messages.
  static constexpr size_t kMaxByteSize = size_t{2'147'483'647};

  StoredEvent() = default;
  // A copy gets its own bytes, and `id`, `type` and `account` that viewed the
  // source's bytes view the copy's. A move keeps the same bytes (and views)
  // and leaves `other` empty.
  StoredEvent(const StoredEvent& other);
  StoredEvent& operator=(const StoredEvent& other);
  StoredEvent(StoredEvent&& other) noexcept;
  StoredEvent& operator=(StoredEvent&& other) noexcept;
  ~StoredEvent() = default;

  uint64_t sequence = 0;
  // The Event's fields that readers filter and index on, so that no reader
  // parses the bytes. In events built by Encode they view the field's bytes
  // in this object's buffer (no copies held per event); valid as long as
  // this object.
  absl::string_view id;
  absl::string_view type;
  absl::string_view account;
  // The time the stream orders this event at, set by whoever assigns its
  // sequence and logged with it: the event's received_at, raised to the
  // previous event's log_time so that it never decreases along sequences.
  // What a `from_time` start searches and what the dedup window counts from.
  absl::Time log_time;

  // The serialized Event with its raw_json (when it has one).
  absl::string_view WithRawJson() const {
    return absl::string_view(bytes_.get(), size_);
  }
  // The serialized Event without raw_json: a suffix of WithRawJson().
  absl::string_view WithoutRawJson() const {
    return WithRawJson().substr(raw_json_field_size_);
  }
  // The encoded `raw_json` field alone (tag, length, bytes), empty when the
  // event has no raw JSON: the prefix WithoutRawJson() leaves out.
  absl::string_view RawJsonField() const {
    return WithRawJson().substr(0, raw_json_field_size_);
  }

  // The converted fields alone: WithRawJson() without the raw_json,
  // stream_epoch and sequence fields. With RawJsonField() it is the logged
  // form (see above).
  absl::string_view Fields() const {
    return WithRawJson().substr(fields_begin_, fields_end_ - fields_begin_);
  }

  // The bytes this event counts against the ring's byte budget: the size of
  // WithRawJson().
  size_t ByteSize() const { return size_; }

  // The raw body as received (the payload of the `raw_json` field).
  absl::string_view RawJson() const;

  // Parses the stored bytes back into an Event (for unary RPCs and tests; the
  // streaming path writes the bytes as they are). Always carries `sequence`
  // and `id` (see FromLogged for bytes that do not parse).
  v1::Event ToEvent(bool include_raw_json) const;

  // Building, by whoever assigns sequences (a backend's appender).
  //
  // Encode lays out `event` as described above without its sequence field,
  // and points `id`, `type` and `account` into the result. It takes
  // `event`'s raw_json (leaving it empty) and clears its sequence and
  // stream_epoch (the ring's to set). Returns the encoded size without the
  // sequence field; when the whole would exceed kMaxByteSize nothing is
  // encoded (see encoded()). Call once, on an empty object.
  size_t Encode(v1::Event& event, absl::string_view stream_epoch);
  // False before Encode, and after an Encode that refused the event.
  bool encoded() const { return bytes_ != nullptr; }
  // Appends the sequence field into the room Encode reserved and sets
  // `sequence`. Call once, after a successful Encode.
  void SetSequence(uint64_t sequence);
  // The size of the sequence field SetSequence appends.
  static size_t SequenceFieldSize(uint64_t sequence);

  // FromLogged rebuilds an event from its logged form (RawJsonField() then
  // Fields() of the event as it was encoded), in `stream_epoch`, with
  // `sequence` and `log_time`: the same bytes Encode + SetSequence made
  // (with this epoch). Costs one allocation and a copy; the Event is not
  // parsed, only its top-level fields are walked (a full parse would add
  // about a second per million events to a restart): DATA_LOSS when those
  // are not well-formed or there is no id. A nested field that is not
  // well-formed passes (the journal's CRC-32C is what guards against that);
  // ToEvent then answers with the event's id, type, account and sequence.
  static absl::StatusOr<StoredEvent> FromLogged(absl::string_view logged,
                                                absl::string_view stream_epoch,
                                                uint64_t sequence,
                                                absl::Time log_time);

 private:
  // Points `id`, `type` and `account` at those fields inside Fields(); fields
  // absent there become empty. False when the fields are not well-formed
  // protobuf (truncated, or a wire type Event does not use).
  bool IndexFields();

  std::unique_ptr<char[]> bytes_;
  // Offsets into bytes_: raw_json field [0, fields_begin_ - epoch field),
  // the epoch field, Fields() [fields_begin_, fields_end_), sequence field
  // [fields_end_, size_). 32 bits each: events are < 2 GiB (kMaxByteSize).
  uint32_t size_ = 0;
  uint32_t raw_json_field_size_ = 0;
  uint32_t fields_begin_ = 0;
  uint32_t fields_end_ = 0;
};

using StoredEventPtr = std::shared_ptr<const StoredEvent>;

// What every backend's Append does first, before it takes any lock: refuse
// an event without an id (INVALID_ARGUMENT), encode it in `stream_epoch`,
// and take its received_at (or `now` when it has none) as the base of its
// log time. The caller then sets the sequence and log time.
struct EncodedEvent {
  std::shared_ptr<StoredEvent> event;
  absl::Time received_at;
};
absl::StatusOr<EncodedEvent> EncodeForAppend(v1::Event& event,
                                             absl::string_view stream_epoch,
                                             absl::Time now);

}  // namespace hookstream
