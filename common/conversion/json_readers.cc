#include "common/conversion/json_readers.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>

#include "absl/status/statusor.h"
#include "common/conversion/money.h"

namespace hookstream {
namespace {

using Kind = JsonValue::Kind;

// google.protobuf.Timestamp's documented range: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;
constexpr int64_t kMillisecondsThreshold = 1'000'000'000'000;

// The text of a number, or of a string that may hold one.
std::optional<absl::string_view> NumericText(const JsonValue* value) {
  if (value == nullptr) return std::nullopt;
  if (value->kind() == Kind::kNumber || value->kind() == Kind::kString) {
    return value->text();
  }
  return std::nullopt;
}

}  // namespace

std::optional<size_t> FindInvalidUtf8(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, eight bytes at a time.
    if (i + 8 <= n) {
      uint64_t chunk;
      std::memcpy(&chunk, p + i, sizeof(chunk));
      if ((chunk & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Lead byte → sequence length and the allowed range of the second byte
    // (RFC 3629 table 4); later continuation bytes are always 80..BF.
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;  // no UTF-16 surrogates
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return std::nullopt;
}

std::optional<std::string> ReadString(const JsonValue* value) {
  if (value == nullptr) return std::nullopt;
  switch (value->kind()) {
    case Kind::kString:
    case Kind::kNumber:
      return std::string(value->text());
    case Kind::kBool:
      return std::string(value->bool_value() ? "true" : "false");
    case Kind::kNull:
    case Kind::kArray:
    case Kind::kObject:
      break;
  }
  return std::nullopt;
}

std::optional<bool> ReadBool(const JsonValue* value) {
  if (value == nullptr) return std::nullopt;
  if (value->kind() == Kind::kBool) return value->bool_value();
  if (value->kind() == Kind::kString) {
    if (value->text() == "true") return true;
    if (value->text() == "false") return false;
  }
  return std::nullopt;
}

std::optional<int64_t> ReadInt64(const JsonValue* value) {
  const std::optional<absl::string_view> text = NumericText(value);
  if (!text) return std::nullopt;
  const absl::StatusOr<UnitsAndNanos> parsed = ParseDecimal(*text);
  if (!parsed.ok() || parsed->nanos != 0 || parsed->truncated) {
    return std::nullopt;
  }
  return parsed->units;
}

std::optional<v1::Amount> ReadAmount(const JsonValue* value) {
  const std::optional<absl::string_view> text = NumericText(value);
  if (!text) return std::nullopt;
  return MakeAmount(*text);
}

std::optional<google::protobuf::Timestamp> ReadUnixTime(
    const JsonValue* value) {
  const std::optional<absl::string_view> text = NumericText(value);
  if (!text) return std::nullopt;
  const absl::StatusOr<UnitsAndNanos> parsed = ParseDecimal(*text);
  if (!parsed.ok()) return std::nullopt;
  int64_t seconds = parsed->units;
  int64_t nanos = parsed->nanos;  // same sign as units
  if (seconds >= kMillisecondsThreshold || seconds <= -kMillisecondsThreshold) {
    // Milliseconds. `nanos` is then billionths of a millisecond, i.e.
    // nanos / 1000 nanoseconds.
    const int64_t millis = seconds;
    seconds = millis / 1000;
    nanos = (millis % 1000) * 1'000'000 + nanos / 1000;
  }
  // Timestamp wants 0 <= nanos < 10^9.
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1'000'000'000;
  }
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds) {
    return std::nullopt;
  }
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(nanos));
  return ts;
}

const JsonValue* ReadObject(const JsonValue* value) {
  return value != nullptr && value->is_object() ? value : nullptr;
}

absl::string_view ReadObjectKind(const JsonValue& object) {
  for (absl::string_view key : {"object", "_object"}) {
    const JsonValue* kind = object.Find(key);
    if (kind != nullptr && kind->kind() == Kind::kString &&
        !kind->text().empty()) {
      return kind->text();
    }
  }
  return {};
}

void ToProtoValue(const JsonValue& value, google::protobuf::Value* out) {
  switch (value.kind()) {
    case Kind::kNull:
      out->set_null_value(google::protobuf::NULL_VALUE);
      return;
    case Kind::kBool:
      out->set_bool_value(value.bool_value());
      return;
    case Kind::kNumber: {
      const absl::string_view text = value.text();
      double d = 0;
      const auto [end, ec] =
          std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec == std::errc() && end == text.data() + text.size() &&
          std::isfinite(d)) {
        out->set_number_value(d);
      } else {
        out->set_string_value(std::string(text));
      }
      return;
    }
    case Kind::kString:
      out->set_string_value(std::string(value.text()));
      return;
    case Kind::kArray: {
      google::protobuf::ListValue* list = out->mutable_list_value();
      list->mutable_values()->Reserve(
          static_cast<int>(value.elements().size()));
      for (const JsonValue& element : value.elements()) {
        ToProtoValue(element, list->add_values());
      }
      return;
    }
    case Kind::kObject:
      ToProtoStruct(value, out->mutable_struct_value());
      return;
  }
}

void ToProtoStruct(const JsonValue& object, google::protobuf::Struct* out) {
  auto& fields = *out->mutable_fields();
  for (const JsonMember& member : object.members()) {
    // A repeated key replaces the earlier value entirely (last wins).
    google::protobuf::Value& slot = fields[std::string(member.key)];
    slot.Clear();
    ToProtoValue(member.value, &slot);
  }
}

}  // namespace hookstream
