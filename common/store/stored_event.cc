#include "common/store/stored_event.h"

#include <cstring>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "google/protobuf/io/coded_stream.h"

namespace hookstream {
namespace {

using ::google::protobuf::io::CodedOutputStream;

// Protobuf wire types (encoding.md).
constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireFixed64 = 1;
constexpr uint32_t kWireLengthDelimited = 2;
constexpr uint32_t kWireFixed32 = 5;

// The longest varint: a 64-bit value in 7-bit groups.
constexpr size_t kMaxVarintSize = 10;

constexpr uint32_t Tag(int field_number, uint32_t wire_type) {
  return (static_cast<uint32_t>(field_number) << 3) | wire_type;
}

constexpr uint32_t kSequenceTag =
    Tag(v1::Event::kSequenceFieldNumber, kWireVarint);
static_assert(kSequenceTag < 0x80, "the sequence tag is a one-byte varint");

// The sequence field at its longest.
constexpr size_t kMaxSequenceFieldSize = 1 + kMaxVarintSize;

size_t LengthDelimitedFieldSize(int field_number, size_t length) {
  return CodedOutputStream::VarintSize32(
             Tag(field_number, kWireLengthDelimited)) +
         CodedOutputStream::VarintSize64(length) + length;
}

// Writes a length-delimited field at `out`; returns the end.
uint8_t* WriteLengthDelimitedField(int field_number, absl::string_view bytes,
                                   uint8_t* out) {
  out = CodedOutputStream::WriteVarint32ToArray(
      Tag(field_number, kWireLengthDelimited), out);
  out = CodedOutputStream::WriteVarint64ToArray(bytes.size(), out);
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

// Reads a base-128 varint at `*pos`, advancing it. False when truncated.
bool ReadVarint(absl::string_view bytes, size_t* pos, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && *pos < bytes.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(bytes[(*pos)++]);
    *value |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80u) == 0) return true;
  }
  return false;
}

// `view`'s offset inside `bytes`, or nullopt when it points elsewhere (an
// empty view is "elsewhere": it needs no re-pointing).
std::optional<size_t> OffsetIn(absl::string_view view,
                               absl::string_view bytes) {
  if (view.empty() || bytes.empty()) return std::nullopt;
  if (view.data() < bytes.data() ||
      view.data() + view.size() > bytes.data() + bytes.size()) {
    return std::nullopt;
  }
  return static_cast<size_t>(view.data() - bytes.data());
}

}  // namespace

StoredEvent::StoredEvent(const StoredEvent& other) { *this = other; }

StoredEvent::StoredEvent(StoredEvent&& other) noexcept {
  *this = std::move(other);
}

StoredEvent& StoredEvent::operator=(const StoredEvent& other) {
  if (this == &other) return *this;
  StoredEvent copy;
  copy.sequence = other.sequence;
  copy.log_time = other.log_time;
  copy.size_ = other.size_;
  copy.raw_json_field_size_ = other.raw_json_field_size_;
  copy.fields_begin_ = other.fields_begin_;
  copy.fields_end_ = other.fields_end_;
  if (other.bytes_ != nullptr) {
    // An event still waiting for its sequence keeps the room for it.
    const size_t capacity =
        other.size_ + (other.sequence == 0 ? kMaxSequenceFieldSize : 0);
    copy.bytes_ = std::make_unique_for_overwrite<char[]>(capacity);
    std::memcpy(copy.bytes_.get(), other.bytes_.get(), other.size_);
  }
  // Views into other's bytes move to the copy's; others stay as they are.
  const absl::string_view from = other.WithRawJson();
  const absl::string_view to = copy.WithRawJson();
  auto repoint = [&](absl::string_view view) -> absl::string_view {
    const std::optional<size_t> offset = OffsetIn(view, from);
    if (!offset) return view;
    return to.substr(*offset, view.size());
  };
  copy.id = repoint(other.id);
  copy.type = repoint(other.type);
  copy.account = repoint(other.account);
  return *this = std::move(copy);
}

StoredEvent& StoredEvent::operator=(StoredEvent&& other) noexcept {
  if (this == &other) return *this;
  // The heap block changes owner, not address: the views stay valid.
  sequence = other.sequence;
  id = std::exchange(other.id, {});
  type = std::exchange(other.type, {});
  account = std::exchange(other.account, {});
  log_time = other.log_time;
  bytes_ = std::move(other.bytes_);
  size_ = std::exchange(other.size_, 0);
  raw_json_field_size_ = std::exchange(other.raw_json_field_size_, 0);
  fields_begin_ = std::exchange(other.fields_begin_, 0);
  fields_end_ = std::exchange(other.fields_end_, 0);
  return *this;
}

size_t StoredEvent::Encode(v1::Event& event, absl::string_view stream_epoch) {
  const std::string raw_json = std::move(*event.mutable_raw_json());
  event.clear_raw_json();
  event.clear_sequence();
  event.clear_stream_epoch();
  // Fills the cached sizes that SerializeWithCachedSizesToArray uses.
  const size_t rest_size = event.ByteSizeLong();
  const size_t raw_json_field_size =
      raw_json.empty() ? 0
                       : LengthDelimitedFieldSize(
                             v1::Event::kRawJsonFieldNumber, raw_json.size());
  const size_t size =
      raw_json_field_size +
      LengthDelimitedFieldSize(v1::Event::kStreamEpochFieldNumber,
                               stream_epoch.size()) +
      rest_size;
  // Protobuf's cached sizes are ints: do not serialize what would not parse.
  if (size + kMaxSequenceFieldSize > kMaxByteSize) return size;

  bytes_ = std::make_unique_for_overwrite<char[]>(size + kMaxSequenceFieldSize);
  auto* const begin = reinterpret_cast<uint8_t*>(bytes_.get());
  uint8_t* out = begin;
  if (!raw_json.empty()) {
    out = WriteLengthDelimitedField(v1::Event::kRawJsonFieldNumber, raw_json,
                                    out);
  }
  out = WriteLengthDelimitedField(v1::Event::kStreamEpochFieldNumber,
                                  stream_epoch, out);
  fields_begin_ = static_cast<uint32_t>(out - begin);
  out = event.SerializeWithCachedSizesToArray(out);
  size_ = fields_end_ = static_cast<uint32_t>(out - begin);
  raw_json_field_size_ = static_cast<uint32_t>(raw_json_field_size);
  IndexFields();  // well-formed: protobuf serialized it
  return size_;
}

absl::StatusOr<StoredEvent> StoredEvent::FromLogged(
    absl::string_view logged, absl::string_view stream_epoch, uint64_t sequence,
    absl::Time log_time) {
  // The raw_json field, when present, comes first (Encode's layout).
  size_t raw_json_field_size = 0;
  {
    size_t pos = 0;
    uint64_t tag = 0;
    uint64_t length = 0;
    if (ReadVarint(logged, &pos, &tag) &&
        tag == Tag(v1::Event::kRawJsonFieldNumber, kWireLengthDelimited)) {
      if (!ReadVarint(logged, &pos, &length) || length > logged.size() - pos) {
        return absl::DataLossError("logged event: truncated raw_json field");
      }
      raw_json_field_size = pos + length;
    }
  }
  const size_t epoch_field_size = LengthDelimitedFieldSize(
      v1::Event::kStreamEpochFieldNumber, stream_epoch.size());
  const size_t size = logged.size() + epoch_field_size;
  if (size + kMaxSequenceFieldSize > kMaxByteSize) {
    return absl::DataLossError(
        absl::StrCat("logged event: ", logged.size(), " bytes is too large"));
  }
  StoredEvent event;
  event.bytes_ =
      std::make_unique_for_overwrite<char[]>(size + kMaxSequenceFieldSize);
  auto* const begin = reinterpret_cast<uint8_t*>(event.bytes_.get());
  std::memcpy(begin, logged.data(), raw_json_field_size);
  uint8_t* out =
      WriteLengthDelimitedField(v1::Event::kStreamEpochFieldNumber,
                                stream_epoch, begin + raw_json_field_size);
  const absl::string_view fields = logged.substr(raw_json_field_size);
  std::memcpy(out, fields.data(), fields.size());
  event.raw_json_field_size_ = static_cast<uint32_t>(raw_json_field_size);
  event.fields_begin_ = static_cast<uint32_t>(out - begin);
  event.size_ = event.fields_end_ =
      static_cast<uint32_t>(event.fields_begin_ + fields.size());
  if (!event.IndexFields()) {
    return absl::DataLossError("logged event: malformed fields");
  }
  if (event.id.empty()) return absl::DataLossError("logged event: no id");
  event.SetSequence(sequence);
  event.log_time = log_time;
  return event;
}

void StoredEvent::SetSequence(uint64_t new_sequence) {
  sequence = new_sequence;
  if (bytes_ == nullptr) return;  // nothing was encoded
  auto* const begin = reinterpret_cast<uint8_t*>(bytes_.get());
  uint8_t* out =
      CodedOutputStream::WriteVarint32ToArray(kSequenceTag, begin + size_);
  out = CodedOutputStream::WriteVarint64ToArray(new_sequence, out);
  size_ = static_cast<uint32_t>(out - begin);
}

size_t StoredEvent::SequenceFieldSize(uint64_t sequence) {
  return CodedOutputStream::VarintSize32(kSequenceTag) +
         CodedOutputStream::VarintSize64(sequence);
}

bool StoredEvent::IndexFields() {
  id = type = account = absl::string_view();
  const absl::string_view bytes = Fields();
  size_t pos = 0;
  while (pos < bytes.size()) {
    uint64_t tag = 0;
    if (!ReadVarint(bytes, &pos, &tag) || (tag >> 3) == 0) return false;
    switch (static_cast<uint32_t>(tag & 7)) {
      case kWireVarint: {
        uint64_t ignored = 0;
        if (!ReadVarint(bytes, &pos, &ignored)) return false;
        break;
      }
      case kWireFixed64:
        if (bytes.size() - pos < 8) return false;
        pos += 8;
        break;
      case kWireFixed32:
        if (bytes.size() - pos < 4) return false;
        pos += 4;
        break;
      case kWireLengthDelimited: {
        uint64_t length = 0;
        if (!ReadVarint(bytes, &pos, &length) || length > bytes.size() - pos) {
          return false;
        }
        const absl::string_view value = bytes.substr(pos, length);
        // Last one wins, as when protobuf parses repeated singular fields.
        switch (tag >> 3) {
          case v1::Event::kIdFieldNumber:
            id = value;
            break;
          case v1::Event::kTypeFieldNumber:
            type = value;
            break;
          case v1::Event::kAccountFieldNumber:
            account = value;
            break;
          default:
            break;
        }
        pos += length;
        break;
      }
      default:
        return false;  // groups are not used by Event
    }
  }
  return true;
}

absl::string_view StoredEvent::RawJson() const {
  const absl::string_view field = RawJsonField();
  size_t pos = 0;
  uint64_t tag = 0;
  uint64_t length = 0;
  // Built by Encode, so malformed bytes mean a bug; answer empty rather than
  // read out of bounds.
  if (!ReadVarint(field, &pos, &tag) || !ReadVarint(field, &pos, &length) ||
      length > field.size() - pos) {
    return {};
  }
  return field.substr(pos, length);
}

absl::StatusOr<EncodedEvent> EncodeForAppend(v1::Event& event,
                                             absl::string_view stream_epoch,
                                             absl::Time now) {
  if (event.id().empty()) {
    return absl::InvalidArgumentError("event has an empty id");
  }
  EncodedEvent encoded{
      .event = std::make_shared<StoredEvent>(),
      .received_at = event.has_received_at()
                         ? FromProtoTimestamp(event.received_at())
                         : now};
  encoded.event->Encode(event, stream_epoch);
  return encoded;
}

v1::Event StoredEvent::ToEvent(bool include_raw_json) const {
  v1::Event event;
  const absl::string_view bytes =
      include_raw_json ? WithRawJson() : WithoutRawJson();
  if (!event.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    // Cannot fail on bytes Encode produced. It can on a journal record whose
    // checksum held but whose nested fields are not a well-formed Event
    // (FromLogged walks the top level only; found by stored_event_fuzzer):
    // then what identifies the event is the best answer.
    event.Clear();
    event.set_id(std::string(id));
    event.set_type(std::string(type));
    event.set_account(std::string(account));
  }
  event.set_sequence(sequence);
  return event;
}

}  // namespace hookstream
