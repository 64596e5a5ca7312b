// -----------------------------------------------------------------------------
// File: json_value.h
// -----------------------------------------------------------------------------
// JsonValue is a small read-only JSON tree built by ParseJsonObject, which
// drives nlohmann/json's SAX parser. It exists for one reason: nlohmann's
// own tree turns numbers into int64/uint64/double, and a double cannot hold
// `19.78`. Here every number keeps its token text exactly, so money stays
// exact and a string field given a number gets the number's text.
//
// Parsing rules:
// - Strict RFC 8259 JSON: no comments, no unquoted keys, no trailing commas,
//   nothing but whitespace after the value; the body must be valid UTF-8
//   (checked before parsing, so the error names the offending byte).
// - The top-level value must be an object.
// - Containers nest at most `max_depth` levels (the top-level object is
//   level 1). The parser itself is iterative, but deeper trees would make
//   destruction, Struct conversion and protobuf parsing of the result
//   recursive without bound.
// - Duplicate keys are all kept in order; Find returns the last one, as
//   JavaScript's JSON.parse does.
// - Integer tokens are stored as their decimal text (nlohmann reports them
//   as values: `-0` becomes `0`, nothing else changes); fraction and
//   exponent tokens are stored as received.
// - A number whose magnitude overflows a double (`1e400`) is refused:
//   nlohmann's lexer converts every float token and reports overflow as an
//   error (RFC 8259 §6 lets parsers limit range). Underflow (`1e-400`) is
//   accepted and keeps its text.
//
// Example:
//   absl::StatusOr<JsonValue> root = ParseJsonObject(R"({"a": 19.78})");
//   const JsonValue* a = root->Find("a");  // a->text() == "19.78"
//
// Thread-safety: a parsed JsonValue is immutable and may be read from any
// thread. ParseJsonObject is safe to call concurrently.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookstream {

struct JsonMember;

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

  JsonValue() = default;
  explicit JsonValue(Kind kind) : kind_(kind) {}

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_array() const { return kind_ == Kind::kArray; }

  // kBool: the value.
  bool bool_value() const { return bool_value_; }
  // kString: the unescaped UTF-8 string. kNumber: the number's token text.
  const std::string& text() const { return text_; }
  // kArray: the elements in order.
  const std::vector<JsonValue>& elements() const { return elements_; }
  // kObject: the members in document order (duplicates included).
  const std::vector<JsonMember>& members() const { return members_; }

  // kObject: the value of the last member named `key`; nullptr when absent
  // or when this is not an object. Linear: GETTRX objects are small.
  const JsonValue* Find(absl::string_view key) const;

  // Lower-case name of the kind for messages: "null", "number", "object"...
  static absl::string_view KindName(Kind kind);

 private:
  friend class JsonTreeBuilder;

  Kind kind_ = Kind::kNull;
  bool bool_value_ = false;
  std::string text_;
  std::vector<JsonValue> elements_;
  std::vector<JsonMember> members_;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// How deep ParseJsonObject lets containers nest by default. 32 levels keep
// any Event built from the tree under protobuf's default recursion limit of
// 100 when a subtree is carried as a google.protobuf.Struct (each JSON level
// costs up to three message levels there); GETTRX events use about 8.
inline constexpr int kDefaultMaxJsonDepth = 32;

// Parses `body` as a strict JSON object (rules above). Every failure is
// INVALID_ARGUMENT with a precise message (byte offsets are 0-based: the
// offending byte for UTF-8, the byte where the parser noticed the error for
// malformed JSON): "body is empty", "body is not
// valid UTF-8: byte 0xff at offset 17", "malformed JSON at byte 17 (line 1,
// column 18): ...", "malformed JSON at byte 10: number overflow parsing
// '1e400'", "JSON nested deeper than 32 levels",
// "body is a JSON array, not an object". Never throws.
absl::StatusOr<JsonValue> ParseJsonObject(absl::string_view body,
                                          int max_depth = kDefaultMaxJsonDepth);

}  // namespace hookstream
