// -----------------------------------------------------------------------------
// File: json_readers.h
// -----------------------------------------------------------------------------
// Tolerant readers that turn one JsonValue into one typed protobuf field.
// GETTRX's payloads are loosely typed (numbers sent as strings and strings as
// numbers, nulls everywhere, `_object` for `object`), and a delivery must
// never be refused because one field has an odd type: each reader returns
// "nothing" for a value it cannot read, the caller leaves the field unset,
// and Event.raw_json still holds the value as sent.
//
// Every reader takes the value found under a key, or nullptr when the key was
// missing, so calls chain directly on JsonValue::Find:
//
//   if (std::optional<std::string> s = ReadString(obj.Find("city")))
//     address.set_city(*std::move(s));
//   if (std::optional<google::protobuf::Timestamp> t =
//           ReadUnixTime(obj.Find("created")))
//     *customer.mutable_created() = *t;
//
// What each reader accepts (anything else, and null, yields nullopt):
//   ReadString    string as is; number → its token text (`104`, `19.78`);
//                 boolean → "true" / "false".
//   ReadBool      true/false; the strings "true" / "false" (exactly).
//   ReadInt64     a number, or a string holding a JSON number, whose value is
//                 a whole number in int64 range (`12`, "12", `1.2e1`).
//   ReadAmount    a number, or a string holding a JSON number; see money.h.
//   ReadUnixTime  like ReadInt64 but fractions allowed: unix seconds, or unix
//                 milliseconds when |whole part| >= 10^12 (13+ digits; as
//                 seconds that would be past the year 9999, so the rule never
//                 misreads a valid seconds value). Results outside
//                 google.protobuf.Timestamp's range (years 1..9999) yield
//                 nullopt.
//   ReadObject    the value itself when it is an object (then use
//                 ToProtoStruct to carry it as a google.protobuf.Struct).
//
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/conversion/json_value.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "hookstream/v1/gettrx.pb.h"

namespace hookstream {

// Offset of the first byte that does not start a well-formed UTF-8 sequence
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or
// nullopt when all of `bytes` is valid UTF-8.
std::optional<size_t> FindInvalidUtf8(absl::string_view bytes);

std::optional<std::string> ReadString(const JsonValue* value);
std::optional<bool> ReadBool(const JsonValue* value);
std::optional<int64_t> ReadInt64(const JsonValue* value);
std::optional<v1::Amount> ReadAmount(const JsonValue* value);
std::optional<google::protobuf::Timestamp> ReadUnixTime(const JsonValue* value);
const JsonValue* ReadObject(const JsonValue* value);

// The kind an object names for itself: its `object` member, else its
// `_object` member (GETTRX uses both), when that is a non-empty string;
// otherwise empty.
absl::string_view ReadObjectKind(const JsonValue& object);

// Converts any JSON value to google.protobuf.Value. Numbers become doubles
// (Struct has no other numeric type); a number a double cannot hold (e.g.
// the underflowing `1e-400`) keeps its text as a string_value. Duplicate keys:
// the last one wins. Recursion is bounded by the parser's depth limit.
void ToProtoValue(const JsonValue& value, google::protobuf::Value* out);

// Adds the members of `object` (which must be an object) to `out`, converted
// as by ToProtoValue.
void ToProtoStruct(const JsonValue& object, google::protobuf::Struct* out);

}  // namespace hookstream
