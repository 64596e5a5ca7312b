#include "common/ring/stored_event.h"

#include <cstddef>
#include <optional>
#include <utility>

namespace hookstream {
namespace {

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

constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireFixed64 = 1;
constexpr uint32_t kWireLengthDelimited = 2;
constexpr uint32_t kWireFixed32 = 5;

// `view`'s offset inside `bytes`, or nullopt when it points elsewhere (an
// empty view is "elsewhere": it needs no re-pointing).
std::optional<size_t> OffsetIn(absl::string_view view,
                               const std::string& bytes) {
  if (view.empty()) return std::nullopt;
  const char* const begin = bytes.data();
  if (view.data() < begin || view.data() + view.size() > begin + bytes.size()) {
    return std::nullopt;
  }
  return static_cast<size_t>(view.data() - begin);
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
  copy.received_at = other.received_at;
  copy.append_time = other.append_time;
  copy.event_bytes = other.event_bytes;
  copy.raw_json_field = other.raw_json_field;
  // Views into other.event_bytes move to the copy's; others stay as they are.
  auto repoint = [&](absl::string_view view) -> absl::string_view {
    const std::optional<size_t> offset = OffsetIn(view, other.event_bytes);
    if (!offset) return view;
    return absl::string_view(copy.event_bytes).substr(*offset, view.size());
  };
  copy.id = repoint(other.id);
  copy.type = repoint(other.type);
  copy.account = repoint(other.account);
  return *this = std::move(copy);
}

StoredEvent& StoredEvent::operator=(StoredEvent&& other) noexcept {
  if (this == &other) return *this;
  const std::optional<size_t> id_at = OffsetIn(other.id, other.event_bytes);
  const std::optional<size_t> type_at = OffsetIn(other.type, other.event_bytes);
  const std::optional<size_t> account_at =
      OffsetIn(other.account, other.event_bytes);
  sequence = other.sequence;
  received_at = other.received_at;
  append_time = other.append_time;
  // A moved short string is copied, not stolen: re-point by offset.
  event_bytes = std::move(other.event_bytes);
  raw_json_field = std::move(other.raw_json_field);
  const absl::string_view bytes = event_bytes;
  id = id_at ? bytes.substr(*id_at, other.id.size()) : other.id;
  type = type_at ? bytes.substr(*type_at, other.type.size()) : other.type;
  account = account_at ? bytes.substr(*account_at, other.account.size())
                       : other.account;
  other.id = other.type = other.account = absl::string_view();
  return *this;
}

void StoredEvent::IndexFields() {
  id = type = account = absl::string_view();
  const absl::string_view bytes = event_bytes;
  size_t pos = 0;
  while (pos < bytes.size()) {
    uint64_t tag = 0;
    if (!ReadVarint(bytes, &pos, &tag)) return;
    switch (static_cast<uint32_t>(tag & 7)) {
      case kWireVarint: {
        uint64_t ignored = 0;
        if (!ReadVarint(bytes, &pos, &ignored)) return;
        break;
      }
      case kWireFixed64:
        pos += 8;
        break;
      case kWireFixed32:
        pos += 4;
        break;
      case kWireLengthDelimited: {
        uint64_t length = 0;
        if (!ReadVarint(bytes, &pos, &length) || length > bytes.size() - pos) {
          return;
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
        return;  // groups are not used by Event; bytes the ring built
    }
  }
}

absl::string_view StoredEvent::RawJson() const {
  const absl::string_view field = raw_json_field;
  size_t pos = 0;
  uint64_t tag = 0;
  uint64_t length = 0;
  // Built by EventRing::Append, so malformed bytes mean a bug; answer empty
  // rather than read out of bounds.
  if (!ReadVarint(field, &pos, &tag) || !ReadVarint(field, &pos, &length) ||
      length > field.size() - pos) {
    return {};
  }
  return field.substr(pos, length);
}

v1::Event StoredEvent::ToEvent(bool include_raw_json) const {
  v1::Event event;
  // Cannot fail on bytes EventRing produced; a partial event is the best
  // answer if it ever did.
  (void)event.ParseFromString(event_bytes);
  if (include_raw_json) event.set_raw_json(std::string(RawJson()));
  return event;
}

}  // namespace hookstream
