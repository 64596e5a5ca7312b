// -----------------------------------------------------------------------------
// File: stored_event.h
// -----------------------------------------------------------------------------
// StoredEvent is one event as the ring holds it: serialized once, immutable,
// and shared by every reader through a `StoredEventPtr`. Fan-out writes these
// bytes as they are; nobody re-serializes an event per subscriber.
//
// Wire layout: one buffer holds a serialized `hookstream.v1.Event` in this
// field order: the encoded `raw_json` field (absent when empty), then
// stream_epoch, then the converted fields, then sequence (last, so that the
// ring's lock only covers appending it). Protobuf messages concatenate and
// parsers accept fields in any order, so the two variants a subscriber can
// ask for are both contiguous and cost nothing extra: the whole buffer is
// the Event with its raw JSON (`WithRawJson`), and the part after the
// `raw_json` field is the Event without it (`WithoutRawJson`). Do not
// compare either byte for byte with SerializeAsString().
//
// Memory: one heap block for the bytes, sized to the encoded event plus the
// longest sequence field (reserved by Encode), plus this object (112 bytes,
// which with make_shared's control block fills a 128-byte allocator size class:
// keep it that small). At a million events each 8 bytes here cost ~0.005x
// of 1.7 KB events' bytes held.
//
// Thread-safety: immutable once the ring has published it; safe to share
// across threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

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
  absl::Time received_at;
  // Non-decreasing along sequences (max of received_at and the previous
  // event's append_time): what `EventRing::FirstSequenceAtOrAfter` searches.
  absl::Time append_time;

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

  // The bytes this event counts against the ring's byte budget: the size of
  // WithRawJson().
  size_t ByteSize() const { return size_; }

  // The raw body as received (the payload of the `raw_json` field).
  absl::string_view RawJson() const;

  // Parses the stored bytes back into an Event (for unary RPCs and tests; the
  // streaming path writes the bytes as they are).
  v1::Event ToEvent(bool include_raw_json) const;

  // Building (EventRing::Append).
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

 private:
  // Points `id`, `type` and `account` at those fields inside
  // WithoutRawJson(); fields absent there become empty.
  void IndexFields();

  std::unique_ptr<char[]> bytes_;
  size_t size_ = 0;
  size_t raw_json_field_size_ = 0;
};

using StoredEventPtr = std::shared_ptr<const StoredEvent>;

}  // namespace hookstream
