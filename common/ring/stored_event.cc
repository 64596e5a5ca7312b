#include "common/ring/stored_event.h"

#include <cstddef>

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

}  // namespace

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
